"""``${VAR}`` and ``${VAR:-default}`` in flowyml.yaml.

The spec writes them unquoted inside flow mappings
(``{ type: vertex_ai, project: ${GCP_PROJECT} }``), which is not valid YAML,
so before parsing every reference is swapped for an inert token and swapped
back afterwards. References are resolved only for the stack being used.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

import yaml

from flowyml.errors import InterpolationError

REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}\n'\"]*))?\}")
_TOKEN = re.compile(r"__flowyml_ref_(\d+)__")


def protect(text: str) -> tuple[str, list[str]]:
    """Replace each ``${...}`` with a token that YAML reads as a plain scalar."""
    refs: list[str] = []

    def swap(match: re.Match[str]) -> str:
        refs.append(match.group(0))
        return f"__flowyml_ref_{len(refs) - 1}__"

    return REFERENCE.sub(swap, text), refs


def restore(value: Any, refs: list[str]) -> Any:
    """Put the original ``${...}`` text back into every string of a parsed document."""
    if isinstance(value, str):
        return _TOKEN.sub(lambda m: refs[int(m.group(1))], value)
    if isinstance(value, dict):
        return {restore(k, refs): restore(v, refs) for k, v in value.items()}
    if isinstance(value, list):
        return [restore(v, refs) for v in value]
    return value


def malformed_reference(text: str) -> str | None:
    """The first ``${`` in ``text`` that does not start a valid ``${NAME}`` / ``${NAME:-default}``, quoted."""
    start = 0  # the gaps between valid references are searched, so a valid one never joins a stray `$`
    for ref_start, ref_end in [*(m.span() for m in REFERENCE.finditer(text)), (len(text), len(text))]:
        at = text.find("${", start, ref_start)
        if at >= 0:
            end = text.find("}", at, ref_start)
            return text[at : end + 1 if 0 <= end < at + 40 else min(at + 12, ref_start)]
        start = ref_end
    return None


def references(value: Any) -> list[str]:
    """Names of the variables a (nested) value refers to."""
    found: list[str] = []
    if isinstance(value, str):
        found.extend(m.group(1) for m in REFERENCE.finditer(value))
    elif isinstance(value, dict):
        for v in value.values():
            found.extend(references(v))
    elif isinstance(value, list):
        for v in value:
            found.extend(references(v))
    return found


def env_value(name: str, default: str | None, env: Mapping[str, str]) -> str | None:
    """What ``${NAME}`` / ``${NAME:-default}`` stands for in ``env``; None when it is unset with no default.

    An empty value counts as unset only when a default is written (``${NAME:-x}`` with ``NAME=""`` gives ``x``).
    """
    got = env.get(name)
    if got is not None and (got != "" or default is None):
        return got
    return default


def resolve(
    value: Any,
    *,
    stack: str,
    path: str,
    lines: Mapping[str, int],
    file: str | None,
    environ: Mapping[str, str] | None = None,
) -> Any:
    """Resolve references in ``value`` (a component's options) from the environment.

    A string that is exactly one reference takes the YAML type of the value
    (``port: ${PORT}`` gives an int); references inside longer strings are
    substituted as text. A variable that is unset and has no default is an
    :class:`InterpolationError` naming the variable, the stack and the line.
    """
    env = os.environ if environ is None else environ
    if isinstance(value, dict):
        return {
            k: resolve(v, stack=stack, path=f"{path}.{k}", lines=lines, file=file, environ=env)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [
            resolve(v, stack=stack, path=f"{path}[{i}]", lines=lines, file=file, environ=env)
            for i, v in enumerate(value)
        ]
    if not isinstance(value, str) or "${" not in value:
        return value

    def lookup(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        got = env_value(name, default, env)
        if got is not None:
            return got
        raise InterpolationError(
            f"environment variable {name} is not set (used by stack {stack!r})",
            path=path,
            line=lines.get(path),
            file=file,
            hint=f"export {name}=... or write ${{{name}:-default}} in flowyml.yaml, or use another stack",
        )

    whole = REFERENCE.fullmatch(value)
    resolved = REFERENCE.sub(lookup, value)
    if whole:
        try:
            typed = yaml.safe_load(resolved)
        except yaml.YAMLError:
            return resolved
        if isinstance(typed, str | int | float | bool):
            return typed
    return resolved
