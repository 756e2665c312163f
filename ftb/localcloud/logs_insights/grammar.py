"""The Logs Insights query language (the subset this engine runs), as a lark LALR grammar.

Commands are separated by `|`; `#` starts a comment. Regular expressions are `/.../` literals,
accepted only where the language takes a pattern (after `like`, `=~`, in `parse`), so the
contextual lexer never confuses them with division. Keywords are case-insensitive.
"""

_GRAMMAR = r"""
start: command ("|" command)*

?command: fields_cmd | display_cmd | filter_cmd | parse_cmd | sort_cmd | limit_cmd
        | stats_cmd | dedup_cmd

fields_cmd: FIELDS field_item ("," field_item)*
field_item: expr (_AS name)?
display_cmd: DISPLAY name ("," name)*
filter_cmd: FILTER expr
parse_cmd: PARSE name? STRING _AS name ("," name)*   -> parse_glob
         | PARSE name? REGEX                           -> parse_regex
sort_cmd: SORT sort_key ("," sort_key)*
sort_key: name DIRECTION?
limit_cmd: LIMIT INT
stats_cmd: STATS agg_item ("," agg_item)* (_BY group_item ("," group_item)*)?
agg_item: agg_call (_AS name)?
agg_call: FUNC_NAME "(" agg_args? ")"
agg_args: STAR | expr ("," expr)*
group_item: expr (_AS name)?
dedup_cmd: DEDUP name ("," name)*

?expr: or_expr
?or_expr: and_expr (_OR and_expr)*
?and_expr: not_expr (_AND not_expr)*
?not_expr: _NOT not_expr             -> not_
         | comparison
?comparison: sum
           | sum COMP_OP sum         -> compare
           | sum _LIKE pattern       -> like
           | sum _NOT _LIKE pattern  -> not_like
           | sum REGEX_MATCH REGEX    -> regex_match
           | sum _IN list            -> in_
           | sum _NOT _IN list       -> not_in
?sum: product (ADD_OP product)*
?product: power (MUL_OP power)*
?power: unary ("^" unary)?
?unary: "-" unary                    -> neg
      | atom
?atom: NUMBER                        -> number
     | STRING                        -> string
     | name                          -> field
     | call
     | "(" expr ")"
call: FUNC_NAME "(" (arg ("," arg)*)? ")"
    | BIN "(" DURATION ")"          -> bin_call
?arg: expr | DURATION -> duration
pattern: REGEX | STRING
list: "[" (literal ("," literal)*)? "]"
?literal: NUMBER -> number
        | STRING -> string
        | "-" NUMBER -> neg_number
name: NAME | BACKTICKED

// Keywords: whole words, ahead of names and function names.
FIELDS.3: /fields(?![\w@.])/i
DISPLAY.3: /display(?![\w@.])/i
FILTER.3: /filter(?![\w@.])/i
PARSE.3: /parse(?![\w@.])/i
SORT.3: /sort(?![\w@.])/i
LIMIT.3: /limit(?![\w@.])/i
STATS.3: /stats(?![\w@.])/i
DEDUP.3: /dedup(?![\w@.])/i
BIN.3: /bin(?=\s*\()/i
_AS.3: /as(?![\w@.])/i
_BY.3: /by(?![\w@.])/i
_AND.3: /and(?![\w@.])/i
_OR.3: /or(?![\w@.])/i
_NOT.3: /not(?![\w@.])/i
_LIKE.3: /like(?![\w@.])/i
_IN.3: /in(?![\w@.])/i
DIRECTION.3: /(asc|desc)(?![\w@.])/i
REGEX_MATCH.2: "=~"
COMP_OP: "=" | "!=" | "<=" | ">=" | "<" | ">"
ADD_OP: "+" | "-"
MUL_OP: "*" | "/" | "%"
STAR: "*"

FUNC_NAME.2: /[A-Za-z_][A-Za-z0-9_]*(?=\s*\()/
NAME: /@?[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_@$-]+)*/
BACKTICKED: /`[^`]+`/
DURATION.3: /\d+(?:{units})s?(?![A-Za-z0-9_])/
NUMBER: /\d+(\.\d+)?([eE][+-]?\d+)?/
INT: /\d+/
STRING: /"(?:[^"\\]|\\.)*"/ | /'(?:[^'\\]|\\.)*'/
REGEX: /\/(?:[^\/\\\n]|\\.)+\//

COMMENT: /#[^\n]*/
%import common.WS
%ignore WS
%ignore COMMENT
"""

# bin()/datefloor() period units (CWL_QuerySyntax-Stats), longest first; a plural "s" may follow.
_UNITS = (
    "millisecond|msec|ms|second|sec|s|minute|min|m|hour|hr|h|day|d|week|w"
    "|month|mon|mo|quarter|qtr|q|year|yr|y"
)
GRAMMAR = _GRAMMAR.replace("{units}", _UNITS)
