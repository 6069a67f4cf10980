"""Staging folders: where an artifact is written before it is moved or uploaded into place.

Each staging folder's name records the process that made it
(:func:`flowyml.metadata.owner.owned_name`), so a folder left behind by a
process that died (SIGKILL, OOM, power loss) can be told from one a live run is
still writing. :func:`sweep` removes only the first kind; ``flowyml gc``
calls it on demand and every store calls it once per process on first use.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from flowyml.metadata.owner import name_owner_state, owned_name

log = logging.getLogger("flowyml.stores")

#: Prefix of the staging folders the fsspec stores (s3, gcs) make in the system temp folder.
TEMP_PREFIX = "flowyml-stage-"
#: A staging folder whose name records no owner (made by an older FlowyML) is removed by ``flowyml gc``
#: once it has not been modified for this many seconds.
UNOWNED_AFTER = 3600.0

_swept: set[str] = set()
_swept_lock = threading.Lock()


@dataclass
class Swept:
    """What a sweep removed (and what it left, with why)."""

    folders: int = 0
    bytes: int = 0
    kept: list[tuple[Path, str]] = field(default_factory=list)

    def add(self, other: Swept) -> None:
        self.folders += other.folders
        self.bytes += other.bytes
        self.kept += other.kept


def staging_path(parent: Path, prefix: str = "") -> Path:
    """A fresh staging folder's path under ``parent`` (not created), its name recording this process as its owner."""
    return parent / (prefix + owned_name(uuid.uuid4().hex[:16]))


def new_staging(parent: Path, prefix: str = "") -> Path:
    """Create a fresh staging folder under ``parent`` whose name records this process as its owner."""
    folder = staging_path(parent, prefix)
    folder.mkdir()
    return folder


def new_temp_staging() -> Path:
    """A staging folder in the system temp folder (the fsspec stores stage there before uploading)."""
    return new_staging(Path(tempfile.gettempdir()), TEMP_PREFIX)


def _lstat(path: str) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except OSError:  # removed meanwhile
        return None


def size_of(path: Path) -> int:
    """Bytes in the files under ``path``."""
    stats = (_lstat(os.path.join(root, name)) for root, _dirs, files in os.walk(path) for name in files)
    return sum(st.st_size for st in stats if st is not None)


def _last_modified(path: Path) -> float:
    stats = (_lstat(os.path.join(root, name)) for root, dirs, files in os.walk(path) for name in dirs + files)
    return max([path.lstat().st_mtime, *(st.st_mtime for st in stats if st is not None)])


def sweep(parent: Path, prefix: str = "", *, unowned: bool = False, now: float | None = None) -> Swept:
    """Remove the staging folders under ``parent`` whose owner process is dead.

    Folders of live owners, and of owners that cannot be checked from here
    (another host or container), are kept. With ``unowned=True``, folders whose
    name records no owner (older FlowyML versions) are removed too once
    untouched for :data:`UNOWNED_AFTER` seconds.
    """
    result = Swept()
    try:
        entries = sorted(parent.iterdir())
    except OSError:
        return result
    now = time.time() if now is None else now
    for entry in entries:
        if not entry.name.startswith(prefix) or entry.is_symlink() or not entry.is_dir():
            continue
        state = name_owner_state(entry.name[len(prefix) :])
        if state == "alive":
            result.kept.append((entry, "its process is running"))
            continue
        if state == "elsewhere":
            result.kept.append((entry, "made on another host or container: its process cannot be checked from here"))
            continue
        if state == "unowned":
            try:
                recent = now - _last_modified(entry) <= UNOWNED_AFTER
            except OSError:
                continue
            if not unowned or recent:
                result.kept.append((entry, "its name records no owner and it changed in the last hour" if unowned else "its name records no owner"))
                continue
        size = size_of(entry)
        shutil.rmtree(entry, ignore_errors=True)
        if not entry.exists():
            result.folders += 1
            result.bytes += size
    return result


def sweep_once(parent: Path, prefix: str = "") -> None:
    """:func:`sweep` ``parent`` the first time this process asks (stores call it on first use)."""
    key = f"{parent}\0{prefix}"
    with _swept_lock:
        if key in _swept:
            return
        _swept.add(key)
    removed = sweep(parent, prefix)
    if removed.folders:
        log.info("removed %d staging folder(s) of dead processes from %s (%.1f MB)", removed.folders, parent, removed.bytes / 1e6)
