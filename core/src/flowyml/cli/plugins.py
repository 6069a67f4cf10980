"""``flowyml plugins list``."""

from __future__ import annotations

import click

from flowyml.cli.output import table


@click.group()
def plugins() -> None:
    """Installed backends."""


@plugins.command("list")
def list_plugins() -> None:
    """Installed backends: kind, type, distribution and version (read from metadata, nothing imported)."""
    from flowyml.plugins.install import install_command
    from flowyml.plugins.kinds import FIRST_PARTY
    from flowyml.plugins.loader import DISABLE_ENV, iter_backends

    rows = [
        (b.kind.value, b.type, b.distribution, b.version, "disabled" if b.disabled else "")
        for b in sorted(iter_backends(), key=lambda b: (b.kind.value, b.type))
    ]
    if not rows:
        click.echo("No backend installed (flowyml-local should always be there: reinstall flowyml).")
        return
    table(rows, ("KIND", "TYPE", "DISTRIBUTION", "VERSION", f"({DISABLE_ENV})"))
    installed = {b.distribution for b in iter_backends()}
    absent = sorted(set(FIRST_PARTY.values()) - installed)
    if absent:
        click.echo("\nFirst-party plugins not installed here:")
        for dist in absent:
            click.echo(f"  {dist}: {install_command([dist])}")
