"""Model commands from Python: list, show, deploy, approve, undeploy (the CLI calls these)."""

from __future__ import annotations

from pathlib import Path

from flowyml.config.loader import load_project, resolve_stack_name
from flowyml.errors import ConfigError, DeploymentError, ModelNotFoundError
from flowyml.metadata.store import MetadataStore
from flowyml.plugins.kinds import Kind
from flowyml.plugins.types import Deployment, ModelVersion
from flowyml.stacks.stack import Stack

__all__ = [
    "approve_model",
    "deploy_model",
    "get_model",
    "list_deployments",
    "list_models",
    "model_stack",
    "serving",
    "undeploy_model",
]


def model_stack(
    stack: str | None = None, *, needs: tuple[Kind, ...] = (Kind.MODEL_REGISTRY,), project_dir: Path | None = None
) -> Stack:
    """The stack model commands act on (same precedence as runs), with the components they need.

    ``project_dir`` is the project (default: the one of the current folder).
    """
    project = load_project(project_dir)
    choice = resolve_stack_name(project, stack)
    config = project.stack(choice.name)
    for kind in needs:
        if config.component(kind) is None:
            raise ConfigError(
                f"stack {config.name!r} has no {kind.value}",
                path=config.path,
                line=project.source.line(config.path),
                file=project.source.file,
                hint=f"add `{kind.value}: {{ type: ... }}` to it, or pick another stack with --stack",
            )
    built = Stack(project, config, choice.reason)
    built.attach_metadata(MetadataStore.of(project))
    return built


def list_models(name: str | None = None, stack: str | None = None, *, project_dir: Path | None = None) -> list[ModelVersion]:
    """Registered versions (of ``name`` only, when given) in the registry of ``stack`` (default: the active stack)."""
    return model_stack(stack, project_dir=project_dir).model_registry.list(name)


def serving(stack: str | None = None, *, project_dir: Path | None = None) -> dict[tuple[str, str], list[Deployment]]:
    """(model name, version) -> the deployments serving it, from the stack's model deployer (empty without one)."""
    active = model_stack(stack, needs=(), project_dir=project_dir)
    if not active.has(Kind.MODEL_DEPLOYER):
        return {}
    found: dict[tuple[str, str], list[Deployment]] = {}
    for deployment in active.model_deployer.list():
        if deployment.status == "serving":
            found.setdefault((deployment.model_name, str(deployment.model_version)), []).append(deployment)
    return found


def get_model(name: str, version: str | None = None, stack: str | None = None, *, project_dir: Path | None = None) -> ModelVersion:
    """One version of ``name`` (the latest when ``version`` is None); :class:`ModelNotFoundError` when absent."""
    return _get(model_stack(stack, project_dir=project_dir), name, version)


def _get(active: Stack, name: str, version: str | None) -> ModelVersion:
    found = active.model_registry.get(name, version)
    if found is None:
        what = f"version {version} of model {name!r}" if version else f"model {name!r}"
        raise ModelNotFoundError(
            f"{what} is not in the {active.type_of(Kind.MODEL_REGISTRY)} registry of stack {active.name!r}",
            hint="list what is registered with: flowyml model list",
        )
    return found


def _endpoint_for(active: Stack, model: ModelVersion, endpoint: str | None) -> str:
    if endpoint:
        return endpoint
    rule = active.config.rule_for("Model")
    return (rule.endpoint_name if rule and rule.endpoint_name else None) or model.name


def deploy_model(
    name: str, version: str, endpoint: str | None = None, stack: str | None = None, *, project_dir: Path | None = None
) -> Deployment:
    """Deploy a registered version (the spec's manual deployment)."""
    active = model_stack(stack, needs=(Kind.MODEL_REGISTRY, Kind.MODEL_DEPLOYER), project_dir=project_dir)
    model = _get(active, name, version)
    if model.status in ("pending_approval", "rejected"):
        raise DeploymentError(
            f"{name} version {version} is {model.status}; it cannot be deployed",
            hint=f"approve it first: flowyml model approve {name} --version {version}",
        )
    deployment = active.model_deployer.deploy(model, _endpoint_for(active, model, endpoint), dict(model.serving_config or {}))
    active.close()
    return deployment


def approve_model(
    name: str, version: str, stack: str | None = None, deploy: bool | None = None, *, project_dir: Path | None = None
) -> tuple[ModelVersion, Deployment | None]:
    """Approve a pending version; deploy it when the stack's Model rule says ``deploy_condition: on_approval``."""
    active = model_stack(stack, project_dir=project_dir)
    _get(active, name, version)
    approved = active.model_registry.set_status(name, version, "approved")
    rule = active.config.rule_for("Model")
    if deploy is None:
        deploy = bool(rule and rule.deploy and rule.deploy_condition == "on_approval" and active.has(Kind.MODEL_DEPLOYER))
    deployment = None
    if deploy:
        deployment = active.model_deployer.deploy(approved, _endpoint_for(active, approved, None), dict(approved.serving_config or {}))
    active.close()
    return approved, deployment


def undeploy_model(endpoint: str, stack: str | None = None, *, project_dir: Path | None = None) -> bool:
    """Stop the deployment at ``endpoint``; False when nothing was deployed there."""
    active = model_stack(stack, needs=(Kind.MODEL_DEPLOYER,), project_dir=project_dir)
    done = active.model_deployer.undeploy(endpoint)
    active.close()
    return done


def list_deployments(stack: str | None = None, *, project_dir: Path | None = None) -> list[Deployment]:
    """Every deployment the stack's model deployer knows."""
    active = model_stack(stack, needs=(Kind.MODEL_DEPLOYER,), project_dir=project_dir)
    return active.model_deployer.list()
