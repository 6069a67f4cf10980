"""Fixtures for the core test suite."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
FLOWYML = Path(sys.executable).with_name("flowyml")


class Project:
    """A temporary FlowyML project folder (the working directory during the test)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def write_config(self, text: str) -> Path:
        target = self.path / "flowyml.yaml"
        target.write_text(text, encoding="utf-8")
        return target

    def copy(self, name: str, as_name: str | None = None) -> Path:
        target = self.path / (as_name or name)
        shutil.copy(DATA / name, target)
        return target

    def write(self, name: str, text: str) -> Path:
        target = self.path / name
        target.write_text(text, encoding="utf-8")
        return target

    def cli(self, *args: str, env: dict[str, str] | None = None, check: bool | None = None, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        """Run the real ``flowyml`` command in this project; ``check=True`` asserts exit 0, False asserts failure."""
        import os

        full_env = {**os.environ, **(env or {})}
        done = subprocess.run([str(FLOWYML), *args], cwd=self.path, env=full_env, capture_output=True, text=True, timeout=timeout)
        if check is True:
            assert done.returncode == 0, f"flowyml {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
        elif check is False:
            assert done.returncode != 0, f"flowyml {' '.join(args)} should have failed:\n{done.stdout}"
        return done


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Project]:
    monkeypatch.chdir(tmp_path)
    proj = Project(tmp_path)
    yield proj
    _stop_servers(tmp_path)


def _stop_servers(path: Path) -> None:
    """Stop any local model server a test started (even when the test failed)."""
    db = path / ".flowyml" / "metadata.db"
    if not db.exists():
        return
    import sqlite3

    from flowyml_local.model_deployer import stop_process

    with sqlite3.connect(db) as conn:
        try:
            pids = [r[0] for r in conn.execute("SELECT pid FROM deployments")]
        except sqlite3.OperationalError:
            return
    for pid in pids:
        if pid:
            stop_process(pid)


@pytest.fixture
def spec_config() -> str:
    return (DATA / "spec_flowyml.yaml").read_text(encoding="utf-8")


@pytest.fixture
def run_cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(FLOWYML), *args], cwd=cwd, capture_output=True, text=True, timeout=180)

    return run


@pytest.fixture(scope="session")
def example_plugin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tests/example_plugin built and installed into a private folder: put it on PYTHONPATH to use it."""
    from support.example_plugin import install_example_plugin

    return install_example_plugin(tmp_path_factory.mktemp("site"))
