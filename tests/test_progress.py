"""pipeline.run() from Python prints per-step progress when stdout is a terminal, like `flowyml run`."""

from __future__ import annotations

import os
import pty
import subprocess
import sys

PIPELINE = """
from flowyml import pipeline, step

@step
def first() -> int:
    return 1

@step
def second(x: int) -> int:
    return x + 1

@pipeline
def counted() -> None:
    second(first())

counted.run({args})
print("done")
"""


def _run(project, args: str, *, terminal: bool) -> str:
    project.write("script.py", PIPELINE.format(args=args))
    if not terminal:
        return subprocess.run([sys.executable, "script.py"], cwd=project.path, capture_output=True, text=True, check=True).stdout
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "script.py"], cwd=project.path, stdout=follower, stderr=follower)
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 4096)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    assert proc.wait(timeout=120) == 0, b"".join(chunks).decode(errors="replace")
    return b"".join(chunks).decode(errors="replace")


def test_progress_on_a_terminal(project) -> None:
    out = _run(project, "", terminal=True)
    assert "first" in out and "✓ second" in out and "completed" in out and "done" in out


def test_progress_false_and_a_pipe_print_nothing(project) -> None:
    assert "second" not in _run(project, "progress=False", terminal=True)
    assert _run(project, "", terminal=False).strip() == "done"
