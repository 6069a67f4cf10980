"""The project-level ``metadata:`` section of flowyml.yaml: where run history is kept.

    metadata:
      url: ${FLOWYML_METADATA_URL}      # postgresql://user:password@host:5432/db, or sqlite:///path

Outside ``stacks:``: every stack of a project shares one history. Without the
section (or with a URL that resolves to an empty string) the history is the
embedded ``.flowyml/metadata.db``. ``${VAR}`` references are resolved when the
store opens; a URL written without them is checked when the file is read.
Errors carry the YAML line; a password in the URL never appears in them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from flowyml.config.interpolation import REFERENCE, env_value, malformed_reference
from flowyml.config.value_kinds import describe
from flowyml.errors import ConfigError, InterpolationError
from flowyml.metadata.database_url import DatabaseURL, UrlProblem, parse_database_url
from flowyml.redaction import redact

__all__ = ["MetadataSetting", "build_metadata_setting", "metadata_url_of"]

_PATH = "metadata.url"
_EXAMPLE = "e.g. metadata: { url: ${FLOWYML_METADATA_URL} } or metadata: { url: postgresql://user@host:5432/flowyml }"


@attrs.frozen
class MetadataSetting:
    """``metadata.url`` as written (``${VAR}`` unresolved), with where it was written."""

    url: str | None = None
    line: int | None = None
    file: str | None = None

    def resolve(self, project_dir: Path, environ: Mapping[str, str] | None = None) -> DatabaseURL:
        """The database this setting names now (the embedded default when it is unset or resolves to "")."""
        env = os.environ if environ is None else environ
        text = self.url
        if text and "${" in text:
            text = REFERENCE.sub(lambda m: self._lookup(m.group(1), m.group(2), env), text)
        try:
            return parse_database_url(text, project_dir)
        except UrlProblem as exc:
            shown = redact(text or "")
            raise ConfigError(
                f"metadata.url {shown!r} {exc}", path=_PATH, line=self.line, file=self.file, hint=_EXAMPLE
            ) from None

    def _lookup(self, name: str, default: str | None, env: Mapping[str, str]) -> str:
        got = env_value(name, default, env)
        if got is not None:
            return got
        raise InterpolationError(
            f"environment variable {name} is not set (used by metadata.url)",
            path=_PATH,
            line=self.line,
            file=self.file,
            hint=f"export {name}=postgresql://USER:PASSWORD@HOST:PORT/DATABASE, or write ${{{name}:-}} in flowyml.yaml "
            "to fall back to the embedded database",
        )


def build_metadata_setting(raw: Any, line_of: Any, file: str | None) -> MetadataSetting:
    """Check the ``metadata:`` section's structure (``line_of(path)`` gives YAML lines)."""

    def fail(message: str, path: str, hint: str | None = _EXAMPLE) -> ConfigError:
        return ConfigError(message, path=path, line=line_of(path), file=file, hint=hint)

    if raw is None:
        return MetadataSetting(file=file)
    if not isinstance(raw, dict):
        raise fail(f"metadata must be a mapping with a `url:`, got {describe(raw)}", "metadata")
    for key in raw:
        if key != "url":
            raise fail(f"unknown metadata key {key!r}", f"metadata.{key}", "the metadata section takes `url:` only")
    url = raw.get("url")
    if url is None:
        return MetadataSetting(line=line_of(_PATH), file=file)
    if not isinstance(url, str):
        raise fail(f"metadata.url must be a database URL (text), got {describe(url)}", _PATH)
    bad = malformed_reference(url)
    if bad is not None:
        raise fail(f"malformed reference {bad!r}", _PATH, "write ${NAME} or ${NAME:-default}")
    setting = MetadataSetting(url, line_of(_PATH), file)
    if "${" not in url:
        setting.resolve(Path.cwd())  # a literal URL is checked now (its path is resolved again when opened)
    return setting


def metadata_url_of(project_dir: Path, environ: Mapping[str, str] | None = None) -> DatabaseURL:
    """The metadata database of the project in ``project_dir`` (its flowyml.yaml's ``metadata.url``, resolved)."""
    from flowyml.config.loader import load_project

    project = load_project(project_dir)
    return project.metadata.resolve(project_dir, environ)
