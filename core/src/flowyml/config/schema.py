"""The typed shape of flowyml.yaml.

``stacks`` holds named stacks; each names one component per kind
(``{type: ..., <backend options>}``; ``experiment_tracker`` may also be a list
of them) and ``artifact_routing`` rules per artifact type. Backend options stay raw here: they are validated by the
backend's own options class when a stack is used (after ``${VAR}``
interpolation, which happens only for that stack).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from flowyml.config.defaults import EMBEDDED_DEFAULT
from flowyml.config.interpolation import malformed_reference
from flowyml.config.metadata_setting import MetadataSetting, build_metadata_setting
from flowyml.config.source import ConfigSource, duplicate_error
from flowyml.config.step_settings import StepOverride, build_steps, section_names
from flowyml.config.value_kinds import describe
from flowyml.config.yaml_reader import Duplicate
from flowyml.errors import ConfigError, StackNotFoundError
from flowyml.plugins.kinds import Kind

DEPLOY_CONDITIONS = ("manual", "auto", "on_approval")
ROUTE_ERROR_POLICIES = ("fail", "warn")
#: Routing keys: the artifact types, and ``Value`` for plain return values.
ROUTABLE_TYPES = ("Model", "Dataset", "Metrics", "Parameters", "Value")


@attrs.frozen
class ComponentConfig:
    """One component of a stack as written: its type and raw options."""

    kind: Kind
    type: str
    options: dict[str, Any]
    path: str  # dotted YAML path, e.g. stacks.gcp-prod.artifact_store


@attrs.frozen(kw_only=True)
class RoutingRule:
    """Where one artifact type goes on a stack (the spec's "Routing Rules" table)."""

    store: str | None = None
    path: str | None = None
    register: bool = False
    deploy: bool = False
    deploy_condition: str = "manual"
    deploy_min_metrics: dict[str, float] = attrs.field(factory=dict)
    deploy_max_metrics: dict[str, float] = attrs.field(factory=dict)
    endpoint_name: str | None = None
    log_to_tracker: bool = False


@attrs.frozen
class StackConfig:
    name: str
    components: dict[Kind, ComponentConfig]
    routing: dict[str, RoutingRule]
    on_route_error: str
    path: str
    #: Every experiment tracker, in the order written (``components`` holds the first).
    trackers: tuple[ComponentConfig, ...] = ()
    #: The stack's own ``steps:`` (per-step settings for this stack; see flowyml.config.step_settings).
    steps: dict[str, StepOverride] = attrs.field(factory=dict)

    def component(self, kind: Kind) -> ComponentConfig | None:
        return self.components.get(kind)

    def all_components(self) -> list[ComponentConfig]:
        """Every component of the stack, each tracker of a tracker list included, in kind order."""
        out: list[ComponentConfig] = []
        for kind, component in self.components.items():
            out.extend(self.trackers if kind is Kind.EXPERIMENT_TRACKER and self.trackers else [component])
        return out

    def rule_for(self, type_name: str) -> RoutingRule | None:
        return self.routing.get(type_name)


@attrs.frozen
class ProjectConfig:
    """Everything flowyml.yaml says, plus where it is.

    A stack with a structural error does not stop the others: it is kept in
    ``invalid`` with its first error, which :meth:`stack` raises when that
    stack is asked for.
    """

    source: ConfigSource
    stacks: dict[str, StackConfig]
    active_stack: str | None
    invalid: dict[str, ConfigError] = attrs.field(factory=dict)
    #: Every stack name (valid or not) in the order of the file.
    names: tuple[str, ...] = ()
    #: The top-level ``steps:`` (per-step settings for every stack).
    steps: dict[str, StepOverride] = attrs.field(factory=dict)
    #: Where the run history is kept (``metadata:``; the embedded database when absent).
    metadata: MetadataSetting = attrs.field(factory=MetadataSetting)

    @property
    def file(self) -> Path | None:
        return self.source.path

    @property
    def project_dir(self) -> Path:
        return self.source.path.parent if self.source.path else Path.cwd()

    def stack(self, name: str) -> StackConfig:
        try:
            return self.stacks[name]
        except KeyError:
            pass
        problem = self.invalid.get(name)
        if problem is not None:
            raise ConfigError(problem.message, hint=problem.hint) from None
        defined = ", ".join(sorted(self.names or self.stacks)) or "(none)"
        where = f" in {self.source.path}" if self.source.path else ""
        raise StackNotFoundError(
            f"unknown stack {name!r}; stacks defined{where}: {defined}",
            hint="pick one of those, or add the stack under `stacks:` in flowyml.yaml",
        ) from None


_KINDS = tuple((k, k.value) for k in Kind)
_STACK_KEYS = {k.value for k in Kind} | {"artifact_routing", "on_route_error", "description", "steps"}
#: The top-level keys of flowyml.yaml.
TOP_LEVEL_KEYS = ("stacks", "active_stack", "steps", "metadata")
_RULE_FIELDS = {f.name for f in attrs.fields(RoutingRule)}


def build_project(source: ConfigSource) -> ProjectConfig:
    """Check the document's structure and build the typed configuration.

    Problems of the whole file (unknown top-level keys, a duplicated
    ``active_stack``) raise; a problem inside one stack only marks that stack
    invalid.
    """
    data = source.data if source.path else EMBEDDED_DEFAULT

    def fail(message: str, path: str, hint: str | None = None) -> ConfigError:
        return ConfigError(message, path=path, line=source.line(path), file=source.file, hint=hint)

    unknown = [key for key in data if key not in TOP_LEVEL_KEYS]
    if unknown:
        key = unknown[0]
        _raise(fail(f"unknown top-level key {key!r}", str(key), "the top level takes " + ", ".join(f"`{k}:`" for k in TOP_LEVEL_KEYS)))
    metadata = build_metadata_setting(data.get("metadata"), source.line, source.file)
    raw_stacks = data.get("stacks")
    if raw_stacks is None:
        raw_stacks = {}
    if not isinstance(raw_stacks, dict):
        _raise(fail(f"must be a mapping of stack names to stacks, got {describe(raw_stacks)}", "stacks"))
    for name in raw_stacks:
        if not isinstance(name, str) or not name:
            _raise(fail(f"a stack name must be a non-empty string, got {name!r}", f"stacks.{name}", "e.g. `stacks: { local: ... }`"))
    sections = section_names(raw_stacks)
    steps = build_steps(data.get("steps"), "steps", fail, sections, source.line, source.file)
    by_stack = _duplicates_by_stack(source, raw_stacks)
    stacks: dict[str, StackConfig] = {}
    invalid: dict[str, ConfigError] = {}
    for name, body in raw_stacks.items():
        duplicate = by_stack.get(name)
        if duplicate is not None:
            invalid[name] = duplicate_error(duplicate, source.file)
            continue
        try:
            stacks[name] = _build_stack(name, body, fail, source.malformed_references, (sections, source))
        except ConfigError as exc:
            invalid[name] = exc
    active = data.get("active_stack")
    if active is not None:
        if not isinstance(active, str):
            _raise(fail(f"active_stack must be a stack name, got {describe(active)}", "active_stack", "e.g. `active_stack: local`"))
        if active not in raw_stacks:
            _raise(
                fail(
                    f"active_stack names {active!r}, which is not defined; stacks: {', '.join(sorted(raw_stacks)) or '(none)'}",
                    "active_stack",
                    "set active_stack to one of the defined stacks (flowyml stack set NAME)",
                )
            )
    return ProjectConfig(source, stacks, active, invalid, tuple(raw_stacks), steps, metadata)


def _duplicates_by_stack(source: ConfigSource, raw_stacks: dict[str, Any]) -> dict[str, Duplicate]:
    """The first duplicate key inside each stack; a duplicate anywhere else fails the whole file."""
    found: dict[str, Duplicate] = {}
    for duplicate in source.duplicates:
        path = duplicate.path
        owner = None
        if path.startswith("stacks."):
            rest = path[len("stacks.") :]
            owner = rest if rest in raw_stacks else next((n for n in raw_stacks if rest.startswith(n + ".")), None)
        if owner is None:
            raise duplicate_error(duplicate, source.file)
        found.setdefault(owner, duplicate)
    return found


def _raise(error: ConfigError) -> Any:
    raise error


def _build_stack(name: str, body: Any, fail: Any, check_references: bool = True, steps_context: tuple[tuple[str, ...], ConfigSource] | None = None) -> StackConfig:
    base = f"stacks.{name}"
    if not isinstance(body, dict):
        _raise(fail(f"a stack must be a mapping of components, got {describe(body)}", base))
    for key in body:
        if key not in _STACK_KEYS:
            _raise(
                fail(
                    f"unknown stack key {key!r}",
                    f"{base}.{key}",
                    f"a stack takes: {', '.join(sorted(_STACK_KEYS))}",
                )
            )
    if check_references:
        _check_references(body, base, fail)
    description = body.get("description")
    if description is not None and not isinstance(description, str):
        _raise(fail(f"description must be text, got {describe(description)}", f"{base}.description"))
    components: dict[Kind, ComponentConfig] = {}
    trackers: list[ComponentConfig] = []
    for kind, key in _KINDS:
        if key not in body:
            continue
        raw = body[key]
        path = f"{base}.{key}"
        if kind is Kind.EXPERIMENT_TRACKER and isinstance(raw, list):
            if not raw:
                _raise(fail("the tracker list is empty", path, "name at least one tracker, or remove experiment_tracker:"))
            trackers = [_build_component(kind, item, f"{path}[{i}]", fail) for i, item in enumerate(raw)]
            components[kind] = trackers[0]
        else:
            components[kind] = _build_component(kind, raw, path, fail)
    policy = body.get("on_route_error", "fail")
    if not isinstance(policy, str) or policy not in ROUTE_ERROR_POLICIES:
        _raise(fail(f"on_route_error must be one of {', '.join(ROUTE_ERROR_POLICIES)}, got {describe(policy)}", f"{base}.on_route_error"))
    routing_raw = body.get("artifact_routing")
    if routing_raw is None:
        routing_raw = {}
    if not isinstance(routing_raw, dict):
        _raise(fail(f"artifact_routing must map artifact types to rules, got {describe(routing_raw)}", f"{base}.artifact_routing"))
    routing = {
        str(type_name): _build_rule(rule, f"{base}.artifact_routing.{type_name}", fail)
        for type_name, rule in routing_raw.items()
    }
    steps: dict[str, StepOverride] = {}
    if body.get("steps") is not None:
        sections, source = steps_context if steps_context is not None else (section_names({name: body}), ConfigSource(None, {}, {}))
        steps = build_steps(body["steps"], f"{base}.steps", fail, sections, source.line, source.file)
    return StackConfig(name, components, routing, policy, base, tuple(trackers), steps)


def _build_component(kind: Kind, raw: Any, path: str, fail: Any) -> ComponentConfig:
    if type(raw) is dict:
        type_name = raw.get("type")
        if type(type_name) is str and type_name.strip() and all(type(key) is str for key in raw):
            options = dict(raw)
            del options["type"]
            return ComponentConfig(kind, type_name, options, path)
    example = f"e.g. {kind.value}: {{ type: local }}"
    if kind is Kind.EXPERIMENT_TRACKER:
        example += ", or a list: experiment_tracker: [{ type: mlflow }, { type: tensorboard }]"
    if not isinstance(raw, dict):
        _raise(fail(f"a component must be a mapping with a `type:`, got {describe(raw)}", path, example))
    if "type" not in raw:
        _raise(fail("a component needs a `type:` (the backend that provides it)", path, example))
    type_name = raw["type"]
    if not isinstance(type_name, str) or not type_name.strip():
        _raise(fail(f"`type:` must name a backend (a string), got {describe(type_name)}", f"{path}.type", example))
    for key in raw:
        if not isinstance(key, str):
            _raise(fail(f"option names are strings, got {key!r}", f"{path}.{key}"))
    raise AssertionError("unreachable: every problem above raised")  # pragma: no cover


def _check_references(value: Any, path: str, fail: Any) -> None:
    """Every ``${`` must start a well-formed ``${NAME}`` or ``${NAME:-default}``."""
    if isinstance(value, str):
        if "${" in value:
            bad = malformed_reference(value)
            if bad is not None:
                _raise(
                    fail(
                        f"malformed reference {bad!r}",
                        path,
                        "write ${NAME} or ${NAME:-default}; NAME is letters, digits and _ and does not start with a digit",
                    )
                )
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_references(item, f"{path}.{key}", fail)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_references(item, f"{path}[{index}]", fail)


def _build_rule(raw: Any, path: str, fail: Any) -> RoutingRule:
    if raw is None:
        return RoutingRule()
    if not isinstance(raw, dict):
        _raise(fail("a routing rule must be a mapping", path))
    values: dict[str, Any] = {}
    for key, value in raw.items():
        where = f"{path}.{key}"
        if key not in _RULE_FIELDS:
            _raise(fail(f"unknown routing field {key!r}", where, f"routing fields: {', '.join(sorted(_RULE_FIELDS))}"))
        values[key] = _check_rule_value(key, value, where, fail)
    return RoutingRule(**values)


def _check_rule_value(key: str, value: Any, where: str, fail: Any) -> Any:
    if key in ("register", "deploy", "log_to_tracker"):
        if not isinstance(value, bool):
            _raise(fail(f"expected true or false, got {value!r}", where))
        return value
    if key in ("deploy_min_metrics", "deploy_max_metrics"):
        if not isinstance(value, Mapping):
            _raise(fail(f"expected a mapping of metric names to numbers, got {value!r}", where))
        out = {}
        for metric, threshold in value.items():
            if isinstance(threshold, bool) or not isinstance(threshold, int | float):
                _raise(fail(f"threshold for {metric!r} must be a number, got {threshold!r}", f"{where}.{metric}"))
            out[str(metric)] = float(threshold)
        return out
    if value is None:
        return None
    if not isinstance(value, str):
        _raise(fail(f"expected a string, got {value!r}", where))
    if key == "deploy_condition" and value not in DEPLOY_CONDITIONS:
        _raise(
            fail(
                f"unknown deploy_condition {value!r}",
                where,
                f"use one of: {', '.join(DEPLOY_CONDITIONS)}",
            )
        )
    return value
