"""``flowyml stack list|show|set|check``."""

from __future__ import annotations

import click

from flowyml.cli.output import table

REASONS = {
    "flag": "--stack",
    "use_stack": "use_stack()",
    "env": "FLOWYML_STACK",
    "file": "active_stack in flowyml.yaml",
    "default": "default",
}


@click.group()
def stack() -> None:
    """Stacks defined in flowyml.yaml."""


@stack.command("list")
def list_stacks() -> None:
    """All stacks; the active one is marked, with why it is active."""
    from flowyml.config.loader import load_project, resolve_stack_name

    project = load_project()
    choice = resolve_stack_name(project)
    source = str(project.file) if project.file else "built-in default (no flowyml.yaml)"
    click.echo(f"Stacks from {source}:")
    for name, config in project.stacks.items():
        mark = "*" if name == choice.name else " "
        kinds = ", ".join(f"{k.value}={c.type}" for k, c in config.components.items())
        why = f"  (active: {REASONS[choice.reason]})" if name == choice.name else ""
        click.echo(f" {mark} {name}{why}\n      {kinds}")


@stack.command("show")
@click.argument("name", required=False)
def show_stack(name: str | None) -> None:
    """Components and routing table of NAME (default: the active stack). Secrets are masked."""
    from flowyml.config.loader import load_project, resolve_stack_name
    from flowyml.config.schema import ROUTABLE_TYPES
    from flowyml.plugins.kinds import FIRST_PARTY
    from flowyml.plugins.loader import iter_backends
    from flowyml.stacks.describe import describe_rule, mask_options

    project = load_project()
    choice = resolve_stack_name(project, name)
    config = project.stack(choice.name)
    installed = {(b.kind, b.type): b for b in iter_backends()}
    why = "" if name else f" (active: {REASONS[choice.reason]})"
    click.echo(f"Stack {config.name}{why}")
    rows = []
    for kind, comp in config.components.items():
        backend = installed.get((kind, comp.type))
        if backend:
            plugin = f"{backend.distribution} {backend.version}"
        else:
            dist = FIRST_PARTY.get((kind, comp.type))
            plugin = f"NOT INSTALLED (pip install {dist})" if dist else "NOT INSTALLED"
        options = ", ".join(f"{k}={v}" for k, v in mask_options(comp.options).items())
        rows.append((kind.value, comp.type, options, plugin))
    table(rows, ("COMPONENT", "TYPE", "OPTIONS", "PLUGIN"))
    click.echo("\nRouting")
    routed = [t for t in ROUTABLE_TYPES if t in config.routing] + [t for t in ROUTABLE_TYPES if t not in config.routing]
    described = [describe_rule(config, t, config.rule_for(t)) for t in routed]
    table([(d["type"], d["store"], d["register"], d["deploy"], d["tracker"]) for d in described], ("TYPE", "STORE", "REGISTER", "DEPLOY", "TRACKER"))
    if config.on_route_error != "fail":
        click.echo(f"\nRoute failures: {config.on_route_error} (runs do not fail on routing errors)")


@stack.command("set")
@click.argument("name")
def set_stack(name: str) -> None:
    """Make NAME the active stack (changes only the active_stack: line of flowyml.yaml)."""
    import os

    from flowyml.config.loader import load_project
    from flowyml.stacks.describe import set_active_stack
    from flowyml.stacks.selection import STACK_ENV

    path = set_active_stack(load_project(), name)
    click.echo(f"Active stack is now {name!r} ({path})")
    if os.environ.get(STACK_ENV) and os.environ[STACK_ENV] != name:
        click.echo(f"Note: {STACK_ENV}={os.environ[STACK_ENV]} is set in this shell and takes precedence.")


@stack.command("check")
@click.argument("name", required=False)
def check_stack(name: str | None) -> None:
    """Build every component of NAME and verify it can be reached and written to."""
    from flowyml.errors import FlowymlError
    from flowyml.runner.engine import prepare_stack

    active = prepare_stack(name)
    click.echo(f"Checking stack {active.name!r}")
    failures = 0
    for facade in active.facades:
        where = f"{facade.kind.value} {facade.type}"
        try:
            lines = facade.check()
        except Exception as exc:  # shown to the user, counted as a failure
            failures += 1
            message = str(exc) if isinstance(exc, FlowymlError) else f"{type(exc).__name__}: {exc}"
            click.echo(click.style(f"  ✗ {where}: {message}", fg="red"))
            continue
        if lines is None:
            click.echo(f"  ✓ {where}: built (no reachability check offered)")
        else:
            click.echo(f"  ✓ {where}: {'; '.join(lines) or 'ok'}")
    active.close()
    if failures:
        raise click.exceptions.Exit(1)
