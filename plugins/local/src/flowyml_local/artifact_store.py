"""The local artifact store: a folder (default ./artifacts beside flowyml.yaml)."""

from __future__ import annotations

import functools
import os
import shutil
import stat
import threading
from pathlib import Path
from typing import Any

import attrs

import flowyml
from flowyml.errors import ArtifactError, StoreError
from flowyml.serialization.artifact_io import MANIFEST
from flowyml.stores import FsspecArtifactStore
from flowyml.stores.packed import PACK_LIMIT, is_packed, pack_bytes, unpack
from flowyml.stores.staging import staging_path, sweep_once

#: Artifact types always stored as a folder: the local model server reads a Model's folder in place.
FOLDER_TYPES = frozenset({"Model"})


@attrs.frozen
class LocalArtifactStoreOptions:
    #: Folder holding the artifacts; relative paths are relative to the project (flowyml.yaml's folder).
    path: str = "./artifacts"
    #: Optional name a routing rule's ``store:`` may use besides ``local``.
    name: str | None = None


class LocalArtifactStore(FsspecArtifactStore):
    """Writes each artifact into a staging folder under the root and renames it into place (atomic).

    An artifact of at most 4 KiB is renamed into place as one packed file
    (:mod:`flowyml.stores.packed`): one disk block instead of three.

    Staging folders (``ROOT/.staging/OWNER-RAND``) name the process writing
    them; the first save of a process removes those whose process is dead.
    """

    Options = LocalArtifactStoreOptions
    protocol = "file"

    def __init__(self, options: LocalArtifactStoreOptions, context: Any) -> None:
        super().__init__(options, context)
        #: Emptied staging folders of packed saves, reused by the next saves (a folder costs a mkdir and a rmdir).
        self._spare: list[Path] = []
        #: Every staging folder this store made and has not moved into place: removed when it closes, so a
        #: save interrupted anywhere (Ctrl-C between taking a folder and its own cleanup) leaves none behind.
        self._made: set[Path] = set()
        self._spare_lock = threading.Lock()

    @functools.cached_property
    def base(self) -> Path:
        path = Path(os.path.expanduser(self.options.path))
        if not path.is_absolute():
            path = self.context.project_dir / path
        return path.resolve()

    @functools.cached_property
    def _root(self) -> str:
        return self.base.as_posix()

    @functools.cached_property
    def staging_root(self) -> Path:
        staging = self.base / ".staging"
        try:
            staging.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"cannot create the local artifact store at {self.base}: {exc.strerror}",
                hint="point artifact_store.path at a writable folder",
            ) from exc
        sweep_once(staging)  # folders left by killed processes
        return staging

    def make_filesystem(self) -> Any:
        from fsspec.implementations.local import LocalFileSystem

        return LocalFileSystem(auto_mkdir=True)

    def root(self) -> str:
        return self._root

    def describe(self) -> str:
        return f"local folder {self.base}"

    @flowyml.hookimpl
    def flowyml_artifact_store_save(self, key: str, write: Any) -> str:
        dest = self.base / key
        leftover = self._refuse_existing(dest)
        staging = self._take_staging()
        try:
            # A small value arrives packed from memory (flowyml.serialization.writer): no staged files to write,
            # read back and delete. Other writers (plain functions, from the contract suite) stage a folder.
            in_memory = getattr(write, "packed", None)
            packed = in_memory(PACK_LIMIT, FOLDER_TYPES) if in_memory is not None else None
            staged = packed is None
            if staged:
                write(staging)
                packed = pack_bytes(staging, keep_as_folder=FOLDER_TYPES)
            dest.parent.mkdir(parents=True, exist_ok=True)
            if leftover:
                # A folder without a manifest: left by an interrupted write, never a complete artifact.
                shutil.rmtree(dest)
            if packed is None:
                os.replace(staging, dest)
                with self._spare_lock:
                    self._made.discard(staging)
            else:  # one file, one disk block (flowyml.stores.packed)
                tmp = staging / ".packed"
                _write_file(tmp, packed)
                os.replace(tmp, dest)
                self._give_back(staging, emptied=not staged)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return dest.as_posix()

    @staticmethod
    def _refuse_existing(dest: Path) -> bool:
        """Raise when ``dest`` holds an artifact; whether a folder without a manifest is left there (one stat when free)."""
        try:
            found = os.stat(dest)
        except (FileNotFoundError, NotADirectoryError):  # nothing there (as Path.exists() says)
            return False
        if not stat.S_ISDIR(found.st_mode) or (dest / MANIFEST).exists():
            raise StoreError(
                f"an artifact already exists at {dest}; refusing to overwrite it",
                hint="make the routing path template unique per run (include {run_id})",
            )
        return True

    def _take_staging(self) -> Path:
        """An empty staging folder owned by this process: a spare one, or a new one."""
        with self._spare_lock:
            while self._spare:
                spare = self._spare.pop()
                if spare.is_dir():  # not removed meanwhile (flowyml gc keeps a live process's folders)
                    return spare
        try:
            return self._new_staging()
        except FileNotFoundError:  # the store folder was removed while we ran
            del self.staging_root
            return self._new_staging()

    def _new_staging(self) -> Path:
        folder = staging_path(self.staging_root)
        with self._spare_lock:
            self._made.add(folder)  # before it exists: no moment where it exists unrecorded
        folder.mkdir()
        return folder

    def _give_back(self, staging: Path, *, emptied: bool = False) -> None:
        """Empty ``staging`` (a packed artifact's files, all flat; nothing to do when ``emptied``) and keep it. Never raises."""
        try:
            if not emptied:
                for entry in os.scandir(staging):
                    os.unlink(entry.path)
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)
            return
        with self._spare_lock:
            self._spare.append(staging)

    def close(self) -> None:
        with self._spare_lock:
            made, self._made, self._spare = self._made, set(), []
        for folder in made:  # the spares, and any folder an interrupted save lost track of
            shutil.rmtree(folder, ignore_errors=True)
        super().close()

    @flowyml.hookimpl
    def flowyml_artifact_store_fetch(self, uri: str, scratch: Path) -> Path:
        path = Path(self.path_of_uri(uri))
        if is_packed(path):
            return unpack(path.read_bytes(), Path(scratch), uri)
        if not (path / MANIFEST).is_file():
            raise ArtifactError(
                f"no complete artifact at {uri} (its {MANIFEST} is missing)",
                hint="the artifact was deleted or its write was interrupted; re-run the step that produced it",
            )
        return path  # read in place: no copy

    @flowyml.hookimpl
    def flowyml_artifact_store_exists(self, uri: str) -> bool:
        try:
            path = Path(self.path_of_uri(uri))
        except ArtifactError:
            return False
        return (path / MANIFEST).is_file() or is_packed(path)

    @flowyml.hookimpl
    def flowyml_component_check(self) -> list[str]:
        lines = super().flowyml_component_check()
        return [f"local folder {self.base} is writable"] if lines else lines


def _write_file(path: Path, data: bytes) -> None:
    """Write ``data`` as the file ``path`` with plain system calls (a third of ``Path.write_bytes``'s cost per small file)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)
