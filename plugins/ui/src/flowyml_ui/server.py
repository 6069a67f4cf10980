"""Running the dashboard: the address check, the access token, uvicorn until Ctrl-C."""

from __future__ import annotations

import contextlib
import ipaddress
import secrets
import socket
from pathlib import Path

import click

from flowyml.errors import ConfigError

__all__ = ["is_loopback", "serve"]


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def serve(host: str = "127.0.0.1", port: int = 8237, token: str | None = None, project_dir: Path | None = None) -> None:
    """Serve the project of ``project_dir`` (default: the current folder's) on ``host:port`` until Ctrl-C."""
    import uvicorn

    from flowyml import Client
    from flowyml_ui.app import create_app

    if not is_loopback(host) and not token:
        token = secrets.token_urlsafe(24)
        click.echo(f"Binding {host} (not loopback): every request must carry this token (generated; pass --token to choose one):\n  {token}")
    client = Client(project_dir)  # fails here, clearly, on a broken flowyml.yaml
    root = client.project_dir
    client.close()
    if port == 0:
        port = _free_port(host)
    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            probe.bind((host, port))
    except OSError as exc:
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}", hint="pick another port with --port N (0: any free one)") from exc
    app = create_app(root, token=token)
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/" + (f"?token={token}" if token else "")
    click.echo(f"FlowyML dashboard of {root} at {url}  (Ctrl-C stops it)", err=False)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False, lifespan="off")
    with contextlib.suppress(KeyboardInterrupt):  # uvicorn handles Ctrl-C itself; a second one lands here
        uvicorn.Server(config).run()
    click.echo("Stopped.")
