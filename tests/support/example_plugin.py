"""The example third-party plugin (tests/example_plugin), installed for real into a private folder, and Python run with it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SOURCE = Path(__file__).parent.parent / "example_plugin"


def install_example_plugin(target: Path) -> Path:
    """Build and install tests/example_plugin into ``target`` (no index, no network); return ``target``."""
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", "--no-build-isolation", "--target", str(target), str(SOURCE)],
        check=True,
        capture_output=True,
    )
    return target


def site_path(site: Path) -> str:
    """PYTHONPATH with ``site`` first (what is on it already, e.g. a checkout's sources, stays)."""
    return os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH", "")]))


def python(code: str, cwd: Path, site: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter that sees the plugin installed in ``site``."""
    # `flowyml step run` is found on PATH, as inside a container image.
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    full = {**os.environ, "PYTHONPATH": site_path(site), "PATH": path, **(env or {})}
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=full, capture_output=True, text=True, timeout=300)
