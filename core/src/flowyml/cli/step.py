"""``flowyml step run``: the generic step runner remote orchestrators start in their containers."""

from __future__ import annotations

import click


@click.group()
def step() -> None:
    """Run single steps (used by remote orchestrators)."""


@step.command("run")
@click.option("--stack", "stack_name", required=True, help="The stack the run uses.")
@click.option("--snapshot", required=True, help="URI of the run snapshot in the stack's artifact store.")
@click.option("--step", "step_name", required=True, help="The step to run.")
def run_step(stack_name: str, snapshot: str, step_name: str) -> None:
    """Run one step of a remote run, reading inputs from and writing outputs to the artifact store."""
    from flowyml.runner.engine import run_remote_step

    code = run_remote_step(stack_name, snapshot, step_name)
    raise click.exceptions.Exit(code)
