"""Finding and parsing flowyml.yaml, keeping the line of every key."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import attrs
import yaml

from flowyml.config.interpolation import protect, restore
from flowyml.errors import ConfigError

CONFIG_NAMES = ("flowyml.yaml", "flowyml.yml")
CONFIG_ENV = "FLOWYML_CONFIG"


@attrs.frozen
class ConfigSource:
    """A parsed flowyml.yaml: its data, and the line of each dotted path in it."""

    path: Path | None
    data: dict[str, Any]
    lines: dict[str, int]

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
    """Parse YAML text; return its data and a map of dotted key paths to line numbers."""
    protected, refs = protect(text)
    try:
        node = yaml.compose(protected, Loader=yaml.SafeLoader)
        data = yaml.safe_load(protected)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(
            f"invalid YAML: {problem}",
            line=line,
            file=file,
            hint="check the indentation and quoting around that line",
        ) from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError("the top level must be a mapping (stacks:, active_stack:)", file=file, line=1)
    lines: dict[str, int] = {}
    if node is not None:
        _walk(node, "", lines, refs)
    return restore(data, refs), lines


def _walk(node: yaml.Node, prefix: str, lines: dict[str, int], refs: list[str]) -> None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = restore(str(key_node.value), refs)
            path = f"{prefix}.{key}" if prefix else key
            lines[path] = key_node.start_mark.line + 1
            _walk(value_node, path, lines, refs)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            path = f"{prefix}[{index}]"
            lines[path] = item.start_mark.line + 1
            _walk(item, path, lines, refs)


def load_source(path: Path | None) -> ConfigSource:
    if path is None:
        return ConfigSource(None, {}, {})
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}", hint="check the file's permissions") from exc
    data, lines = parse_text(text, file=str(path))
    return ConfigSource(path, data, lines)
