"""``flowyml run TARGET``."""

from __future__ import annotations

from pathlib import Path

import click
import yaml

from flowyml.cli.output import StepProgress
from flowyml.errors import FlowymlError, RunInterrupted

#: The exit status of a command stopped by Ctrl-C (128 + SIGINT), as shells report it.
EXIT_INTERRUPTED = 130


def parse_params(pairs: tuple[str, ...]) -> dict[str, object]:
    """``--param k=v``: values are read as YAML scalars (``3`` is an int, ``true`` a bool)."""
    params: dict[str, object] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise FlowymlError(f"--param {pair!r} is not KEY=VALUE", hint="e.g. --param epochs=10")
        try:
            params[key] = yaml.safe_load(raw) if raw else ""
        except yaml.YAMLError:
            params[key] = raw
    return params


def _project_line(pipeline: object) -> str:
    """Which flowyml.yaml the run uses (found from the pipeline file's folder upwards, else from here)."""
    from flowyml.config.source import find_config
    from flowyml.runner.targets import project_start

    config = find_config(project_start(pipeline))
    if config is None:
        return f"no flowyml.yaml found: the built-in local stack, state in {Path.cwd()}"
    return f"using {_shown(config)}"


def _from_project(pipeline: object) -> str:
    """``cd FOLDER && `` when the run's project is not the working directory's."""
    from flowyml.runner.targets import project_start

    start = project_start(pipeline)
    if start is None:
        return ""
    from flowyml.config.source import find_config

    config = find_config(start)
    here = find_config(Path.cwd())
    if config is None or config == here:
        return ""
    return f"cd {_shown(config.parent)} && "


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


@click.command("run")
@click.argument("target")
@click.option("--stack", "-s", "stack_name", help="Stack to run on (overrides FLOWYML_STACK and active_stack).")
@click.option("--param", "-p", "params", multiple=True, metavar="KEY=VALUE", help="Pipeline parameter (repeatable).")
@click.option("--no-cache", is_flag=True, help="Run every step even when a cached result exists.")
def run_cmd(target: str, stack_name: str | None, params: tuple[str, ...], no_cache: bool) -> None:
    """Run the pipeline in TARGET: file.py, file.py:NAME, module or module:NAME."""
    from flowyml.runner.engine import run_pipeline
    from flowyml.runner.targets import load_target

    pipeline = load_target(target)
    values = parse_params(params)
    click.echo(f"Running pipeline {pipeline.name!r} ({_project_line(pipeline)})")
    try:
        result = run_pipeline(pipeline, params=values, stack=stack_name, cache=not no_cache, target=target, progress=StepProgress())
    except RunInterrupted as stopped:
        click.echo(f"\nRun {stopped.run_id} interrupted (Ctrl-C); recorded as interrupted.", err=True)
        click.echo(f"Details: flowyml runs show {stopped.run_id}", err=True)
        raise click.exceptions.Exit(EXIT_INTERRUPTED) from None
    click.echo(f"Run {result.run_id} on stack {result.stack_name!r}: {result.status}")
    for event in result.events:
        if event.action in ("register", "deploy", "decision") or event.status == "failed":
            click.echo(f"  {event.action}: {event.detail}")
    click.echo(f"Details: {_from_project(pipeline)}flowyml runs show {result.run_id}")
    if not result.success:
        raise click.exceptions.Exit(1)
