"""``flowyml init``: write a starter flowyml.yaml."""

from __future__ import annotations

from pathlib import Path

import click

from flowyml.config.defaults import STARTER
from flowyml.errors import ConfigError


@click.command("init")
@click.option("--force", is_flag=True, help="Overwrite an existing flowyml.yaml.")
def init(force: bool) -> None:
    """Write a starter flowyml.yaml (the local stack) in the current folder."""
    path = Path("flowyml.yaml")
    if path.exists() and not force:
        raise ConfigError(f"{path.resolve()} exists already", hint="edit it, or pass --force to replace it")
    path.write_text(STARTER, encoding="utf-8")
    click.echo(f"Wrote {path.resolve()}")
