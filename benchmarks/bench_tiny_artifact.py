"""Disk use of a one-integer artifact in the local store, counted as ``du`` does (st_blocks x 512).

    python benchmarks/bench_tiny_artifact.py

Runs a one-step pipeline returning an int and measures what its artifact takes
on disk (the packed file, or the folder with its files), against the folder
layout of the same value written in the same run (``write_artifact`` into a
folder, as every artifact was stored before the packed layout). The run's and
the step's folders, shared by all of a step's outputs, are not counted.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def disk_use(path: Path) -> int:
    """Bytes of disk ``path`` takes: its own blocks plus, for a folder, every entry's below it."""
    total = os.lstat(path).st_blocks * 512
    if path.is_dir():
        for root, dirs, files in os.walk(path):
            total += sum(os.lstat(os.path.join(root, name)).st_blocks * 512 for name in dirs + files)
    return total


def main() -> None:
    from flowyml import pipeline, step
    from flowyml.serialization.artifact_io import write_artifact

    @step
    def one_integer() -> int:
        return 7

    @pipeline
    def tiny() -> None:
        one_integer()

    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        run = tiny.run()
        assert run.success and run.load("one_integer") == 7
        stored = Path(run.artifact("one_integer").uri)
        folder = Path(tmp) / "folder-layout"
        folder.mkdir()
        write_artifact(7, folder)
        packed, baseline = disk_use(stored), disk_use(folder)
        block = os.statvfs(tmp).f_bsize
        layout = "one packed file" if stored.is_file() else "a folder"
    print(f"file system block size {block} bytes")
    print(f"one-integer artifact: {packed} bytes on disk ({layout}) vs folder layout {baseline} bytes "
          f"= {packed / baseline:.2f}x   target <= 4096 bytes")


if __name__ == "__main__":
    main()
