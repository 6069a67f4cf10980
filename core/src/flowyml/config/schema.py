"""The typed shape of flowyml.yaml.

``stacks`` holds named stacks; each names one component per kind
(``{type: ..., <backend options>}``) and ``artifact_routing`` rules per
artifact type. Backend options stay raw here: they are validated by the
backend's own options class when a stack is used (after ``${VAR}``
interpolation, which happens only for that stack).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from flowyml.config.source import ConfigSource
from flowyml.errors import ConfigError, StackNotFoundError
from flowyml.plugins.kinds import Kind

DEPLOY_CONDITIONS = ("manual", "auto", "on_approval")
ROUTE_ERROR_POLICIES = ("fail", "warn")
#: Routing keys: the artifact types, and ``Value`` for plain return values.
ROUTABLE_TYPES = ("Model", "Dataset", "Metrics", "Parameters", "Value")
DEFAULT_STACK_NAME = "local"


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

    def component(self, kind: Kind) -> ComponentConfig | None:
        return self.components.get(kind)

    def rule_for(self, type_name: str) -> RoutingRule | None:
        return self.routing.get(type_name)


@attrs.frozen
class ProjectConfig:
    """Everything flowyml.yaml says, plus where it is."""

    source: ConfigSource
    stacks: dict[str, StackConfig]
    active_stack: str | None

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
            defined = ", ".join(sorted(self.stacks)) or "(none)"
            where = f" in {self.source.path}" if self.source.path else ""
            raise StackNotFoundError(
                f"unknown stack {name!r}; stacks defined{where}: {defined}",
                hint="pick one of those, or add the stack under `stacks:` in flowyml.yaml",
            ) from None


#: The stack used when there is no flowyml.yaml: everything local.
EMBEDDED_DEFAULT: dict[str, Any] = {
    "stacks": {
        DEFAULT_STACK_NAME: {
            "orchestrator": {"type": "local"},
            "artifact_store": {"type": "local", "path": "./artifacts"},
            "model_registry": {"type": "local"},
            "model_deployer": {"type": "local"},
            "experiment_tracker": {"type": "local"},
            "artifact_routing": {
                "Model": {"register": True},
                "Metrics": {"log_to_tracker": True},
                "Parameters": {"log_to_tracker": True},
            },
        }
    },
    "active_stack": DEFAULT_STACK_NAME,
}

_STACK_KEYS = {k.value for k in Kind} | {"artifact_routing", "on_route_error", "description"}
_RULE_FIELDS = {f.name for f in attrs.fields(RoutingRule)}


def build_project(source: ConfigSource) -> ProjectConfig:
    """Check the document's structure and build the typed configuration."""
    data = source.data if source.path else EMBEDDED_DEFAULT

    def fail(message: str, path: str, hint: str | None = None) -> ConfigError:
        return ConfigError(message, path=path, line=source.line(path), file=source.file, hint=hint)

    unknown = set(data) - {"stacks", "active_stack"}
    if unknown:
        key = sorted(unknown)[0]
        return _raise(fail(f"unknown top-level key {key!r}", key, "the top level takes `stacks:` and `active_stack:`"))
    raw_stacks = data.get("stacks") or {}
    if not isinstance(raw_stacks, dict):
        _raise(fail("must be a mapping of stack names to stacks", "stacks"))
    stacks = {str(name): _build_stack(str(name), body, fail) for name, body in raw_stacks.items()}
    active = data.get("active_stack")
    if active is not None:
        active = str(active)
        if active not in stacks:
            _raise(
                fail(
                    f"active_stack names {active!r}, which is not defined; stacks: {', '.join(sorted(stacks)) or '(none)'}",
                    "active_stack",
                    "set active_stack to one of the defined stacks (flowyml stack set NAME)",
                )
            )
    return ProjectConfig(source, stacks, active)


def _raise(error: ConfigError) -> Any:
    raise error


def _build_stack(name: str, body: Any, fail: Any) -> StackConfig:
    base = f"stacks.{name}"
    if not isinstance(body, dict):
        _raise(fail("a stack must be a mapping of components", base))
    for key in body:
        if key not in _STACK_KEYS:
            _raise(
                fail(
                    f"unknown stack key {key!r}",
                    f"{base}.{key}",
                    f"a stack takes: {', '.join(sorted(_STACK_KEYS))}",
                )
            )
    components: dict[Kind, ComponentConfig] = {}
    for kind in Kind:
        raw = body.get(kind.value)
        if raw is None:
            continue
        path = f"{base}.{kind.value}"
        if not isinstance(raw, dict) or "type" not in raw:
            _raise(fail("a component must be a mapping with a `type:`", path, f"e.g. {kind.value}: {{ type: local }}"))
        options = {k: v for k, v in raw.items() if k != "type"}
        components[kind] = ComponentConfig(kind, str(raw["type"]), options, path)
    policy = body.get("on_route_error", "fail")
    if policy not in ROUTE_ERROR_POLICIES:
        _raise(fail(f"on_route_error must be one of {', '.join(ROUTE_ERROR_POLICIES)}, got {policy!r}", f"{base}.on_route_error"))
    routing_raw = body.get("artifact_routing") or {}
    if not isinstance(routing_raw, dict):
        _raise(fail("artifact_routing must map artifact types to rules", f"{base}.artifact_routing"))
    routing = {
        str(type_name): _build_rule(rule, f"{base}.artifact_routing.{type_name}", fail)
        for type_name, rule in routing_raw.items()
    }
    return StackConfig(name, components, routing, policy, base)


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
