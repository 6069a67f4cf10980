"""Reading flowyml.yaml's YAML: bounded, strict about duplicates, and fast.

The document is built straight from the parser's event stream (libyaml's when
it is installed) rather than through PyYAML's composer and constructor. One
pass over the events

* builds the data (with PyYAML's safe scalar types and ``<<`` merge keys),
* records the line of every key as a dotted path (``stacks.gpu.orchestrator``),
* notes duplicate keys with both lines,
* refuses nesting deeper than :data:`MAX_DEPTH`, recursive aliases and alias
  expansion beyond :data:`MAX_ALIAS_EXPANSION` values (an "alias bomb"),

so a hostile file fails in milliseconds instead of exhausting memory or the
recursion limit, and a 1.3 MB file of 20,000 stacks reads in well under a
second. Aliases share the anchored object, as PyYAML's do.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import attrs
import yaml

from flowyml.errors import ConfigError

#: Deepest nesting of mappings and sequences accepted (flowyml.yaml needs about 6).
MAX_DEPTH = 64
#: Values that aliases may add beyond the file's own (or twice the file's own values, if more).
MAX_ALIAS_EXPANSION = 100_000

_SAFE = yaml.SafeLoader("")
_RESOLVE = _SAFE.resolve
_CONSTRUCTORS = yaml.SafeLoader.yaml_constructors
_STR = "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"
_SCALAR_TAGS = frozenset(f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null"))
_MAP_TAGS = (None, "tag:yaml.org,2002:map", "!")
_SEQ_TAGS = (None, "tag:yaml.org,2002:seq", "!")

try:
    _PARSER: Any = yaml.CSafeLoader  # libyaml
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _PARSER = yaml.SafeLoader


@attrs.frozen
class Duplicate:
    """A key written twice in one mapping."""

    path: str
    key: str
    first_line: int
    second_line: int


@attrs.frozen
class ParsedYaml:
    data: Any
    lines: dict[str, int]
    duplicates: list[Duplicate]


class _Frame:
    __slots__ = ("anchor", "container", "is_map", "key", "key_line", "key_lines", "merges", "path", "start_total")

    def __init__(self, container: Any, path: str, anchor: str | None, start_total: int) -> None:
        self.container = container
        self.is_map = isinstance(container, dict)
        self.path = path
        self.anchor = anchor
        self.start_total = start_total
        self.key: Any = _NO_KEY
        self.key_line = 0
        self.key_lines: dict[Any, int] = {}
        self.merges: list[tuple[Any, int]] = []


_NO_KEY = object()


def read_yaml(text: str, *, file: str | None, restore: Callable[[str], str] | None = None) -> ParsedYaml:
    """Parse one YAML document; raise :class:`ConfigError` (with the line) when it is not acceptable.

    ``restore`` is applied to every string scalar (flowyml puts ``${VAR}`` back with it).
    """
    builder = _Builder(file, restore)
    loader = _PARSER(text)
    try:
        builder.run(loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "unreadable"
        if "nesting depth" in problem:
            problem = f"nesting deeper than the parser allows ({problem})"
        raise ConfigError(
            f"invalid YAML: {problem}",
            line=mark.line + 1 if mark is not None else None,
            file=file,
            hint="check the indentation and quoting around that line",
        ) from None
    except yaml.YAMLError as exc:  # ReaderError: a character YAML does not allow
        position = getattr(exc, "position", None)
        detail = f"{getattr(exc, 'reason', 'unreadable')} (character {position})" if position is not None else str(exc)
        raise ConfigError(
            f"invalid YAML: {detail}",
            line=_line_of(text, position) if position is not None else None,
            file=file,
            hint="remove control characters; flowyml.yaml must be plain UTF-8 text",
        ) from None
    finally:
        dispose = getattr(loader, "dispose", None)
        if dispose is not None:
            dispose()
    return ParsedYaml(builder.root, builder.lines, builder.duplicates)


def _line(mark: Any) -> int:
    """The 1-based line of a PyYAML mark (its stubs allow None; the parser always sets it)."""
    return int(mark.line) + 1 if mark is not None else 0


def _line_of(text: str, position: int) -> int:
    return text.count("\n", 0, position) + 1


class _Builder:
    def __init__(self, file: str | None, restore: Callable[[str], str] | None) -> None:
        self.file = file
        self.restore = restore
        self.stack: list[_Frame] = []
        self.root: Any = None
        self.documents = 0
        self.lines: dict[str, int] = {}
        self.duplicates: list[Duplicate] = []
        self.anchors: dict[str, tuple[Any, int]] = {}
        self.open_anchors: set[str] = set()
        self.total = 0  # values written in the file
        self.aliased = 0  # values added by aliases
        self.scalars: dict[tuple[str | None, str, str | None], Any] = {}

    def fail(self, message: str, line: int, hint: str | None = None) -> ConfigError:
        return ConfigError(message, line=line, file=self.file, hint=hint)

    # -- events ------------------------------------------------------------------------

    def run(self, loader: Any) -> None:
        """Consume every event of ``loader`` (the hot loop: scalars and keys are handled inline)."""
        get_event = loader.get_event
        scalar_event, alias_event = yaml.ScalarEvent, yaml.AliasEvent
        map_start, seq_start = yaml.MappingStartEvent, yaml.SequenceStartEvent
        map_end, seq_end = yaml.MappingEndEvent, yaml.SequenceEndEvent
        stream_end, document_start = yaml.StreamEndEvent, yaml.DocumentStartEvent
        cache = self.scalars
        lines = self.lines
        stack = self.stack
        while True:
            event = get_event()
            kind = type(event)
            if kind is scalar_event:
                self.total += 1
                try:
                    value = cache[(event.tag, event.value, event.style)]
                except KeyError:
                    value = self.construct_scalar(event)
                top = stack[-1] if stack else None
                if top is None:
                    self.root = value
                    continue
                if top.is_map:
                    key = top.key
                    if key is _NO_KEY:
                        line = event.start_mark.line + 1
                        key_lines = top.key_lines
                        if value is _MERGE_KEY or value in key_lines:
                            self.take_key(top, value, line)
                            continue
                        key_lines[value] = line
                        top.key = value
                        top.key_line = line
                        lines[f"{top.path}.{value}" if top.path else str(value)] = line
                        continue
                    top.key = _NO_KEY
                    if key is _MERGE_KEY:
                        top.merges.append((value, top.key_line))
                        continue
                    top.container[key] = value
                else:
                    lines[f"{top.path}[{len(top.container)}]"] = event.start_mark.line + 1
                    top.container.append(value)
                if event.anchor:
                    self.anchors[event.anchor] = (value, 1)
            elif kind is map_start or kind is seq_start:
                top = stack[-1] if stack else None
                if top is None or event.tag is not None or event.anchor or len(stack) >= MAX_DEPTH or (top.is_map and top.key is _NO_KEY):
                    self.start(event)  # the root, a tag, an anchor or an error
                    continue
                self.total += 1
                if top.is_map:
                    key = top.key
                    path = top.path if key is _MERGE_KEY else (f"{top.path}.{key}" if top.path else str(key))
                else:
                    path = f"{top.path}[{len(top.container)}]"
                    lines[path] = event.start_mark.line + 1
                stack.append(_Frame({} if kind is map_start else [], path, None, 0))
            elif kind is map_end or kind is seq_end:
                frame = stack[-1]
                if frame.merges or frame.anchor or len(stack) == 1:
                    self.end()
                    continue
                stack.pop()
                top = stack[-1]
                if top.is_map:
                    key = top.key
                    top.key = _NO_KEY
                    if key is _MERGE_KEY:
                        top.merges.append((frame.container, top.key_line))
                    else:
                        top.container[key] = frame.container
                else:
                    top.container.append(frame.container)
            elif kind is alias_event:
                self.alias(event)
            elif kind is document_start:
                self.documents += 1
                if self.documents > 1:
                    raise self.fail(
                        "flowyml.yaml holds more than one YAML document (a second `---`)",
                        event.start_mark.line + 1,
                        "keep one document: remove the `---` line and merge the stacks",
                    )
            elif kind is stream_end:
                return

    def construct_scalar(self, event: yaml.ScalarEvent) -> Any:
        cache_key = (event.tag, event.value, event.style)
        plain = event.style is None or event.style == ""
        tag = event.tag if event.tag not in (None, "!") else None
        if tag is None:
            tag = _RESOLVE(yaml.ScalarNode, event.value, (plain, not plain)) if plain else _STR
            if tag not in _SCALAR_TAGS and tag != _MERGE:
                tag = _STR  # a date stays the text written: options take strings, not datetimes
        if tag == _STR:
            value: Any = event.value
            if self.restore is not None and "__flowyml_ref_" in value:
                value = self.restore(value)
        elif tag == _MERGE:
            value = _MERGE_KEY
        else:
            constructor = _CONSTRUCTORS.get(tag) if tag in _SCALAR_TAGS else None
            if constructor is None:
                raise self.fail(
                    f"the YAML tag {event.tag} is not supported in flowyml.yaml",
                    _line(event.start_mark),
                    "remove the tag: write plain values",
                )
            try:
                value = constructor(_SAFE, yaml.ScalarNode(tag, event.value, cast(Any, event.start_mark), cast(Any, event.end_mark), event.style))
            except (KeyError, IndexError):  # PyYAML looks a bool's word up (`!!bool maybe`), reads an int's first character (`!!int ""`)
                kind = tag.rsplit(":", 1)[-1]
                expected = ": write true or false" if kind == "bool" else ""
                raise self.fail(f"invalid {kind} value {event.value!r}{expected}", _line(event.start_mark)) from None
            except (yaml.YAMLError, ValueError, TypeError) as exc:
                raise self.fail(f"invalid {tag.rsplit(':', 1)[-1]} value {event.value!r}: {exc}", _line(event.start_mark)) from None
        if isinstance(value, str | int | float | bool | None):
            self.scalars[cache_key] = value
        return value

    def take_key(self, frame: _Frame, key: Any, line: int) -> None:
        if key is _MERGE_KEY:
            frame.key = key
            frame.key_line = line
            return
        seen = frame.key_lines.get(key)
        path = f"{frame.path}.{key}" if frame.path else str(key)
        if seen is not None:
            self.duplicates.append(Duplicate(path, str(key), seen, line))
        frame.key_lines[key] = line
        frame.key = key
        frame.key_line = line
        self.lines[path] = line

    def start(self, event: yaml.CollectionStartEvent) -> None:
        line = _line(event.start_mark)
        is_map = type(event) is yaml.MappingStartEvent
        tags = _MAP_TAGS if is_map else _SEQ_TAGS
        if event.tag not in tags:
            raise self.fail(f"the YAML tag {event.tag} is not supported in flowyml.yaml", line, "remove the tag")
        top = self.stack[-1] if self.stack else None
        if top is not None and top.is_map and top.key is _NO_KEY:
            raise self.fail(
                "a mapping or list cannot be a key",
                line,
                "keys in flowyml.yaml are plain names",
            )
        if len(self.stack) >= MAX_DEPTH:
            raise self.fail(
                f"nesting deeper than {MAX_DEPTH} levels",
                line,
                "flowyml.yaml needs a few levels only; this looks like a generated or hostile file",
            )
        self.total += 1
        container: Any = {} if is_map else []
        path = self.child_path(top) if top is not None else ""
        if top is not None and not top.is_map:
            self.lines[path] = line
        frame = _Frame(container, path, event.anchor, self.total + self.aliased)
        if event.anchor:
            self.open_anchors.add(event.anchor)
        self.stack.append(frame)

    def end(self) -> None:
        frame = self.stack.pop()
        if frame.merges:
            self.apply_merges(frame)
        weight = self.total + self.aliased - frame.start_total + 1
        if frame.anchor:
            self.open_anchors.discard(frame.anchor)
            self.anchors[frame.anchor] = (frame.container, weight)
        if self.stack:
            self.attach(self.stack[-1], frame.container)
        else:
            self.root = frame.container

    def alias(self, event: yaml.AliasEvent) -> None:
        line = _line(event.start_mark)
        name = event.anchor or ""
        if name in self.open_anchors:
            raise self.fail(f"recursive alias *{name}: it refers to the value that contains it", line, "aliases may only repeat a finished value")
        try:
            value, weight = self.anchors[name]
        except KeyError:
            raise self.fail(f"alias *{name} refers to no anchor &{name} defined before it", line) from None
        self.aliased += weight
        if self.aliased > max(MAX_ALIAS_EXPANSION, 2 * self.total):
            raise self.fail(
                f"aliases expand to more than {max(MAX_ALIAS_EXPANSION, 2 * self.total):,} values (an alias bomb?)",
                line,
                "use fewer nested aliases; write the values out",
            )
        top = self.stack[-1] if self.stack else None
        if top is not None and top.is_map and top.key is _NO_KEY:
            raise self.fail(f"alias *{name} cannot be used as a key", line)
        self.add(value, line)

    # -- placing values -----------------------------------------------------------------

    def child_path(self, frame: _Frame) -> str:
        if frame.is_map:
            key = frame.key
            if key is _MERGE_KEY:
                return frame.path
            return f"{frame.path}.{key}" if frame.path else str(key)
        return f"{frame.path}[{len(frame.container)}]"

    def add(self, value: Any, line: int) -> None:
        if not self.stack:
            self.root = value
            return
        top = self.stack[-1]
        if not top.is_map:
            self.lines[f"{top.path}[{len(top.container)}]"] = line
        self.attach(top, value)

    def attach(self, frame: _Frame, value: Any) -> None:
        if not frame.is_map:
            frame.container.append(value)
            return
        key = frame.key
        frame.key = _NO_KEY
        if key is _MERGE_KEY:
            frame.merges.append((value, frame.key_line))
            return
        try:
            frame.container[key] = value
        except TypeError:
            raise self.fail(f"the key {key!r} cannot be used as a name", frame.key_line) from None

    def apply_merges(self, frame: _Frame) -> None:
        merged: dict[Any, Any] = {}
        for value, line in frame.merges:
            sources = value if isinstance(value, list) else [value]
            for source in reversed(sources):
                if not isinstance(source, dict):
                    raise self.fail("`<<:` merges a mapping (or a list of mappings) into this one", line)
                merged.update(source)
        for key, value in merged.items():
            if key not in frame.container:
                frame.container[key] = value
                self.lines.setdefault(f"{frame.path}.{key}" if frame.path else str(key), frame.merges[0][1])


_MERGE_KEY = object()
