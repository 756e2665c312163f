"""Query text -> `Query`, with lark (LALR, contextual lexer) and a tree walk that checks what
the grammar cannot: known functions, argument counts, limits, parse patterns.

Every problem is a `MalformedQuery` naming the command and the line/position, as AWS's
MalformedQueryException does; nothing is dropped or guessed.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from ftb.localcloud.logs_insights import expressions as ex
from ftb.localcloud.logs_insights import query as q
from ftb.localcloud.logs_insights.errors import MalformedQuery, line_and_position
from ftb.localcloud.logs_insights.functions import AGGREGATES, SCALARS, period_ms
from ftb.localcloud.logs_insights.grammar import GRAMMAR

MAX_QUERY_LENGTH = 10_000  # StartQuery's queryString limit (API_StartQuery)
MAX_LIMIT = 10_000  # the `limit` command's maximum


@lru_cache(maxsize=1)
def _lark() -> Lark:
    return Lark(GRAMMAR, parser="lalr", lexer="contextual", propagate_positions=True)


def parse_query(text: str) -> q.Query:
    if not text.strip():
        raise MalformedQuery("the query is empty", 0, 0)
    try:
        tree = _lark().parse(text)
    except UnexpectedInput as error:
        raise _syntax_error(text, error) from None
    builder = _Builder(text)
    return q.Query(
        text, [builder.command(child) for child in tree.children if isinstance(child, Tree)]
    )


# -- syntax errors ----------------------------------------------------------------------------

_WORD = re.compile(r"\s*([A-Za-z_]+)")


def command_at(text: str, offset: int) -> str:
    """The command (its first word) the character at `offset` belongs to."""
    start, quote, index = 0, "", 0
    while index < min(offset, len(text)):
        char = text[index]
        if quote:
            if char == "\\":
                index += 1
            elif char == quote:
                quote = ""
        elif char in "\"'`":
            quote = char
        elif char == "/" and re.search(r"(like|=~)\s*$", text[:index], re.IGNORECASE):
            quote = "/"
        elif char == "#":
            newline = text.find("\n", index)
            index = len(text) if newline < 0 else newline
        elif char == "|":
            start = index + 1
        index += 1
    match = _WORD.match(text, start)
    return match[1].lower() if match else "query"


def _syntax_error(text: str, error: UnexpectedInput) -> MalformedQuery:
    if isinstance(error, UnexpectedEOF):
        offset = len(text)
        found = "end of query"
    elif isinstance(error, UnexpectedToken):
        token = error.token
        at_end = token.type == "$END" or token.start_pos is None
        offset = len(text) if at_end else int(token.start_pos or 0)
        found = "end of query" if at_end else f"symbol {token.value!r}"
    elif isinstance(error, UnexpectedCharacters):
        offset = int(error.pos_in_stream or 0)
        found = f"symbol {text[offset]!r}"
    else:  # pragma: no cover - lark raises only the three above
        offset, found = 0, "input"
    line, position = line_and_position(text, offset)
    command = command_at(text, offset)
    if command == "query":
        return MalformedQuery(
            f"unexpected {found} at line {line} and position {position}: a command is missing",
            offset,
            offset + 1,
        )
    if command not in _COMMANDS:
        message = (
            f"unexpected symbol found {command!r} at line {line} and position {position}: "
            f"not a command this local Logs Insights runs ({', '.join(sorted(_COMMANDS))})"
        )
        return MalformedQuery(message, offset, offset + len(command))
    message = f"unexpected {found} at line {line} and position {position} in the {command} command"
    return MalformedQuery(message, offset, offset + 1)


_COMMANDS = {"fields", "display", "filter", "parse", "sort", "limit", "stats", "dedup"}


# -- tree -> query ----------------------------------------------------------------------------


def _unquote(token: str) -> str:
    body = token[1:-1]
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t", "r": "\r"}.get(m[1], m[1]), body)


def _regex(token: str, text: str, where: tuple[int, int], command: str) -> re.Pattern[str]:
    """An Insights /regex/ as a Python pattern: Java-style named groups (?<name>...) become
    (?P<name>...)."""
    source = token[1:-1].replace("\\/", "/")
    source = re.sub(r"\(\?<(?=[A-Za-z_])", "(?P<", source)
    try:
        return re.compile(source)
    except re.error as error:
        line, position = line_and_position(text, where[0])
        raise MalformedQuery(
            f"invalid regular expression in the {command} command at line {line} and "
            f"position {position}: {error}",
            *where,
        ) from None


class _Builder:
    def __init__(self, text: str) -> None:
        self.text = text
        self.command_name = "query"

    # positions and errors

    def span(self, node: Tree | Token) -> tuple[int, int]:
        if isinstance(node, Token):
            start = node.start_pos or 0
            return start, node.end_pos if node.end_pos is not None else start
        return node.meta.start_pos, node.meta.end_pos

    def source(self, node: Tree | Token) -> str:
        start, end = self.span(node)
        return self.text[start:end]

    def refuse(self, node: Tree | Token, problem: str) -> MalformedQuery:
        start, end = self.span(node)
        line, position = line_and_position(self.text, start)
        return MalformedQuery(
            f"{problem} at line {line} and position {position} in the {self.command_name} command",
            start,
            end,
        )

    # commands

    def command(self, node: Tree) -> q.Command:
        keyword = str(node.children[0]).lower()
        self.command_name = keyword
        start, end = self.span(node)
        args = node.children[1:]
        kind = node.data
        if kind == "fields_cmd":
            return q.Fields(keyword, start, end, [self.named(item) for item in args])
        if kind == "display_cmd":
            return q.Display(keyword, start, end, [self.name(item) for item in args])
        if kind == "filter_cmd":
            return q.Filter(keyword, start, end, self.expr(args[0]))
        if kind == "parse_glob":
            return self.parse_glob(node, keyword, start, end, args)
        if kind == "parse_regex":
            return self.parse_regex(node, keyword, start, end, args)
        if kind == "sort_cmd":
            keys = []
            for key in args:
                name = self.name(key.children[0])
                direction = str(key.children[1]).lower() if len(key.children) > 1 else "desc"
                keys.append((name, direction == "desc"))
            return q.Sort(keyword, start, end, keys)
        if kind == "limit_cmd":
            count = int(str(args[0]))
            if not 0 < count <= MAX_LIMIT:
                raise self.refuse(args[0], f"limit must be between 1 and {MAX_LIMIT}")
            return q.Limit(keyword, start, end, count)
        if kind == "stats_cmd":
            aggregates = [self.aggregate(item) for item in args if item.data == "agg_item"]
            groups = [self.named(item) for item in args if item.data == "group_item"]
            return q.Stats(keyword, start, end, aggregates, groups)
        if kind == "dedup_cmd":
            return q.Dedup(keyword, start, end, [self.name(item) for item in args])
        raise self.refuse(node, f"unsupported command {keyword!r}")  # pragma: no cover

    def parse_source(self, args: list[Any]) -> tuple[str, list[Any]]:
        """`parse FIELD ...` names its source field; without one, it parses @message."""
        if isinstance(args[0], Tree):
            return self.name(args[0]), args[1:]
        return "@message", args

    def parse_glob(
        self, node: Tree, keyword: str, start: int, end: int, args: list[Any]
    ) -> q.Parse:
        source, args = self.parse_source(args)
        pattern_token, names = args[0], [self.name(item) for item in args[1:]]
        glob = _unquote(str(pattern_token))
        stars = glob.count("*")
        if stars == 0 or stars != len(names):
            raise self.refuse(
                pattern_token,
                f"the pattern has {stars} '*' but {len(names)} names follow 'as'",
            )
        parts = [re.escape(part) for part in glob.split("*")]
        # Each * captures as little as it can, but the last one (when it ends the pattern)
        # takes the rest of the value.
        regex = ""
        for index, part in enumerate(parts[:-1]):
            last = index == len(parts) - 2 and parts[-1] == ""
            regex += part + ("(.*)" if last else "(.*?)")
        regex += parts[-1]
        return q.Parse(keyword, start, end, source, re.compile(regex, re.DOTALL), names)

    def parse_regex(
        self, node: Tree, keyword: str, start: int, end: int, args: list[Any]
    ) -> q.Parse:
        source, args = self.parse_source(args)
        pattern = _regex(str(args[0]), self.text, self.span(args[0]), keyword)
        names = list(pattern.groupindex)
        if not names:
            raise self.refuse(args[0], "the parse regular expression has no named group")
        return q.Parse(keyword, start, end, source, pattern, names)

    def aggregate(self, node: Tree) -> q.Aggregate:
        call = node.children[0]
        alias = self.name(node.children[1]) if len(node.children) > 1 else None
        function_token = call.children[0]
        function = str(function_token).lower()
        if function not in AGGREGATES:
            raise self.refuse(
                function_token,
                f"unsupported stats function {str(function_token)!r} "
                f"(this local Logs Insights runs {', '.join(sorted(AGGREGATES))})",
            )
        arguments = call.children[1].children if len(call.children) > 1 else []
        star = len(arguments) == 1 and isinstance(arguments[0], Token) and arguments[0] == "*"
        low, high = AGGREGATES[function]
        if star and function != "count":
            raise self.refuse(call, f"{function}(*) is not valid: {function} takes a field")
        count = 0 if star else len(arguments)
        if function == "count" and count == 0 and not star:
            raise self.refuse(call, "count() needs * or a field")
        if not low <= count <= high:
            raise self.refuse(call, f"{function} takes {low} to {high} arguments, not {count}")
        name = alias or self.source(call).strip()
        argument = None if star or count == 0 else self.expr(arguments[0])
        percentile = 0.0
        if function == "pct":
            value = self.expr(arguments[1])
            if not isinstance(value, ex.Literal) or not isinstance(value.value, int | float):
                raise self.refuse(arguments[1], "pct takes a number from 0 to 100")
            percentile = float(value.value)
            if not 0 <= percentile <= 100:
                raise self.refuse(arguments[1], "pct takes a number from 0 to 100")
        return q.Aggregate(name, function, argument, percentile)

    # names and expressions

    def name(self, node: Tree | Token) -> str:
        token = node.children[0] if isinstance(node, Tree) else node
        text = str(token)
        backticked = isinstance(token, Token) and token.type == "BACKTICKED"
        return text[1:-1] if backticked else text

    def named(self, node: Tree) -> tuple[str, ex.Expr]:
        expression = self.expr(node.children[0])
        if len(node.children) > 1:
            return self.name(node.children[1]), expression
        if isinstance(expression, ex.Field):
            return expression.name, expression
        return self.source(node.children[0]).strip(), expression

    def expr(self, node: Tree | Token) -> ex.Expr:
        if isinstance(node, Token):
            raise self.refuse(node, f"unexpected {str(node)!r}")  # pragma: no cover
        kind, children = node.data, node.children
        if kind == "number":
            text = str(children[0])
            return ex.Literal(float(text) if re.search(r"[.eE]", text) else int(text))
        if kind == "neg_number":
            return ex.Negate(self.expr(Tree("number", children, node.meta)))
        if kind == "string":
            return ex.Literal(_unquote(str(children[0])))
        if kind == "field":
            return ex.Field(self.name(children[0]))
        if kind == "neg":
            return ex.Negate(self.expr(children[0]))
        if kind == "call":
            return self.call(node)
        if kind == "bin_call":
            period = period_ms(str(children[2] if len(children) > 2 else children[1]))
            if period is None:
                raise self.refuse(node, "bin() takes a period such as 5m, 1h or 1d")
            return ex.Bin(period)
        if kind == "duration":
            raise self.refuse(node, f"a period ({self.source(node)}) is not a value here")
        return self.operation(node)

    def operation(self, node: Tree) -> ex.Expr:
        """An operator's expression: arithmetic, comparison, matching, boolean logic."""
        kind, children = node.data, node.children
        if kind in {"sum", "product"}:
            result = self.expr(children[0])
            for op, operand in zip(children[1::2], children[2::2], strict=True):
                result = ex.Arithmetic(str(op), result, self.expr(operand))
            return result
        if kind == "power":
            return ex.Arithmetic("^", self.expr(children[0]), self.expr(children[1]))
        if kind == "compare":
            return ex.Compare(str(children[1]), self.expr(children[0]), self.expr(children[2]))
        if kind in {"like", "not_like"}:
            return self.match(children[0], children[1].children[0], kind == "not_like")
        if kind == "regex_match":
            return self.match(children[0], children[2], False)
        if kind in {"in_", "not_in"}:
            values = [self.literal(item) for item in children[1].children]
            return ex.InList(self.expr(children[0]), values, kind == "not_in")
        if kind == "or_expr":
            return ex.Or([self.expr(child) for child in children])
        if kind == "and_expr":
            return ex.And([self.expr(child) for child in children])
        if kind == "not_":
            return ex.Not(self.expr(children[0]))
        raise self.refuse(node, f"unsupported expression {self.source(node)!r}")

    def literal(self, node: Tree) -> Any:
        value = self.expr(node)
        if isinstance(value, ex.Negate) and isinstance(value.operand, ex.Literal):
            return -value.operand.value
        assert isinstance(value, ex.Literal)
        return value.value

    def match(self, operand: Tree, pattern: Any, negate: bool) -> ex.Expr:
        if pattern.type == "REGEX":
            compiled = _regex(str(pattern), self.text, self.span(pattern), self.command_name)
            return ex.Match(self.expr(operand), compiled, None, negate)
        return ex.Match(self.expr(operand), None, _unquote(str(pattern)), negate)

    def call(self, node: Tree) -> ex.Expr:
        name_token, *arguments = node.children
        name = str(name_token).lower()
        spec = SCALARS.get(name)
        if spec is None:
            if name in AGGREGATES:
                raise self.refuse(name_token, f"{name}() is a stats function: use it in stats")
            raise self.refuse(name_token, f"unsupported function {str(name_token)!r}")
        count = len(arguments)
        if count < spec.min_args or (spec.max_args is not None and count > spec.max_args):
            expected = (
                str(spec.min_args)
                if spec.min_args == spec.max_args
                else f"{spec.min_args} or more"
                if spec.max_args is None
                else f"{spec.min_args} to {spec.max_args}"
            )
            raise self.refuse(node, f"{name} takes {expected} arguments, not {count}")
        args: list[ex.Expr] = []
        for index, argument in enumerate(arguments):
            if index in spec.period_args:
                text = self.source(argument)
                period = period_ms(text)
                if period is None:
                    raise self.refuse(argument, f"{name} takes a period such as 5m or 1h")
                args.append(ex.Literal(period))
            else:
                args.append(self.expr(argument))
        return ex.Call(name, spec.function, args)
