"""Intrinsic functions, conditions and pseudo parameters resolved to local values.

Each provisioned resource records its `Ref` value and attributes here, and the properties
of the next resource are resolved against them. Anything the local cloud does not emulate
still gets a plausible placeholder (a name, an ARN), so that a template using it resolves
instead of crashing.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from ftb.localcloud.template.model import (
    ACCOUNT_ID,
    NO_VALUE,
    PARTITION,
    URL_SUFFIX,
    Resource,
    Template,
    TemplateError,
)


@dataclass(frozen=True)
class StackContext:
    """The values of the pseudo parameters."""

    stack_name: str
    region: str = "us-east-1"
    account_id: str = ACCOUNT_ID
    partition: str = PARTITION
    url_suffix: str = URL_SUFFIX

    @property
    def stack_id(self) -> str:
        digest = hashlib.sha256(self.stack_name.encode()).hexdigest()
        uuid = f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"
        return (
            f"arn:{self.partition}:cloudformation:{self.region}:{self.account_id}:"
            f"stack/{self.stack_name}/{uuid}"
        )

    def pseudo(self, name: str) -> Any:
        values: dict[str, Any] = {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account_id,
            "AWS::Partition": self.partition,
            "AWS::StackName": self.stack_name,
            "AWS::StackId": self.stack_id,
            "AWS::URLSuffix": self.url_suffix,
            "AWS::NotificationARNs": [],
            "AWS::NoValue": NO_VALUE,
        }
        if name not in values:
            raise TemplateError(f"unknown pseudo parameter {name}")
        return values[name]


def stable_id(*parts: str, length: int = 10) -> str:
    """A short lowercase id that stays the same across restarts (API ids, resource ids)."""
    digest = hashlib.sha256("/".join(parts).encode()).digest()
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(alphabet[b % len(alphabet)] for b in digest[:length])


# A fallback for attributes of resources the local cloud does not emulate.
FallbackAttr = Callable[[str, str], Any]


class Resolver:
    """Resolves intrinsic functions against the resources provisioned so far."""

    def __init__(
        self,
        template: Template,
        context: StackContext,
        parameters: Mapping[str, str] | None = None,
    ) -> None:
        self.template = template
        self.context = context
        self.refs: dict[str, Any] = {}
        self.attrs: dict[str, dict[str, Any]] = {}
        # Lazy attribute lookups (a resource whose attributes are only known on demand).
        self.attr_fallbacks: dict[str, FallbackAttr] = {}
        self.parameters = self._parameter_values(dict(parameters or {}))
        self._conditions: dict[str, bool] = {}
        self.warnings: list[str] = []

    # -- parameters and conditions -------------------------------------------------------

    def _parameter_values(self, given: dict[str, str]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, spec in (self.template.body.get("Parameters") or {}).items():
            kind = str(spec.get("Type", "String"))
            if name in given:
                raw = given.pop(name)
            elif kind.startswith("AWS::SSM::Parameter::Value"):
                # No SSM here: a readable placeholder stands for the value (e.g. a layer ARN).
                raw = ssm_placeholder(name, spec.get("Default"))
            else:
                raw = spec.get("Default")
            if raw is None:
                raise TemplateError(f"parameter {name} has no default; pass --parameter {name}=...")
            if "CommaDelimitedList" in kind or kind.startswith("List<"):
                values[name] = [item.strip() for item in str(raw).split(",")]
            else:
                values[name] = str(raw)
        if given:
            raise TemplateError(f"unknown parameter(s): {', '.join(sorted(given))}")
        return values

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            conditions = self.template.body.get("Conditions") or {}
            if name not in conditions:
                raise TemplateError(f"unknown condition {name}")
            self._conditions[name] = bool(self._condition_value(conditions[name]))
        return self._conditions[name]

    def _condition_value(self, value: Any) -> bool:
        if isinstance(value, dict) and len(value) == 1:
            ((fn, arg),) = value.items()
            if fn == "Fn::Equals":
                left, right = (self.resolve(item) for item in arg)
                return str(left) == str(right)
            if fn == "Fn::And":
                return all(self._condition_value(item) for item in arg)
            if fn == "Fn::Or":
                return any(self._condition_value(item) for item in arg)
            if fn == "Fn::Not":
                return not self._condition_value(arg[0])
            if fn == "Condition":
                return self.condition(arg)
        return bool(self.resolve(value))

    def is_active(self, resource: Resource) -> bool:
        return resource.condition is None or self.condition(resource.condition)

    # -- references --------------------------------------------------------------------

    def set_resource(
        self, logical_id: str, ref: Any, attrs: Mapping[str, Any] | None = None
    ) -> None:
        self.refs[logical_id] = ref
        self.attrs[logical_id] = dict(attrs or {})

    def ref(self, name: str) -> Any:
        if name.startswith("AWS::"):
            return self.context.pseudo(name)
        if name in self.parameters:
            return self.parameters[name]
        if name in self.refs:
            return self.refs[name]
        if name in self.template.body.get("Resources", {}):
            raise TemplateError(f"Ref {name} before it was provisioned (dependency order)")
        raise TemplateError(f"Ref to unknown name {name}")

    def get_att(self, logical_id: str, attribute: str) -> Any:
        attrs = self.attrs.get(logical_id)
        if attrs is None:
            if logical_id in self.template.body.get("Resources", {}):
                raise TemplateError(f"GetAtt {logical_id}.{attribute} before it was provisioned")
            raise TemplateError(f"GetAtt to unknown resource {logical_id}")
        if attribute in attrs:
            return attrs[attribute]
        fallback = self.attr_fallbacks.get(logical_id)
        if fallback is not None:
            value = fallback(logical_id, attribute)
            attrs[attribute] = value
            return value
        raise TemplateError(f"{logical_id} has no attribute {attribute} locally")

    # -- resolution --------------------------------------------------------------------

    def resolve(self, value: Any) -> Any:
        """Resolve every intrinsic function in `value`; `AWS::NoValue` entries are removed."""
        if isinstance(value, list):
            items = (self.resolve(item) for item in value)
            return [item for item in items if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            handler = self._FUNCTIONS.get(key)
            if handler is not None:
                return handler(self, arg)
        out = {}
        for key, item in value.items():
            resolved = self.resolve(item)
            if resolved is not NO_VALUE:
                out[key] = resolved
        return out

    def _ref(self, arg: Any) -> Any:
        return self.ref(str(arg))

    def _get_att(self, arg: Any) -> Any:
        if isinstance(arg, str):
            logical_id, _, attribute = arg.partition(".")
        else:
            logical_id, attribute = arg[0], self.resolve(arg[1])
        return self.get_att(logical_id, str(attribute))

    def _join(self, arg: Any) -> str:
        delimiter, items = arg
        resolved = self.resolve(items)
        return str(delimiter).join(_text(item) for item in resolved)

    _SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")

    def _sub(self, arg: Any) -> str:
        if isinstance(arg, list):
            text, variables = arg[0], self.resolve(arg[1] if len(arg) > 1 else {})
        else:
            text, variables = arg, {}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):  # ${!Literal} is the literal ${Literal}
                return "${" + name[1:] + "}"
            if name in variables:
                return _text(variables[name])
            if "." in name and not name.startswith("AWS::"):
                logical_id, _, attribute = name.partition(".")
                return _text(self.get_att(logical_id, attribute))
            return _text(self.ref(name))

        return self._SUB_VARIABLE.sub(replace, str(text))

    def _select(self, arg: Any) -> Any:
        index, items = self.resolve(arg[0]), self.resolve(arg[1])
        try:
            return items[int(index)]
        except (IndexError, ValueError, TypeError) as error:
            raise TemplateError(f"Fn::Select {index} of {items!r}: {error}") from error

    def _split(self, arg: Any) -> list[str]:
        delimiter, text = arg[0], self.resolve(arg[1])
        return str(text).split(str(delimiter))

    def _if(self, arg: Any) -> Any:
        name, if_true, if_false = arg
        return self.resolve(if_true if self.condition(name) else if_false)

    def _find_in_map(self, arg: Any) -> Any:
        name, first, second = (self.resolve(item) for item in arg[:3])
        try:
            return self.template.body["Mappings"][name][first][second]
        except KeyError as error:
            raise TemplateError(f"Fn::FindInMap {name}/{first}/{second} not found") from error

    def _get_azs(self, arg: Any) -> list[str]:
        region = self.resolve(arg) or self.context.region
        return [f"{region}{zone}" for zone in "abc"]

    def _base64(self, arg: Any) -> str:
        return base64.b64encode(_text(self.resolve(arg)).encode()).decode()

    def _to_json_string(self, arg: Any) -> str:
        return json.dumps(self.resolve(arg), separators=(",", ":"))

    def _length(self, arg: Any) -> int:
        return len(self.resolve(arg))

    def _import_value(self, arg: Any) -> str:
        name = _text(self.resolve(arg))
        self.warnings.append(f"Fn::ImportValue {name}: other stacks are not emulated")
        return f"imported-{name}"

    def _condition_fn(self, arg: Any) -> bool:
        return self.condition(str(arg))

    def _equals(self, arg: Any) -> bool:
        return self._condition_value({"Fn::Equals": arg})

    _FUNCTIONS: ClassVar[dict[str, Callable[[Resolver, Any], Any]]] = {
        "Ref": _ref,
        "Fn::GetAtt": _get_att,
        "Fn::Join": _join,
        "Fn::Sub": _sub,
        "Fn::Select": _select,
        "Fn::Split": _split,
        "Fn::If": _if,
        "Fn::FindInMap": _find_in_map,
        "Fn::GetAZs": _get_azs,
        "Fn::Base64": _base64,
        "Fn::ToJsonString": _to_json_string,
        "Fn::Length": _length,
        "Fn::ImportValue": _import_value,
        "Condition": _condition_fn,
        "Fn::Equals": _equals,
    }


def ssm_placeholder(name: str, default: Any) -> str:
    """The value of an SSM-typed parameter locally: the parameter path it would be read from."""
    return f"local-placeholder:{default if default is not None else name}"


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def references(value: Any) -> Iterator[str]:
    """Logical ids (and parameter names) a value refers to, for the dependency order."""
    if isinstance(value, list):
        for item in value:
            yield from references(item)
        return
    if not isinstance(value, dict):
        return
    for key, arg in value.items():
        if key == "Ref" and isinstance(arg, str):
            yield arg
        elif key == "Fn::GetAtt":
            yield arg.partition(".")[0] if isinstance(arg, str) else str(arg[0])
        elif key == "Fn::Sub":
            text = arg[0] if isinstance(arg, list) else arg
            local = set(arg[1]) if isinstance(arg, list) and len(arg) > 1 else set()
            for name in Resolver._SUB_VARIABLE.findall(str(text)):
                if not name.startswith("!") and name not in local:
                    yield name.partition(".")[0]
            if isinstance(arg, list) and len(arg) > 1:
                yield from references(arg[1])
        else:
            yield from references(arg)
