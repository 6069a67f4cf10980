"""Checking a stack's routing rules before anything runs."""

from __future__ import annotations

from typing import Any

from flowyml.config.schema import ROUTABLE_TYPES, ProjectConfig, RoutingRule, StackConfig
from flowyml.errors import ConfigError, PathTemplateError, RoutingError
from flowyml.naming import name_problem
from flowyml.plugins.kinds import Kind
from flowyml.routing.paths import check_template, placeholders_in

MODEL_ONLY = ("register", "deploy")
TRACKED_TYPES = ("Metrics", "Parameters")


def store_names(stack: StackConfig) -> set[str]:
    """Names a rule's ``store:`` may use: the artifact store's type (and its ``name`` option)."""
    store = stack.component(Kind.ARTIFACT_STORE)
    if store is None:
        return set()
    names = {store.type}
    if isinstance(store.options.get("name"), str):
        names.add(store.options["name"])
    return names


def validate_stack(project: ProjectConfig, stack: StackConfig) -> None:
    """Raise a :class:`RoutingError` naming the fix for the first problem found."""
    source = project.source

    def fail(message: str, path: str, hint: str | None = None) -> RoutingError:
        line = source.line(path)
        where = f"{source.file}:{line} " if source.file and line else ""
        return RoutingError(f"{where}{path}: {message}", hint=hint)

    for kind in (Kind.ORCHESTRATOR, Kind.ARTIFACT_STORE):
        if stack.component(kind) is None:
            raise ConfigError(
                f"stack {stack.name!r} has no {kind.value}",
                path=stack.path,
                line=source.line(stack.path),
                file=source.file,
                hint=f"add `{kind.value}: {{ type: local }}` (or another type) to the stack",
            )
    for type_name, rule in stack.routing.items():
        base = f"{stack.path}.artifact_routing.{type_name}"
        if type_name not in ROUTABLE_TYPES:
            raise fail(
                f"unknown artifact type {type_name!r}",
                base,
                f"artifact_routing keys are: {', '.join(ROUTABLE_TYPES)} (Value is for plain return values)",
            )
        _validate_rule(stack, type_name, rule, base, fail)


def _validate_rule(stack: StackConfig, type_name: str, rule: RoutingRule, base: str, fail: Any) -> None:
    if rule.store is not None and rule.store not in store_names(stack):
        names = ", ".join(sorted(store_names(stack))) or "none"
        raise fail(
            f"store {rule.store!r} is not defined by stack {stack.name!r} (its artifact store: {names})",
            f"{base}.store",
            f"set store to {names}, or change the stack's artifact_store type to {rule.store}",
        )
    if rule.endpoint_name is not None and (problem := name_problem(rule.endpoint_name)):
        raise fail(
            f"endpoint_name {rule.endpoint_name!r} cannot be used: {problem}",
            f"{base}.endpoint_name",
            "endpoint names become part of file and resource paths: use letters, digits, '-', '_' and '.'",
        )
    if rule.path is not None:
        try:
            check_template(rule.path)
        except PathTemplateError as exc:
            raise fail(exc.message, f"{base}.path", exc.hint) from None
        if type_name != "Model" and "version" in placeholders_in(rule.path):
            raise fail(f"{{version}} in the path of {type_name} has no value: only a Model has a version", f"{base}.path", "remove {version} from this path")
    for field in MODEL_ONLY:
        if getattr(rule, field) and type_name != "Model":
            raise fail(f"{field}: true only applies to Model", f"{base}.{field}", "move it under artifact_routing.Model")
    if rule.log_to_tracker and type_name not in TRACKED_TYPES:
        raise fail(
            "log_to_tracker: true only applies to Metrics and Parameters",
            f"{base}.log_to_tracker",
            "remove it from this rule",
        )
    if rule.register and stack.component(Kind.MODEL_REGISTRY) is None:
        raise fail(
            f"register: true but stack {stack.name!r} has no model_registry",
            f"{base}.register",
            "add `model_registry: { type: ... }` to the stack, or set register: false",
        )
    if rule.deploy:
        if stack.component(Kind.MODEL_DEPLOYER) is None:
            raise fail(
                f"deploy: true but stack {stack.name!r} has no model_deployer",
                f"{base}.deploy",
                "add `model_deployer: { type: ... }` to the stack, or set deploy: false",
            )
        if not rule.register:
            raise fail(
                "deploy: true needs register: true (deployments are made from registered model versions)",
                f"{base}.deploy",
                "add register: true to this rule",
            )
        if rule.deploy_condition == "auto" and not (rule.deploy_min_metrics or rule.deploy_max_metrics):
            raise fail(
                "deploy_condition: auto needs deploy_min_metrics (the thresholds a model must meet)",
                f"{base}.deploy_condition",
                "add e.g. `deploy_min_metrics: {accuracy: 0.9}`",
            )
    else:
        for field in ("deploy_min_metrics", "deploy_max_metrics", "endpoint_name"):
            if getattr(rule, field):
                raise fail(f"{field} has no effect without deploy: true", f"{base}.{field}", "add deploy: true")
        if rule.deploy_condition != "manual":
            raise fail("deploy_condition has no effect without deploy: true", f"{base}.deploy_condition", "add deploy: true")
    if rule.log_to_tracker and stack.component(Kind.EXPERIMENT_TRACKER) is None:
        raise fail(
            f"log_to_tracker: true but stack {stack.name!r} has no experiment_tracker",
            f"{base}.log_to_tracker",
            "add `experiment_tracker: { type: ... }` to the stack, or set log_to_tracker: false",
        )
