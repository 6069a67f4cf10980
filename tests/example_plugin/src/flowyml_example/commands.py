"""Adds `flowyml example-hello` to the command line (the `flowyml_register_commands` hook)."""

from __future__ import annotations

from typing import Any

import flowyml


@flowyml.hookimpl
def flowyml_register_commands(cli: Any) -> None:
    import click

    @cli.command("example-hello")
    @click.argument("name")
    def hello(name: str) -> None:
        """Greet NAME (an example plugin command)."""
        click.echo(f"hello {name} from flowyml-example")

    @cli.command("run")
    def clash() -> None:
        """A name the core has: refused, the core's `run` stays."""
