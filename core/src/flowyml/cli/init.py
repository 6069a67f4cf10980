"""``flowyml init``: write a starter flowyml.yaml."""

from __future__ import annotations

from pathlib import Path

import click

from flowyml.errors import ConfigError

STARTER = """\
# FlowyML stacks: switch infrastructure with `flowyml stack set NAME` or FLOWYML_STACK.
stacks:
  local:
    orchestrator: { type: local }
    artifact_store: { type: local, path: "./artifacts" }
    model_registry: { type: local }
    model_deployer: { type: local }
    experiment_tracker: { type: local }
    artifact_routing:
      Model:
        register: true
        deploy: true
        deploy_condition: manual     # or: auto (with deploy_min_metrics), on_approval
      Metrics: { log_to_tracker: true }
      Parameters: { log_to_tracker: true }

active_stack: local
"""


@click.command("init")
@click.option("--force", is_flag=True, help="Overwrite an existing flowyml.yaml.")
def init(force: bool) -> None:
    """Write a starter flowyml.yaml (the local stack) in the current folder."""
    path = Path("flowyml.yaml")
    if path.exists() and not force:
        raise ConfigError(f"{path.resolve()} exists already", hint="edit it, or pass --force to replace it")
    path.write_text(STARTER, encoding="utf-8")
    click.echo(f"Wrote {path.resolve()}")
