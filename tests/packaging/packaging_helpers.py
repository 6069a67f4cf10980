"""Helpers of the packaging tests: fresh virtual environments, the repository's distributions."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: A pip command should never take this long; it is a guard against a hung index, not a speed target.
PIP_TIMEOUT = 1200


def clean_env() -> dict[str, str]:
    """The machine's environment without anything that makes a checkout install differ from a user's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLOWYML_", "VIRTUAL_ENV", "PYTHON"))}
    env["PIP_NO_INPUT"] = "1"
    return env


def make_venv(path: Path, *, latest_pip: bool = False) -> Path:
    """A fresh venv at ``path`` (with the pip this Python ships, or the newest pip); returns its python."""
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True, env=clean_env(), timeout=PIP_TIMEOUT)
    python = path / "bin" / "python"
    if latest_pip:
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True, env=clean_env(), timeout=PIP_TIMEOUT, capture_output=True)
    return python


def pip_version(python: Path) -> str:
    out = subprocess.run([str(python), "-m", "pip", "--version"], capture_output=True, text=True, check=True).stdout
    return out.split()[1]


def _build_module():
    spec = importlib.util.spec_from_file_location("build_dists", ROOT / "tools" / "build_dists.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build_dists = _build_module()


