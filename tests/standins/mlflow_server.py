"""Pytest plugin: a real ``mlflow server`` on 127.0.0.1 for tracker plugin tests.

Load it with ``-p standins.mlflow_server`` (with ``tests`` on ``PYTHONPATH``) or
``pytest_plugins = ["standins.mlflow_server"]``.

Fixtures:

* ``mlflow_server`` (session): starts ``mlflow server`` with a SQLite backend store
  and a local artifact destination in a temporary directory, on a free loopback
  port, and yields an :class:`MlflowServer`. The whole process group (gunicorn or
  uvicorn workers included) is stopped at the end of the session.
* ``mlflow_env`` (function): points the ``mlflow`` client at that server through
  environment variables and gives each test its own experiment name.

Only the standard library and pytest are imported at module level: ``mlflow`` is
needed only by the server subprocess and by the tests themselves.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

#: Seconds to wait for ``GET /health``; override with this environment variable.
START_TIMEOUT_ENV = "FLOWYML_MLFLOW_START_TIMEOUT"
DEFAULT_START_TIMEOUT = 90.0
STOP_TIMEOUT = 15.0

#: Environment that keeps MLflow (server and client) from sending anything out.
NO_TELEMETRY_ENV = {"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"}
#: MLflow 3.x servers start seven huey job-consumer processes (GenAI evaluation jobs)
#: with a store in /dev/shm that outlives the server; tracking tests need none of it.
JOB_EXECUTION_ENV = "MLFLOW_SERVER_ENABLE_JOB_EXECUTION"
LOOPBACK_NO_PROXY = "127.0.0.1,localhost"


@dataclass
class MlflowServer:
    """A running ``mlflow server`` subprocess."""

    host: str
    port: int
    root: Path
    process: subprocess.Popen[bytes]
    log_path: Path
    startup_seconds: float = 0.0

    @property
    def tracking_uri(self) -> str:
        """HTTP URI for ``MLFLOW_TRACKING_URI`` / ``mlflow.set_tracking_uri``."""
        return f"http://{self.host}:{self.port}"

    @property
    def backend_store_uri(self) -> str:
        """SQLite URI of the server's tracking and registry store."""
        return f"sqlite:///{self.root / 'mlflow.db'}"

    @property
    def artifacts_dir(self) -> Path:
        """Directory where the server stores proxied artifacts."""
        return self.root / "artifacts"

    def log_tail(self, max_chars: int = 4000) -> str:
        """Return the end of the server's combined stdout/stderr."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "<no server log>"
        return text[-max_chars:]


def _free_port(host: str = "127.0.0.1") -> int:
    """Ask the kernel for a currently unused TCP port on ``host``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _mlflow_command() -> list[str]:
    """Locate the ``mlflow`` CLI of the interpreter running pytest."""
    beside = Path(sys.executable).with_name("mlflow")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("mlflow")
    if found:
        return [found]
    return [sys.executable, "-m", "mlflow"]


def _health_ok(url: str) -> bool:
    """True if ``url`` answers 200; never goes through an HTTP proxy."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _descendants(pid: int) -> set[int]:
    """PIDs of all live descendants of ``pid`` (Linux ``/proc``; empty elsewhere)."""
    children: dict[int, list[int]] = {}
    proc = Path("/proc")
    if not proc.is_dir():
        return set()
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # Field 4 (ppid) follows the parenthesised command name, which may hold spaces.
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found: set[int] = set()
    stack = [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


def _alive(pid: int) -> bool:
    """True if ``pid`` exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        return state != "Z"
    except (OSError, IndexError):
        try:
            os.kill(pid, 0)
        except OSError:
            return False
        return True


def _signal_all(pgid: int, pids: set[int], sig: signal.Signals) -> None:
    """Send ``sig`` to the process group and to each PID, ignoring the departed."""
    with contextlib.suppress(OSError):
        os.killpg(pgid, sig)
    for pid in pids:
        with contextlib.suppress(OSError):
            os.kill(pid, sig)


def stop_process_tree(process: subprocess.Popen[bytes], timeout: float = STOP_TIMEOUT) -> None:
    """Terminate ``process`` (a session leader), its process group and descendants.

    SIGTERM first so gunicorn/uvicorn shut their workers down, then SIGKILL for
    anything still alive after ``timeout`` seconds.
    """
    pgid = process.pid  # started with start_new_session=True
    tree = _descendants(process.pid)
    _signal_all(pgid, tree | {process.pid}, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=timeout)
    while time.monotonic() < deadline and any(_alive(pid) for pid in tree):
        time.sleep(0.1)
    survivors = {pid for pid in tree if _alive(pid)}
    if process.poll() is None or survivors:
        _signal_all(pgid, survivors | {process.pid}, signal.SIGKILL)
        process.wait(timeout=timeout)


def start_mlflow_server(
    root: Path, timeout: float | None = None, enable_jobs: bool = False
) -> MlflowServer:
    """Start ``mlflow server`` with its state under ``root`` and wait for ``/health``.

    ``enable_jobs`` turns MLflow's job execution (huey consumers) back on.

    Raises ``RuntimeError`` (with the server's output) if it exits or is not
    healthy within ``timeout`` seconds; the process is stopped in that case.
    """
    if timeout is None:
        timeout = float(os.environ.get(START_TIMEOUT_ENV, DEFAULT_START_TIMEOUT))
    root.mkdir(parents=True, exist_ok=True)
    (root / "artifacts").mkdir(exist_ok=True)
    host, port = "127.0.0.1", _free_port()
    command = [
        *_mlflow_command(),
        "server",
        "--backend-store-uri", f"sqlite:///{root / 'mlflow.db'}",
        "--artifacts-destination", str(root / "artifacts"),
        "--host", host,
        "--port", str(port),
        "--workers", "1",
    ]  # fmt: skip
    env = {
        **os.environ,
        **NO_TELEMETRY_ENV,
        JOB_EXECUTION_ENV: "true" if enable_jobs else "false",
        "NO_PROXY": LOOPBACK_NO_PROXY,
        "no_proxy": LOOPBACK_NO_PROXY,
    }
    log_path = root / "server.log"
    started = time.monotonic()
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = MlflowServer(host=host, port=port, root=root, process=process, log_path=log_path)
    health_url = f"{server.tracking_uri}/health"
    try:
        while not _health_ok(health_url):
            if process.poll() is not None:
                raise RuntimeError(
                    f"mlflow server exited with code {process.returncode} before "
                    f"becoming healthy; command: {command}\n--- server output ---\n"
                    f"{server.log_tail()}"
                )
            if time.monotonic() - started > timeout:
                raise RuntimeError(
                    f"mlflow server not healthy at {health_url} after {timeout:.0f}s "
                    f"(set {START_TIMEOUT_ENV} to wait longer); command: {command}\n"
                    f"--- server output ---\n{server.log_tail()}"
                )
            time.sleep(0.25)
    except BaseException:
        stop_process_tree(process)
        raise
    server.startup_seconds = time.monotonic() - started
    return server


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    """A real ``mlflow server`` (SQLite store, local artifacts) for the whole session.

    Skips the requesting test when mlflow is not installed (core test session).
    """
    if importlib.util.find_spec("mlflow") is None:
        pytest.skip("mlflow is not installed (installed by the mlflow nox session)")
    server = start_mlflow_server(tmp_path_factory.mktemp("mlflow-server"))
    try:
        yield server
    finally:
        stop_process_tree(server.process)


@dataclass(frozen=True)
class MlflowTestEnv:
    """What ``mlflow_env`` configured for one test."""

    tracking_uri: str
    experiment_name: str
    server: MlflowServer


def _experiment_name(nodeid: str) -> str:
    """A readable, unique experiment name derived from a test id."""
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", nodeid.rsplit("::", 1)[-1]).strip("-")
    return f"{slug[:60] or 'test'}-{uuid.uuid4().hex[:8]}"


def _reset_mlflow_client_state() -> None:
    """End a leaked active run and forget ``mlflow.set_experiment`` state, if loaded."""
    if "mlflow" not in sys.modules:
        return
    import mlflow  # already imported by the test, so this costs nothing

    try:
        while mlflow.active_run() is not None:
            mlflow.end_run()
    except Exception:  # the server may already be gone; state is reset below anyway
        pass
    fluent = getattr(mlflow.tracking, "fluent", None)
    if fluent is not None and hasattr(fluent, "_active_experiment_id"):
        fluent._active_experiment_id = None


@pytest.fixture
def mlflow_env(
    mlflow_server: MlflowServer,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> Iterator[MlflowTestEnv]:
    """Point the mlflow client at ``mlflow_server`` with a fresh experiment name.

    Sets ``MLFLOW_TRACKING_URI``, ``MLFLOW_EXPERIMENT_NAME``, telemetry off and a
    loopback ``NO_PROXY``; clears ``MLFLOW_EXPERIMENT_ID``/``MLFLOW_RUN_ID`` (which
    ``mlflow.set_experiment`` writes into ``os.environ``) so nothing leaks between tests.
    """
    name = _experiment_name(request.node.nodeid)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server.tracking_uri)
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", name)
    for key, value in NO_TELEMETRY_ENV.items():
        monkeypatch.setenv(key, value)
    for key in ("NO_PROXY", "no_proxy"):
        current = os.environ.get(key)
        monkeypatch.setenv(key, f"{current},{LOOPBACK_NO_PROXY}" if current else LOOPBACK_NO_PROXY)
    for key in ("MLFLOW_EXPERIMENT_ID", "MLFLOW_RUN_ID", "MLFLOW_REGISTRY_URI"):
        monkeypatch.delenv(key, raising=False)
    _reset_mlflow_client_state()
    try:
        yield MlflowTestEnv(
            tracking_uri=mlflow_server.tracking_uri, experiment_name=name, server=mlflow_server
        )
    finally:
        _reset_mlflow_client_state()
