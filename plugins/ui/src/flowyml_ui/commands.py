"""The ``flowyml ui`` command, added to the command line through ``flowyml_register_commands``.

This module is imported on every ``flowyml`` invocation: it imports only
click; the web stack is imported when ``flowyml ui`` runs.
"""

from __future__ import annotations

from typing import Any

import flowyml


@flowyml.hookimpl
def flowyml_register_commands(cli: Any) -> None:
    import click

    @cli.command("ui")
    @click.option("--port", "-p", default=8237, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on (0: a free one).")
    @click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind; anything but loopback needs --token.")
    @click.option("--token", envvar="FLOWYML_UI_TOKEN", help="Access token every request must carry (generated and printed when binding beyond loopback without one).")
    def ui(port: int, host: str, token: str | None) -> None:
        """Serve the web dashboard of this project (runs, graphs, artifacts, metrics, models, stacks) until Ctrl-C."""
        from flowyml_ui.server import serve

        serve(host=host, port=port, token=token)
