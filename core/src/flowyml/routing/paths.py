"""Path templates of routing rules (``{run_id}/datasets/{step_name}``)."""

from __future__ import annotations

import functools
import posixpath
import string
from collections.abc import Mapping

from flowyml.errors import PathTemplateError

PLACEHOLDERS = ("run_id", "step_name", "artifact_name", "pipeline_name", "name", "version")
DEFAULT_TEMPLATE = "{pipeline_name}/{run_id}/{step_name}/{name}"


def placeholders_in(template: str) -> list[str]:
    return list(_placeholders(template))


@functools.lru_cache(maxsize=256)  # a run renders the same few templates for every output
def _placeholders(template: str) -> tuple[str, ...]:
    try:
        return tuple(field for _, field, _, _ in string.Formatter().parse(template) if field is not None)
    except ValueError as exc:
        raise PathTemplateError(
            f"path template {template!r} is malformed: {exc}",
            hint="use {placeholder} with balanced braces; write {{ or }} for a literal brace",
        ) from exc


def check_template(template: str, where: str = "") -> None:
    """Reject unknown placeholders and templates that could leave the store's root."""
    prefix = f"{where}: " if where else ""
    for field in placeholders_in(template):
        if field not in PLACEHOLDERS:
            raise PathTemplateError(
                f"{prefix}unknown placeholder {{{field}}} in path template {template!r}",
                hint=f"available placeholders: {', '.join('{' + p + '}' for p in PLACEHOLDERS)}",
            )
    sample = {p: "x" for p in PLACEHOLDERS}
    normalise(template.format(**sample), template, prefix)


def normalise(rendered: str, template: str, prefix: str = "") -> str:
    if rendered.startswith(("/", "\\")) or (len(rendered) > 1 and rendered[1] == ":"):
        raise PathTemplateError(
            f"{prefix}path template {template!r} renders an absolute path ({rendered!r})",
            hint="paths are relative to the artifact store's root: remove the leading slash",
        )
    parts = [p for p in rendered.replace("\\", "/").split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise PathTemplateError(
            f"{prefix}path {rendered!r} (from template {template!r}) would leave the artifact store's root",
            hint="remove '..' from the template, or from the value that filled a placeholder",
        )
    if not parts:
        raise PathTemplateError(f"{prefix}path template {template!r} renders an empty path")
    return posixpath.join(*parts)


def render(template: str, values: Mapping[str, str | None]) -> str:
    """Fill a template; the result is a normalised relative key inside the store."""
    filled = {}
    used = _placeholders(template)
    for key in PLACEHOLDERS:
        value = values.get(key)
        if key == "version" and key in used and value in (None, ""):
            raise PathTemplateError(
                f"path template {template!r} uses {{version}}, but {values.get('name') or 'this model'!r} has no version:"
                " the registry numbers it only after the model is stored",
                hint="give the model a version in the step (Model(..., version=\"1.2\")), or remove {version} from the path",
            )
        filled[key] = _safe_segment(str(value)) if value not in (None, "") else "none"
    try:
        rendered = template.format(**filled)
    except (KeyError, IndexError, ValueError) as exc:
        raise PathTemplateError(
            f"path template {template!r} cannot be rendered: {exc}",
            hint=f"available placeholders: {', '.join('{' + p + '}' for p in PLACEHOLDERS)}",
        ) from exc
    return normalise(rendered, template)


def _safe_segment(value: str) -> str:
    """A placeholder's value becomes one path segment: no separators, no '..'."""
    cleaned = value.replace("/", "_").replace("\\", "_")
    return "_" if cleaned in (".", "..") else cleaned
