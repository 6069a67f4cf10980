"""`flowyml ui` itself: the URL it prints, the token beyond loopback, Ctrl-C."""

from __future__ import annotations

import re
import urllib.error
import urllib.request

import pytest
from ui_support import UiServer, free_port


def status_of(url: str, **headers: str) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_ui_prints_its_url_serves_and_stops_on_ctrl_c(ui_project) -> None:
    port = free_port()
    server = UiServer(ui_project.path, "--port", str(port))
    assert server.url == f"http://127.0.0.1:{port}/"
    assert status_of(server.url) == 200
    out = server.stop()
    assert "Stopped." in out and server.process.returncode == 0, out


def test_beyond_loopback_a_token_is_generated_and_required(ui_project) -> None:
    port = free_port()
    server = UiServer(ui_project.path, "--host", "0.0.0.0", "--port", str(port))
    try:
        printed = "".join(server.lines)
        token = re.search(r"generated; pass --token to choose one\):\n\s+(\S+)", printed).group(1)
        assert server.url.endswith(f"?token={token}")
        local = f"http://127.0.0.1:{port}/"
        assert status_of(local) == 401
        assert status_of(local, Authorization="Bearer not-it") == 401
        assert status_of(local, Authorization=f"Bearer {token}") == 200
    finally:
        server.stop()


@pytest.mark.parametrize("port", ["70000"])
def test_a_bad_port_is_a_clear_error(ui_project, port: str) -> None:
    import subprocess

    from ui_support import FLOWYML

    done = subprocess.run([str(FLOWYML), "ui", "--port", port], cwd=ui_project.path, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "Traceback" not in done.stderr and "70000" in done.stderr
