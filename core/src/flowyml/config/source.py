"""Finding and parsing flowyml.yaml, keeping the line of every key."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import attrs

from flowyml.config.interpolation import protect, restore
from flowyml.config.yaml_reader import Duplicate, read_yaml
from flowyml.errors import ConfigError

CONFIG_NAMES = ("flowyml.yaml", "flowyml.yml")
CONFIG_ENV = "FLOWYML_CONFIG"


@attrs.frozen
class ConfigSource:
    """A parsed flowyml.yaml: its data, and the line of each dotted path in it."""

    path: Path | None
    data: dict[str, Any]
    lines: dict[str, int]
    #: Keys written twice; one inside a stack makes that stack invalid, any other the whole file.
    duplicates: tuple[Duplicate, ...] = ()
    #: False when the text has no ``${`` that is not a well-formed reference (then no value needs checking).
    malformed_references: bool = True

    @property
    def file(self) -> str | None:
        return str(self.path) if self.path else None

    def line(self, dotted: str) -> int | None:
        return self.lines.get(dotted)


def find_config(start: Path | None = None) -> Path | None:
    """``$FLOWYML_CONFIG``, else flowyml.yaml in ``start`` (the cwd) or a parent."""
    explicit = os.environ.get(CONFIG_ENV)
    if explicit:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise ConfigError(
                f"{CONFIG_ENV} points at {path}, which is not a file",
                hint=f"fix or unset {CONFIG_ENV}",
            )
        return path.resolve()
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        for name in CONFIG_NAMES:
            candidate = folder / name
            if candidate.is_file():
                return candidate
    return None


def parse_text(text: str, file: str | None = None) -> tuple[dict[str, Any], dict[str, int]]:
    """Parse YAML text; return its data and a map of dotted key paths to line numbers.

    Duplicate keys are an error here; :func:`parse_source` keeps them for the caller instead.
    """
    data, lines, duplicates = parse_source(text, file)
    if duplicates:
        raise duplicate_error(duplicates[0], file)
    return data, lines


def parse_source(text: str, file: str | None = None) -> tuple[dict[str, Any], dict[str, int], list[Duplicate]]:
    """Parse YAML text into (data, lines, duplicate keys); malformed or hostile text is a ConfigError."""
    protected, refs = protect(text)
    return _parse_protected(protected, refs, file)


def _parse_protected(protected: str, refs: list[str], file: str | None) -> tuple[dict[str, Any], dict[str, int], list[Duplicate]]:
    parsed = read_yaml(protected, file=file, restore=lambda value: restore(value, refs))
    data = parsed.data
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError("the top level must be a mapping (stacks:, active_stack:)", file=file, line=1)
    return data, parsed.lines, parsed.duplicates


def duplicate_error(duplicate: Duplicate, file: str | None) -> ConfigError:
    return ConfigError(
        f"{duplicate.key!r} is written twice: lines {duplicate.first_line} and {duplicate.second_line}",
        path=duplicate.path,
        line=duplicate.second_line,
        file=file,
        hint="keep one of them (YAML would silently use the last one)",
    )


def decode(raw: bytes, path: Path) -> str:
    """The file's text; anything that is not UTF-8 is a ConfigError naming the byte offset."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        bad = raw[exc.start : exc.start + 1]
        line = raw.count(b"\n", 0, exc.start) + 1
        utf16 = raw[:2] in (b"\xff\xfe", b"\xfe\xff")
        raise ConfigError(
            f"the file is not UTF-8 text: byte 0x{bad.hex()} at offset {exc.start} cannot be decoded",
            file=str(path),
            line=line,
            hint="save flowyml.yaml as UTF-8" + (" (it looks like UTF-16)" if utf16 else " (it may be Latin-1 or a binary file)"),
        ) from None


def load_source(path: Path | None) -> ConfigSource:
    if path is None:
        return ConfigSource(None, {}, {})
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}", hint="check the file's permissions") from exc
    protected, refs = protect(decode(raw, path))
    data, lines, duplicates = _parse_protected(protected, refs, str(path))
    return ConfigSource(path, data, lines, tuple(duplicates), malformed_references="${" in protected)
