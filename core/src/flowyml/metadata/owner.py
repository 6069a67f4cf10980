"""Which process owns a run or a staging folder, and whether that process is still alive.

An owner is the host name, the process id, the process' start time and a
*scope*: the boot id and pid namespace the pid belongs to. A pid alone is not
enough, because pids are reused; on Linux the start time comes from
``/proc/<pid>/stat`` (clock ticks since boot), so a new process that got the
same pid is told apart from the dead owner. A pid can only be checked from the
same scope (same host, same boot, same pid namespace); from anywhere else
the answer is "unknown" and callers fall back to the run's heartbeat.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import socket
from dataclasses import dataclass
from pathlib import Path

_PROC = Path("/proc")


def _read(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return ""


def _stat_fields(pid: int) -> list[str]:
    stat = _read(_PROC / str(pid) / "stat")
    # The command name (field 2) is in parentheses and may hold spaces: split after its closing one.
    # fields[0] is then field 3 (the state) and fields[19] field 22 (the start time).
    return stat.rsplit(")", 1)[-1].split() if stat else []


def process_start(pid: int) -> str:
    """The start time of process ``pid`` as an opaque token ("" when it cannot be read or the process is gone)."""
    fields = _stat_fields(pid)
    return fields[19] if len(fields) > 19 else ""


@functools.cache
def _scope() -> str:
    boot = _read(_PROC / "sys" / "kernel" / "random" / "boot_id")
    try:
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        namespace = ""
    return f"{boot}/{namespace}" if boot else ""


@dataclass(frozen=True)
class Owner:
    host: str
    pid: int
    started: str
    scope: str

    @functools.cached_property
    def scope_key(self) -> str:
        """A short, file-name-safe digest of (host, scope): equal keys mean the pid can be checked here."""
        return hashlib.sha1(f"{self.host}\0{self.scope}".encode()).hexdigest()[:10]

    def checkable_here(self) -> bool:
        me = current_owner()
        return bool(self.scope) and self.host == me.host and self.scope == me.scope

    def alive(self) -> bool | None:
        """True/False when this process can tell (same host, boot and pid namespace); None otherwise."""
        if not self.checkable_here():
            return None
        return pid_alive(self.pid, self.started)


def pid_alive(pid: int, started: str) -> bool:
    """Whether ``pid`` runs here and is the process that started at ``started`` (pid reuse is detected)."""
    if pid <= 0:
        return False
    fields = _stat_fields(pid)
    if len(fields) > 19:
        if fields[0] in ("Z", "X"):  # a zombie has exited, it only waits for its parent to reap it
            return False
        return not started or fields[19] == started
    try:
        os.kill(pid, 0)  # no /proc (not Linux): existence only
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return not _PROC.is_dir()


_me: Owner | None = None  # this process as an owner, once known (a staging folder's name asks at every save)


def current_owner() -> Owner:
    """This process as an owner: known again when the pid or host name changed (a forked child is another owner)."""
    global _me
    pid, host = os.getpid(), socket.gethostname()
    me = _me
    if me is None or me.pid != pid or me.host != host:
        me = _me = Owner(host, pid, process_start(pid), _scope())  # its start time: one read of /proc per process
    return me


# -- owners encoded in a folder name (staging folders) --------------------------------------------

_NAME = re.compile(r"^(?P<key>[0-9a-f]{10})-(?P<pid>\d+)-(?P<started>\d*)-(?P<rand>[0-9a-f]+)$")


def owned_name(rand: str) -> str:
    """A folder name that records this process as its owner: ``SCOPEKEY-PID-START-RAND``."""
    me = current_owner()
    return f"{me.scope_key}-{me.pid}-{me.started}-{rand}"


def name_owner_state(name: str) -> str:
    """For a name made by :func:`owned_name`: ``alive`` or ``dead`` (checked here), ``elsewhere``
    (made on another host or container: cannot be checked) or ``unowned`` (the name records no owner)."""
    match = _NAME.match(name)
    if match is None:
        return "unowned"
    me = current_owner()
    if not me.scope or match["key"] != me.scope_key:
        return "elsewhere"
    return "alive" if pid_alive(int(match["pid"]), match["started"]) else "dead"
