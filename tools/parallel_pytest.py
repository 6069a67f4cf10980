"""Run the test suite as two pytest processes at once, one per half, and report both.

    python tools/parallel_pytest.py tests -- plugins/gcs plugins/s3 ...

Each ``--``-separated group of paths is one pytest process; its output goes to
a log file and is printed whole when the process ends (no interleaved lines).
The exit status is the first non-zero status, or 0. ``nox -s tests`` uses it so
the suite keeps to CI's time on 2 cores: most of its slow cases wait on
subprocesses, servers and the package index, so two halves overlap well. The
halves share nothing but the machine: every stand-in picks its own free port
and temporary folder.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _groups(argv: list[str]) -> list[list[str]]:
    groups: list[list[str]] = [[]]
    for arg in argv:
        if arg == "--":
            groups.append([])
        else:
            groups[-1].append(arg)
    return [g for g in groups if g]


def main(argv: list[str]) -> int:
    groups = _groups(argv)
    if not groups:
        print("usage: parallel_pytest.py PATH... [-- PATH...]", file=sys.stderr)
        return 2
    logs = Path(tempfile.mkdtemp(prefix="flowyml-suite-"))
    started = time.monotonic()
    running: list[tuple[list[str], Path, subprocess.Popen[bytes]]] = []
    # A background CI shell may start us with SIGINT ignored; the Ctrl-C tests need Python's own handler.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    for number, paths in enumerate(groups):
        log = logs / f"part-{number}.log"
        command = [sys.executable, "-m", "pytest", *paths]
        out = log.open("wb")
        running.append((paths, log, subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=os.environ.copy())))
        print(f"started: {' '.join(command[1:])}  (log: {log})", flush=True)
    status = 0
    for paths, log, proc in running:
        code = proc.wait()
        print(f"\n===== pytest {' '.join(paths)}: exit {code} after {time.monotonic() - started:.0f} s =====", flush=True)
        sys.stdout.write(log.read_text(errors="replace"))
        sys.stdout.flush()
        status = status or code
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
