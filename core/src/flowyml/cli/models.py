"""``flowyml model list|show|deploy|approve|undeploy|endpoints``."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from flowyml.cli.output import table

if TYPE_CHECKING:
    from flowyml.plugins.types import ModelVersion

stack_option = click.option("--stack", "-s", "stack_name", help="Stack whose registry/deployer to use (default: the active stack).")


@click.group()
def model() -> None:
    """Registered models and their deployments."""


@model.command("list")
@click.argument("name", required=False)
@stack_option
def list_models(name: str | None, stack_name: str | None) -> None:
    """Registered model versions (of NAME only, when given), and the endpoints serving each."""
    from flowyml.models import list_models as _list
    from flowyml.models import serving

    versions = _list(name, stack_name)
    if not versions:
        click.echo("No registered model yet. Route Model with `register: true` in flowyml.yaml.")
        return
    served = serving(stack_name)

    def where(v: ModelVersion) -> str:
        return ", ".join(f"{d.endpoint_name}" + (f" ({d.url})" if d.url else "") for d in served.get((v.name, str(v.version)), []))

    table(
        [
            (v.name, v.version, v.status, v.framework or "", ", ".join(f"{k}={val:.4g}" if isinstance(val, float) else f"{k}={val}" for k, val in v.metrics.items()), v.run_id or "", where(v))
            for v in versions
        ],
        ("NAME", "VERSION", "STATUS", "FRAMEWORK", "METRICS", "RUN", "SERVING AT"),
    )


@model.command("show")
@click.argument("name")
@click.option("--version", "-v", "version", help="Version (default: the latest).")
@stack_option
def show_model(name: str, version: str | None, stack_name: str | None) -> None:
    """Everything the registry keeps about one version."""
    from flowyml.models import get_model

    found = get_model(name, version, stack_name)
    click.echo(json.dumps(found.to_dict(), indent=2, default=str))


@model.command("deploy")
@click.argument("name")
@click.option("--version", "-v", "version", required=True)
@click.option("--endpoint", "-e", help="Endpoint name (default: the rule's endpoint_name, else the model name).")
@stack_option
def deploy(name: str, version: str, endpoint: str | None, stack_name: str | None) -> None:
    """Deploy a registered version with the stack's model deployer."""
    from flowyml.models import deploy_model

    done = deploy_model(name, version, endpoint, stack_name)
    where = f" at {done.url}" if done.url else ""
    click.echo(f"Deployed {name} version {version} to endpoint {done.endpoint_name!r}{where}")


@model.command("approve")
@click.argument("name")
@click.option("--version", "-v", "version", required=True)
@click.option("--no-deploy", is_flag=True, help="Only approve, even when the stack deploys on approval.")
@stack_option
def approve(name: str, version: str, no_deploy: bool, stack_name: str | None) -> None:
    """Approve a version; with deploy_condition: on_approval it is then deployed."""
    from flowyml.models import approve_model

    approved, deployment = approve_model(name, version, stack_name, deploy=False if no_deploy else None)
    click.echo(f"Approved {approved.name} version {approved.version}")
    if deployment:
        where = f" at {deployment.url}" if deployment.url else ""
        click.echo(f"Deployed to endpoint {deployment.endpoint_name!r}{where}")


@model.command("undeploy")
@click.argument("endpoint")
@stack_option
def undeploy(endpoint: str, stack_name: str | None) -> None:
    """Stop serving ENDPOINT and remove what the deployer created for it."""
    from flowyml.errors import DeploymentError
    from flowyml.models import undeploy_model

    if not undeploy_model(endpoint, stack_name):
        raise DeploymentError(f"nothing is deployed at endpoint {endpoint!r}", hint="list endpoints with: flowyml model endpoints")
    click.echo(f"Undeployed endpoint {endpoint!r}")


@model.command("endpoints")
@stack_option
def endpoints(stack_name: str | None) -> None:
    """Deployments the stack's model deployer manages."""
    from flowyml.models import list_deployments

    rows = list_deployments(stack_name)
    if not rows:
        click.echo("Nothing deployed.")
        return
    table([(d.endpoint_name, d.model_name, d.model_version, d.status, d.url or "") for d in rows], ("ENDPOINT", "MODEL", "VERSION", "STATUS", "URL"))
