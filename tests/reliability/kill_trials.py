"""Kill trials: start a real ``flowyml run``, SIGKILL it at a random moment, check what is left; repeat.

Shared by ``test_crash_kills.py`` (20 trials) and ``benchmarks/bench_kills.py`` (100).
:func:`kill_trials` raises AssertionError listing every broken guarantee.
"""

from __future__ import annotations

import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from flowyml.metadata.status import effective_status
from flowyml.metadata.store import MetadataStore
from flowyml.serialization.artifact_io import MANIFEST, read_artifact, read_manifest, verify
from flowyml.stores.packed import is_packed, unpack

HERE = Path(__file__).parent
FLOWYML = Path(sys.executable).with_name("flowyml")
CONFIG = """\
stacks:
  local:
    orchestrator: {type: local, max_parallel_steps: 1}
    artifact_store: {type: local, path: ./artifacts}
active_stack: local
"""


def _as_folder(path: Path) -> Path:
    """``path`` itself, or a packed artifact unpacked into a temporary folder (a tiny artifact is one file)."""
    if not is_packed(path):
        return path
    return unpack(path.read_bytes(), Path(tempfile.mkdtemp(prefix="kill-trial-")) / "unpacked", str(path))


def make_project(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "flowyml.yaml").write_text(CONFIG)
    shutil.copy(HERE / "crash_pipelines.py", folder / "pipelines.py")
    return folder


def start_run(project: Path, megabytes: float) -> subprocess.Popen[bytes]:
    env = {**os.environ, "CRASH_MB": str(megabytes)}
    return subprocess.Popen([str(FLOWYML), "run", "pipelines.py:chain"], cwd=project, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def staging_bytes(project: Path) -> int:
    folder = project / "artifacts" / ".staging"
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) if folder.is_dir() else 0


def staging_of(project: Path) -> set[str]:
    folder = project / "artifacts" / ".staging"
    return {p.name for p in folder.iterdir()} if folder.is_dir() else set()


def check_after_kill(project: Path) -> list[str]:
    """Everything a kill must not break; returns the problems found (empty when all holds)."""
    problems = []
    db = project / ".flowyml" / "metadata.db"
    if db.exists():
        with sqlite3.connect(db) as conn:
            verdict = conn.execute("PRAGMA integrity_check").fetchone()[0]
        if verdict != "ok":
            problems.append(f"integrity_check: {verdict}")
    store = MetadataStore(db)
    for row in store.list_artifacts(limit=10_000):
        try:
            read_artifact(_as_folder(Path(row["uri"])), row["content_hash"])
        except Exception as exc:
            problems.append(f"recorded artifact {row['uri']} does not load: {exc}")
    root = project / "artifacts"
    found = [p.parent for p in root.rglob(MANIFEST)] + [p for p in root.rglob("*") if is_packed(p)] if root.is_dir() else []
    for path in found:
        if ".staging" in path.relative_to(root).parts:
            continue
        folder = _as_folder(path)
        try:
            verify(folder, read_manifest(folder), None)
        except Exception as exc:
            problems.append(f"{folder} has a manifest but is not complete: {exc}")
    for run in store.list_runs(limit=10_000):
        status = effective_status(run)
        if status not in ("crashed", "completed"):
            problems.append(f"run {run['run_id']} is {status} after its process was killed ({run['error']})")
    if store.list_runs(status="running"):
        problems.append("runs list --status running lists a killed run")
    return problems


def wait_for_new_run(db: Path, proc: subprocess.Popen[bytes], timeout: float = 120) -> float:
    """Wait until ``proc`` has recorded its run (or exited); return when that was (``time.monotonic()``)."""
    count = _run_count(db)
    deadline = time.monotonic() + timeout
    while _run_count(db) == count and proc.poll() is None:
        assert time.monotonic() < deadline, "the run never started"
        time.sleep(0.005)
    return time.monotonic()


def _run_count(db: Path) -> int:
    if not db.exists():
        return 0
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as conn:
        try:
            return int(conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0])
        except sqlite3.OperationalError:  # the first process is still creating the tables
            return 0


def kill_trials(project: Path, trials: int, megabytes: float, seed: int) -> dict[str, float]:
    """Run and SIGKILL ``trials`` times; return the figures (and raise on any broken guarantee)."""
    rng = random.Random(seed)
    db_path = project / ".flowyml" / "metadata.db"
    for _ in range(2):  # the second run is warm: its duration is what the kills sample
        probe = start_run(project, megabytes)
        assert probe.wait(timeout=300) == 0, probe.stderr.read() if probe.stderr else ""
        last = MetadataStore(db_path).list_runs(limit=1)[0]
        full = last["ended_at"] - last["started_at"]  # the run itself, start-up excluded
    #: left_*: what the killed runs left in staging, summed (what would pile up if nothing removed it);
    #: staging_bytes_end: what is there after the last kill; detect_ms: effective_status() of a killed run.
    figures: dict[str, float] = dict.fromkeys(
        ("trials", "started", "crashed", "completed", "left_staging", "left_bytes", "swept", "detect_ms"), 0
    )
    figures["run_seconds"] = full
    problems: list[str] = []
    for trial in range(trials):
        before = staging_of(project)
        runs_before = {r["run_id"] for r in MetadataStore(db_path).list_runs(limit=10_000)}
        proc = start_run(project, megabytes)
        wait_for_new_run(db_path, proc)  # start-up (imports, config) is not worth killing 20 times
        time.sleep(rng.uniform(0.0, full))
        proc.kill()
        proc.wait(timeout=60)
        if proc.stderr:
            proc.stderr.close()
        problems += [f"trial {trial}: {p}" for p in check_after_kill(project)]
        after = staging_of(project)
        db = MetadataStore(db_path)
        killed = [r for r in db.list_runs(limit=10_000) if r["run_id"] not in runs_before]  # none when killed before it began
        wrote = bool(killed and db.outputs_of(killed[0]["run_id"]))
        if wrote and before & after:  # the killed run got past its first save: it swept the earlier leftovers
            problems.append(f"trial {trial}: staging of dead runs not removed by the next run: {sorted(before & after)}")
        figures["swept"] += len(before - after)
        figures["left_staging"] += len(after - before)
        figures["left_bytes"] += sum(f.stat().st_size for name in after - before for f in (project / "artifacts" / ".staging" / name).rglob("*") if f.is_file())
        figures["started"] += bool(killed)
        if killed:
            begin = time.perf_counter()
            figures["crashed"] += effective_status(killed[0]) == "crashed"
            figures["detect_ms"] = max(figures["detect_ms"], (time.perf_counter() - begin) * 1000)
        if killed and effective_status(killed[0]) == "completed":  # killed too late: the run was quicker than `full`
            figures["completed"] += 1
            # The kill moment is drawn from the shortest run seen so far, not from the probe's alone: on a
            # shared machine a run's duration follows the load, and a probe timed under a load spike made
            # most kills land after the run had ended (13 of 20 "completed" under load 14).
            full = min(full, killed[0]["ended_at"] - killed[0]["started_at"])
        figures["trials"] += 1
    assert not problems, "\n".join(problems)
    figures["staging_bytes_end"] = staging_bytes(project)
    final = start_run(project, megabytes)
    assert final.wait(timeout=300) == 0, final.stderr.read() if final.stderr else ""
    assert staging_of(project) == set(), "a run that completed left staging folders behind"
    figures["staging_bytes_after_next_run"] = staging_bytes(project)
    assert effective_status(MetadataStore(project / ".flowyml" / "metadata.db").list_runs(limit=1)[0]) == "completed"
    return figures
