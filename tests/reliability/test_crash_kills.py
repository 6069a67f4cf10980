"""Kill trials: SIGKILL a real ``flowyml run`` at random moments, then check what a crash may and may not leave.

After each kill: no partial artifact is visible as complete (every folder with a
manifest verifies, every recorded artifact loads), the SQLite database passes
``PRAGMA integrity_check``, the run shows ``crashed`` (``runs list --status
running`` does not list it), and the next run removes the staging folders the
killed one left. After all the trials a run completes and leaves no staging.
(See kill_trials.py; benchmarks/bench_kills.py runs 100.)
"""

from __future__ import annotations

from pathlib import Path

from kill_trials import kill_trials, make_project

TRIALS = 20


def test_20_sigkills_at_random_moments(tmp_path: Path) -> None:
    figures = kill_trials(make_project(tmp_path / "project"), TRIALS, megabytes=16, seed=20261201)
    assert figures["trials"] == TRIALS
    # every killed run shows crashed, unless it had completed before the kill
    assert figures["started"] == TRIALS and figures["crashed"] + figures["completed"] == TRIALS, figures
    assert figures["crashed"] >= TRIALS // 2, figures
