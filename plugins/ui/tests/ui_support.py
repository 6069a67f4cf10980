"""What the dashboard tests share: the session project, the `flowyml ui` subprocess."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
HERE = Path(__file__).parent
FLOWYML = Path(sys.executable).parent / "flowyml"
CHROMIUM = os.environ.get("FLOWYML_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("FLOWYML_TEST_CHROMEDRIVER", "/usr/bin/chromedriver")

APPROVAL_STACK = """
  approval:
    orchestrator: { type: local }
    artifact_store: { type: local, path: "./artifacts" }
    model_registry: { type: local }
    model_deployer: { type: local }
    experiment_tracker: { type: local }
    artifact_routing:
      Model:
        register: true
        deploy: true
        deploy_condition: on_approval
        endpoint_name: approval-demo
      Metrics: { log_to_tracker: true }
"""


def flowyml(cwd: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([str(FLOWYML), *args], cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"flowyml {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done


def run_id_of(out: str) -> str:
    found = re.search(r"Run (\S+) on stack", out)
    assert found, out
    return found.group(1)


class UiProject:
    """The session's project: the quickstart, run once on `local`; the extras pipeline run on a gated stack."""

    def __init__(self, path: Path) -> None:
        self.path = path
        shutil.copytree(ROOT / "examples" / "quickstart", path, dirs_exist_ok=True)
        config = (path / "flowyml.yaml").read_text()
        (path / "flowyml.yaml").write_text(config.replace("\nactive_stack:", APPROVAL_STACK + "\nactive_stack:"))
        shutil.copy(HERE / "ui_extras_pipeline.py", path / "ui_extras_pipeline.py")
        self.quickstart_run = run_id_of(flowyml(path, "run", "pipeline.py").stdout)
        self.extras_run = run_id_of(flowyml(path, "run", "ui_extras_pipeline.py", "--stack", "approval").stdout)
        record_tracker_links(path, self.extras_run)


#: Where two trackers showed the extras run, as an MLflow tracker on a server and a file-based one record it.
TRACKER_PAGE = "http://127.0.0.1:5000/#/experiments/1/runs/0a1b2c3d"
TRACKER_FOLDER = "/tmp/tb/<script>alert('tracker')</script>"
TRACKER_SCRIPT_URL = "javascript:alert('tracker')"


def record_tracker_links(path: Path, run_id: str) -> None:
    """The route events a tracker's start_run answer becomes (the session's stacks have the local tracker, which has none)."""
    from flowyml.metadata.store import MetadataStore
    from flowyml.runner.result import TRACKER_LINK

    db = MetadataStore.for_project(path)
    for tracker, where in (("mlflow", TRACKER_PAGE), ("tensorboard", TRACKER_FOLDER), ("custom", TRACKER_SCRIPT_URL)):
        db.add_route_event(run_id, None, None, TRACKER_LINK, tracker, "ok", where)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class UiServer:
    """`flowyml ui` as a real subprocess; ``url`` is what it printed."""

    def __init__(self, cwd: Path, *args: str) -> None:
        self.process = subprocess.Popen(
            [str(FLOWYML), "ui", *args], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self.lines: list[str] = []
        deadline = time.monotonic() + 60
        self.url = ""
        assert self.process.stdout is not None
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                break
            self.lines.append(line)
            found = re.search(r"at (http://\S+)", line)
            if found:
                self.url = found.group(1)
                break
        assert self.url, f"flowyml ui printed no URL:\n{''.join(self.lines)}"
        self._wait_listening()

    def _wait_listening(self) -> None:
        from urllib.parse import urlsplit

        where = urlsplit(self.url)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", where.port or 80), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"flowyml ui does not listen at {self.url}")

    def stop(self) -> str:
        """Ctrl-C, as a user would; the rest of what it printed."""
        import signal

        self.process.send_signal(signal.SIGINT)
        try:
            out, _ = self.process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            out, _ = self.process.communicate()
        return "".join(self.lines) + (out or "")
