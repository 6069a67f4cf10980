"""Structuring a component's YAML options into its backend's attrs options class.

Options are strictly typed: YAML already gives typed scalars, so a string
option given a list, a number or null, an integer given ``"3"`` or ``true``,
a list given a string are errors naming the YAML path and line, never
coerced (``path: ['a']`` must not become a folder named ``['a']``). The value
of an option whose name marks it secret is never echoed.

Backends state ranges with attrs validators; :func:`port_number` and
:func:`at_least` give the usual ones with clear messages.
"""

from __future__ import annotations

import collections.abc
import types
import typing
from typing import Any

import attrs
import cattrs

from flowyml.config.schema import ComponentConfig
from flowyml.config.value_kinds import describe
from flowyml.errors import ConfigError
from flowyml.redaction import is_secret_name, redact

_converter = cattrs.Converter(forbid_extra_keys=True)


def _strict(kind: type, accepts: tuple[type, ...], label: str) -> None:
    """The same rules inside cattrs, for values the pre-check does not reach."""

    def structure(value: Any, _: Any) -> Any:
        if isinstance(value, bool) and kind is not bool:
            raise ValueError(f"expected {label}, got a boolean")
        if not isinstance(value, accepts):
            raise ValueError(f"expected {label}, got {describe(value)}")
        return kind(value)

    _converter.register_structure_hook(kind, structure)


_strict(bool, (bool,), "true or false")
_strict(int, (int,), "an integer")
_strict(float, (int, float), "a number")
_strict(str, (str,), "a string")


# -- validators backends use ----------------------------------------------------------------


def port_number(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """attrs validator: a TCP port, 1-65535 (``None`` passes: "not set")."""
    if value is not None and not 1 <= value <= 65535:
        raise ValueError(f"{attribute.name} must be a port number between 1 and 65535, got {value}")


def at_least(minimum: float) -> Any:
    """attrs validator: a number not below ``minimum`` (``None`` passes: "not set")."""

    def check(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is not None and value < minimum:
            raise ValueError(f"{attribute.name} must be at least {minimum:g}, got {value}")

    return check


# -- the strict pre-check ---------------------------------------------------------------------


def _label(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if tp is str:
        return "a string"
    if tp is bool:
        return "true or false"
    if tp is int:
        return "an integer"
    if tp is float:
        return "a number"
    if tp is type(None):
        return "null"
    if origin is typing.Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(tp))
    if origin in (typing.Union, types.UnionType):
        # "X | None" reads as X: leaving an option out (or null) means "not set"
        shown = [a for a in typing.get_args(tp) if a is not type(None)] or [type(None)]
        return " or ".join(_label(a) for a in shown)
    if origin in (list, tuple, set, frozenset, collections.abc.Sequence) or tp in (list, tuple):
        return "a list"
    if origin in (dict, collections.abc.Mapping) or tp is dict:
        return "a mapping"
    return getattr(tp, "__name__", str(tp))


def _problem(value: Any, tp: Any) -> str | None:
    """Why ``value`` (as YAML gave it) is not a ``tp``, or None when it is (or ``tp`` is not checked)."""
    if tp is Any or tp is object or isinstance(tp, typing.TypeVar):
        return None
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        return None if any(_problem(value, a) is None for a in args) else f"expected {_label(tp)}, got {describe(value)}"
    if origin is typing.Literal:
        return None if any(value == a and type(value) is type(a) for a in args) else f"expected {_label(tp)}, got {describe(value)}"
    if tp is type(None):
        return None if value is None else f"expected null, got {describe(value)}"
    if tp is bool:
        return None if isinstance(value, bool) else f"expected true or false, got {describe(value)}"
    if tp is int:
        return None if isinstance(value, int) and not isinstance(value, bool) else f"expected an integer, got {describe(value)}"
    if tp is float:
        return None if isinstance(value, int | float) and not isinstance(value, bool) else f"expected a number, got {describe(value)}"
    if tp is str:
        return None if isinstance(value, str) else f"expected a string, got {describe(value)}"
    if origin in (list, tuple, set, frozenset, collections.abc.Sequence) or tp in (list, tuple):
        if not isinstance(value, list):
            return f"expected a list, got {describe(value)}"
        item_types = [a for a in args if a is not Ellipsis]
        if len(item_types) == 1 or (origin is tuple and len(args) == 2 and args[1] is Ellipsis):
            for index, item in enumerate(value):
                inner = _problem(item, item_types[0])
                if inner:
                    return f"item {index}: {inner}"
        return None
    if origin in (dict, collections.abc.Mapping) or tp is dict:
        if not isinstance(value, dict):
            return f"expected a mapping, got {describe(value)}"
        if len(args) == 2:
            for key, item in value.items():
                inner = _problem(key, args[0]) or _problem(item, args[1])
                if inner:
                    return f"entry {key!r}: {inner}"
        return None
    if isinstance(tp, type) and attrs.has(tp):
        return None if isinstance(value, dict) else f"expected a mapping, got {describe(value)}"
    return None


def _field_types(options_cls: type[Any]) -> dict[str, tuple[Any, str]]:
    """YAML name -> (resolved type, attribute name) for an attrs options class."""
    try:
        hints = typing.get_type_hints(options_cls)
    except Exception:  # unresolvable annotations: leave it to cattrs
        hints = {}
    out = {}
    for field in attrs.fields(options_cls):
        tp = hints.get(field.name, field.type)
        if isinstance(tp, str):
            continue
        out[field.alias or field.name] = (tp, field.name)
    return out


def check_types(options_cls: type[Any], raw: dict[str, Any], component: ComponentConfig) -> tuple[str, str] | None:
    """The first (option, message) whose value does not have the option's type."""
    if not attrs.has(options_cls):
        return None
    fields = _field_types(options_cls)
    for name, value in raw.items():
        known = fields.get(name)
        if known is None:
            continue  # unknown names are reported by cattrs (with the list of options)
        message = _problem(value, known[0])
        if message:
            if is_secret_name(name):
                message = message.split(", got ")[0] + f", got {_kind_only(value)} (not shown: a secret option)"
            return name, message
    return None


def _kind_only(value: Any) -> str:
    return describe(value).split(" (")[0].split(" '")[0] if not isinstance(value, str) else "a string"


# -- structuring ---------------------------------------------------------------------------------


def _format_exception(exc: BaseException, type_: Any) -> str:
    """Keep the backend's own words (validators, our strict hooks); cattrs' wording otherwise."""
    from cattrs.v import format_exception

    if isinstance(exc, ValueError | TypeError) and str(exc):  # (a ForbiddenExtraKeysError is neither: cattrs words it)
        text = str(exc)
        if not text.startswith(("int()", "float()", "could not convert")):
            return text
    return format_exception(exc, type_)


def _expected(cls: type[Any]) -> str:
    if not attrs.has(cls) or not attrs.fields(cls):
        return "(it takes no options)"
    hints = {name: tp for name, (tp, _) in _field_types(cls).items()}
    parts = []
    for field in attrs.fields(cls):
        name = field.alias or field.name
        tp = hints.get(name, field.type)
        kind = getattr(tp, "__name__", None) or str(tp)
        required = field.default is attrs.NOTHING
        parts.append(f"{name}: {kind}{' (required)' if required else ''}")
    return "; ".join(parts)


def structure_options(
    options_cls: type[Any], raw: dict[str, Any], component: ComponentConfig, *, lines: dict[str, int], file: str | None
) -> Any:
    """Build ``options_cls`` from ``raw``; errors name the YAML path, the line and what was expected."""
    hint = f"{component.type} options are: {_expected(options_cls)}" if attrs.has(options_cls) else None
    wrong = check_types(options_cls, raw, component)
    if wrong is not None:
        name, message = wrong
        path = f"{component.path}.{name}"
        raise ConfigError(
            redact(f"invalid option for {component.kind.label} type {component.type!r}: {message}"),
            path=path,
            line=lines.get(path) or lines.get(component.path),
            file=file,
            hint=hint,
        )
    try:
        return _converter.structure(raw, options_cls)
    except cattrs.ClassValidationError as exc:
        messages = cattrs.transform_error(exc, path="$", format_exception=_format_exception)
        first = messages[0] if messages else str(exc)
        path = component.path
        # cattrs says e.g. "extra fields found (bucket2) @ $" or "invalid value for type, expected int @ $.port"
        text, _, where = first.rpartition(" @ ")
        if where.startswith("$."):
            path = f"{component.path}.{where[2:].split('.')[0].split('[')[0]}"
        elif (text or first).split(" ", 1)[0] in _field_types(options_cls):
            path = f"{component.path}.{(text or first).split(' ', 1)[0]}"  # a validator's "port must be ..."
        elif text.startswith("extra fields found"):
            extra = text[text.find("(") + 1 : text.rfind(")")].split(",")[0].strip()
            path = f"{component.path}.{extra}"
        raise ConfigError(
            redact(f"invalid option for {component.kind.label} type {component.type!r}: {text or first}"),
            path=path,
            line=lines.get(path) or lines.get(component.path),
            file=file,
            hint=hint,
        ) from None
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            redact(f"invalid options for {component.kind.label} type {component.type!r}: {exc}"),
            path=component.path,
            line=lines.get(component.path),
            file=file,
            hint=hint,
        ) from None
