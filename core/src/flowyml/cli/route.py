"""``flowyml route plan``: where each step output would go, without running anything."""

from __future__ import annotations

import click

from flowyml.cli.output import table


@click.group()
def route() -> None:
    """Inspect routing."""


@route.command("plan")
@click.argument("target")
@click.option("--stack", "-s", "stack_name", help="Stack to plan for (default: the active stack).")
@click.option("--param", "-p", "params", multiple=True, metavar="KEY=VALUE")
def plan(target: str, stack_name: str | None, params: tuple[str, ...]) -> None:
    """For each step output of TARGET: store location, registration, deployment condition, tracker."""
    from flowyml.cli.run import parse_params
    from flowyml.config.loader import load_project, resolve_stack_name
    from flowyml.plugins.install import missing_plugins_line
    from flowyml.routing.light_import import file_project_start, plan_pipeline
    from flowyml.routing.plan import plan_routes
    from flowyml.routing.validate import validate_stack
    from flowyml.stacks.validation import check_stack_options

    project = load_project(file_project_start(target))
    choice = resolve_stack_name(project, stack_name)
    config = project.stack(choice.name)
    validate_stack(project, config)
    check_stack_options(project, config)
    graph, _light = plan_pipeline(target, parse_params(params))  # without the pipeline's heavy imports when it can
    from flowyml.config.step_settings import resolve

    resolve(graph.name, graph.nodes, [project.steps, config.steps], file=project.source.file)  # steps: names a step the pipeline lacks
    rows = plan_routes(graph, config)
    click.echo(f"Routing plan for pipeline {graph.name!r} on stack {config.name!r} (nothing is run)")
    table([(r["step"], r["output"], r["type"], r["store"], r["register"], r["deploy"], r["tracker"]) for r in rows], ("STEP", "OUTPUT", "TYPE", "STORE", "REGISTER", "DEPLOY", "TRACKER"))
    not_installed = missing_plugins_line((kind, comp.type) for kind, comp in config.components.items())
    if not_installed:
        click.echo(f"\n{not_installed}")
    missing = [r for r in rows if r["type"].startswith("Value (unannotated")]
    if missing:
        click.echo("\nSteps without a return annotation are planned as plain values; annotate them (-> Model) to be sure.")
