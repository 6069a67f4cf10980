"""``flowyml stack list|show|set|check``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from flowyml.cli.output import table

if TYPE_CHECKING:
    from flowyml.config.schema import ProjectConfig

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
    """All stacks; the active one is marked, with why it is active; invalid ones with their first error."""
    from flowyml.config.loader import choose_stack_name, load_project
    from flowyml.stacks.validation import structural_problem

    project = load_project()
    choice = choose_stack_name(project)
    if choice.name not in project.names and project.file is not None:
        project.stack(choice.name)  # an unknown --stack/FLOWYML_STACK: the usual error
    source = str(project.file) if project.file else "built-in default (no flowyml.yaml)"
    lines = [f"Stacks from {source}:"]
    invalid = 0
    for name in project.names or tuple(project.stacks):
        mark = "*" if name == choice.name else " "
        why = f"  (active: {REASONS[choice.reason]})" if name == choice.name else ""
        problem = structural_problem(project, name)
        if problem is not None:
            invalid += 1
            first = str(problem.message).splitlines()[0]
            lines.append(f" {mark} {name}{why}  INVALID\n      {first}")
            continue
        config = project.stacks[name]
        kinds = ", ".join(f"{c.kind.value}={c.type}" for c in config.all_components())
        lines.append(f" {mark} {name}{why}\n      {kinds}")
    if invalid:
        lines.append(f"\n{invalid} invalid stack{'s' if invalid > 1 else ''}: `flowyml stack check NAME` shows why; the others work.")
    click.echo("\n".join(lines))


@stack.command("show")
@click.argument("name", required=False)
def show_stack(name: str | None) -> None:
    """Components and routing table of NAME (default: the active stack). Secrets are masked.

    Option types are checked against each installed backend; problems are listed (exit status 1).
    """
    from flowyml.config.loader import load_project, resolve_stack_name
    from flowyml.config.schema import ROUTABLE_TYPES
    from flowyml.plugins.install import missing_plugins_line
    from flowyml.plugins.kinds import FIRST_PARTY
    from flowyml.plugins.loader import iter_backends
    from flowyml.redaction import redact
    from flowyml.stacks.describe import describe_rule, mask_options
    from flowyml.stacks.validation import option_problems, structural_problem

    project = load_project()
    choice = resolve_stack_name(project, name)
    config = project.stack(choice.name)
    installed = {(b.kind, b.type): b for b in iter_backends()}
    why = "" if name else f" (active: {REASONS[choice.reason]})"
    click.echo(f"Stack {config.name}{why}")
    click.echo(f"metadata: {_metadata_location(project)}")
    rows = []
    for comp in config.all_components():
        kind = comp.kind
        backend = installed.get((kind, comp.type))
        if backend:
            plugin = f"{backend.distribution} {backend.version}"
        else:
            dist = FIRST_PARTY.get((kind, comp.type))
            plugin = f"NOT INSTALLED (pip install {dist})" if dist else "NOT INSTALLED"
        options = ", ".join(f"{k}={v}" for k, v in mask_options(comp.options).items())
        rows.append((kind.value, comp.type, redact(options), plugin))
    table(rows, ("COMPONENT", "TYPE", "OPTIONS", "PLUGIN"))
    missing = missing_plugins_line((kind, comp.type) for kind, comp in config.components.items())
    if missing:
        click.echo(missing)
    click.echo("\nRouting")
    routed = [t for t in ROUTABLE_TYPES if t in config.routing] + [t for t in ROUTABLE_TYPES if t not in config.routing]
    described = [describe_rule(config, t, config.rule_for(t)) for t in routed]
    table([(d["type"], d["store"], d["register"], d["deploy"], d["tracker"]) for d in described], ("TYPE", "STORE", "REGISTER", "DEPLOY", "TRACKER"))
    if config.on_route_error != "fail":
        click.echo(f"\nRoute failures: {config.on_route_error} (runs do not fail on routing errors)")
    problems = [p for p in [structural_problem(project, config.name)] if p is not None]
    option_errors, notes = option_problems(project, config)
    problems += option_errors
    for note in notes:
        click.echo(f"\nNote: {note}")
    if problems:
        click.echo(click.style(f"\nProblems ({len(problems)}):", fg="red", bold=True))
        for problem in problems:
            click.echo(f"  ✗ {problem.message}")
            if problem.hint:
                click.echo(f"    hint: {problem.hint}")
        raise click.exceptions.Exit(1)


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
@click.option("--all", "check_all", is_flag=True, help="Check every stack of flowyml.yaml (exit status 1 if any fails).")
def check_stack(name: str | None, check_all: bool) -> None:
    """Build every component of NAME and verify it can be reached and written to."""
    if check_all:
        if name:
            raise click.UsageError("give a stack NAME or --all, not both")
        from flowyml.config.loader import load_project

        project = load_project()
        names = project.names or tuple(project.stacks)
        failed = [n for n in names if not _check_one(n)]
        click.echo(f"\n{len(names) - len(failed)} of {len(names)} stacks passed" + (f"; failed: {', '.join(failed)}" if failed else ""))
        if failed:
            raise click.exceptions.Exit(1)
        return
    if not _check_one(name, raise_errors=True):
        raise click.exceptions.Exit(1)


def _check_one(name: str | None, *, raise_errors: bool = False) -> bool:
    """Check one stack, printing a line per component; False when anything failed."""
    from flowyml.errors import FlowymlError
    from flowyml.redaction import redact
    from flowyml.runner.engine import prepare_stack

    try:
        active = prepare_stack(name)
    except FlowymlError as exc:
        if raise_errors:
            raise
        click.echo(f"Checking stack {name!r}")
        click.echo(click.style(f"  ✗ {exc.message}", fg="red"))
        if exc.hint:
            click.echo(f"    hint: {exc.hint}")
        return False
    click.echo(f"Checking stack {active.name!r}")
    failures = 0
    try:
        for facade in active.facades:
            where = f"{facade.kind.value} {facade.type}"
            try:
                lines = facade.check()
            except Exception as exc:  # shown to the user, counted as a failure
                failures += 1
                message = str(exc) if isinstance(exc, FlowymlError) else f"{type(exc).__name__}: {exc}"
                click.echo(click.style(f"  ✗ {where}: {redact(message)}", fg="red"))
                continue
            if lines is None:
                click.echo(f"  ✓ {where}: built (no reachability check offered)")
            else:
                click.echo(f"  ✓ {where}: {redact('; '.join(str(line) for line in lines)) or 'ok'}")
    finally:
        active.close()
    return failures == 0


def _metadata_location(project: ProjectConfig) -> str:
    """Where the project's run history is (password masked); an unresolvable setting is shown as written."""
    from flowyml.errors import FlowymlError
    from flowyml.redaction import redact

    try:
        return project.metadata.resolve(project.project_dir).display
    except FlowymlError as exc:
        return redact(f"{project.metadata.url} ({exc.message})")
