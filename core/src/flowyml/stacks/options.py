"""Structuring a component's YAML options into its backend's attrs options class."""

from __future__ import annotations

from typing import Any

import attrs
import cattrs

from flowyml.config.schema import ComponentConfig
from flowyml.errors import ConfigError

_converter = cattrs.Converter(forbid_extra_keys=True)


def _strict(kind: type, accepts: tuple[type, ...], label: str) -> None:
    """YAML already gives typed scalars: refuse ``flush: "false"`` rather than reading it as True."""

    def structure(value: Any, _: Any) -> Any:
        if isinstance(value, bool) and kind is not bool:
            raise ValueError(f"expected {label}, got a boolean ({value!r})")
        if not isinstance(value, accepts):
            raise ValueError(f"expected {label}, got {value!r}")
        return kind(value)

    _converter.register_structure_hook(kind, structure)


_strict(bool, (bool,), "true or false")
_strict(int, (int,), "an integer")
_strict(float, (int, float), "a number")


def _format_exception(exc: BaseException, type_: Any) -> str:
    """Keep the backend's own words (validators, our strict hooks); cattrs' wording otherwise."""
    from cattrs.v import format_exception

    if isinstance(exc, ValueError | TypeError) and str(exc) and type(exc) is not cattrs.ForbiddenExtraKeysError:
        text = str(exc)
        if not text.startswith(("int()", "float()", "could not convert")):
            return text
    return format_exception(exc, type_)


def _expected(cls: type[Any]) -> str:
    if not attrs.has(cls) or not attrs.fields(cls):
        return "(it takes no options)"
    parts = []
    for field in attrs.fields(cls):
        name = field.alias or field.name
        kind = getattr(field.type, "__name__", None) or str(field.type)
        required = field.default is attrs.NOTHING
        parts.append(f"{name}: {kind}{' (required)' if required else ''}")
    return "; ".join(parts)


def structure_options(
    options_cls: type[Any], raw: dict[str, Any], component: ComponentConfig, *, lines: dict[str, int], file: str | None
) -> Any:
    """Build ``options_cls`` from ``raw``; errors name the YAML path, the line and what was expected."""
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
        elif text.startswith("extra fields found"):
            extra = text[text.find("(") + 1 : text.rfind(")")].split(",")[0].strip()
            path = f"{component.path}.{extra}"
        elif "required field" in first or "missing" in first.lower():
            pass
        raise ConfigError(
            f"invalid option for {component.kind.label} type {component.type!r}: {text or first}",
            path=path,
            line=lines.get(path) or lines.get(component.path),
            file=file,
            hint=f"{component.type} options are: {_expected(options_cls)}" if attrs.has(options_cls) else None,
        ) from exc
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"invalid options for {component.kind.label} type {component.type!r}: {exc}",
            path=component.path,
            line=lines.get(component.path),
            file=file,
            hint=f"{component.type} options are: {_expected(options_cls)}" if attrs.has(options_cls) else None,
        ) from exc
