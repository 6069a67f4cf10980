"""A real process that has exited and been reaped: the stand-in for a killed run or a killed save."""

from __future__ import annotations

import subprocess
import sys

from flowyml.metadata.owner import current_owner, process_start


def dead_process() -> tuple[int, str]:
    """The pid and start time of a process that has exited and been reaped."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    started = process_start(proc.pid)
    proc.kill()
    proc.wait()
    return proc.pid, started


def dead_owner_name(rand: str = "0123456789abcdef") -> str:
    """A staging folder name whose owner (same host and scope as this process) has exited."""
    pid, started = dead_process()
    return f"{current_owner().scope_key}-{pid}-{started}-{rand}"
