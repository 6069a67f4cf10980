"""Ctrl-C during ``flowyml run`` (a real subprocess and a real SIGINT), and steps that exit or interrupt themselves."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest
from kill_trials import FLOWYML, make_project

from flowyml.metadata.status import effective_status
from flowyml.metadata.store import MetadataStore


@pytest.fixture
def crash_project(tmp_path: Path) -> Path:
    return make_project(tmp_path)


def _only_run(project: Path) -> dict[str, object]:
    rows = MetadataStore(project / ".flowyml" / "metadata.db").list_runs()
    assert len(rows) == 1
    return dict(rows[0])


def test_ctrl_c_records_the_run_interrupted_leaves_no_staging_and_exits_130(crash_project: Path) -> None:
    proc = subprocess.Popen([str(FLOWYML), "run", "pipelines.py:sleepy"], cwd=crash_project, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not (crash_project / "started").exists():  # inside the step that sleeps
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, out + err
    run = _only_run(crash_project)
    assert run["status"] == "interrupted" and effective_status(run) == "interrupted"
    assert f"Run {run['run_id']} interrupted (Ctrl-C)" in err and "Traceback" not in err
    steps = {s["step_name"]: s["status"] for s in MetadataStore(crash_project / ".flowyml" / "metadata.db").steps_of(str(run["run_id"]))}
    assert steps == {"half_written": "completed", "wait_for_signal": "interrupted"}
    assert list((crash_project / "artifacts" / ".staging").iterdir()) == []
    shown = subprocess.run([str(FLOWYML), "runs", "show", str(run["run_id"])], cwd=crash_project, capture_output=True, text=True)
    assert "status:   interrupted" in shown.stdout and "error:    interrupted (Ctrl-C)" in shown.stdout


def test_ctrl_c_while_an_artifact_is_written_removes_its_staging(crash_project: Path) -> None:
    # 400 MB: the interrupt lands while half_written's array is being saved
    proc = subprocess.Popen([str(FLOWYML), "run", "pipelines.py:sleepy"], cwd=crash_project, env=_env(CRASH_MB="400"), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    staging = crash_project / "artifacts" / ".staging"
    deadline = time.monotonic() + 120
    while not (staging.is_dir() and any(staging.iterdir())):
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.005)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, out + err
    assert _only_run(crash_project)["status"] == "interrupted"
    assert list(staging.iterdir()) == []


def _env(**extra: str) -> dict[str, str]:
    import os

    return {**os.environ, **extra}


@pytest.mark.parametrize(
    ("pipeline", "message"),
    [("exits", "step 'calls_exit' called sys.exit(3)"), ("interrupts", "step 'raises_interrupt' raised KeyboardInterrupt")],
)
def test_a_step_that_exits_or_raises_keyboard_interrupt_fails_with_a_message(crash_project: Path, pipeline: str, message: str) -> None:
    done = subprocess.run([str(FLOWYML), "run", f"pipelines.py:{pipeline}"], cwd=crash_project, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stdout + done.stderr
    assert message in done.stdout and "Traceback" not in done.stderr
    run = _only_run(crash_project)
    assert run["status"] == "failed" and message in str(run["error"])


def test_run_pipeline_raises_run_interrupted_for_python_callers(crash_project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os
    import threading

    from flowyml.errors import RunInterrupted
    from flowyml.testing import load_pipeline

    monkeypatch.chdir(crash_project)
    pipeline = load_pipeline(crash_project, "sleepy")
    fired = threading.Event()

    def interrupt_when_started() -> None:
        while not (crash_project / "started").exists():
            time.sleep(0.01)
        fired.set()
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=interrupt_when_started, daemon=True).start()
    with pytest.raises(RunInterrupted) as caught:
        pipeline.run()
    assert fired.is_set() and isinstance(caught.value, KeyboardInterrupt)
    row = MetadataStore.for_project(crash_project).get_run(caught.value.run_id)
    assert row["status"] == "interrupted"
