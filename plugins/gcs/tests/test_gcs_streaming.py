"""Big artifacts stream: a 300 MB file goes up and comes back without being held in memory.

The upload and download run in a child process (the emulator keeps objects in
this process's memory), and the child's peak resident memory is compared with
the file size.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

SIZE = 300 * 1024 * 1024

CHILD = textwrap.dedent(
    """
    import hashlib, json, logging, os, resource, sys
    from pathlib import Path
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(message)s")
    from flowyml.testing import make_stack
    project = Path(sys.argv[1])
    store = json.loads(sys.argv[2])
    size = int(sys.argv[3])
    stack = make_stack(project, {"artifact_store": store})
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    def write(directory):
        block = bytes(range(256)) * 4096  # 1 MiB
        with open(Path(directory) / "blob.bin", "wb") as fh:
            for _ in range(size // len(block)):
                fh.write(block)
        (Path(directory) / "flowyml.json").write_text(json.dumps({"content_hash": "x", "files": {}}))

    uri = stack.hook.flowyml_artifact_store_save(key="big/blob", write=write)
    scratch = project / "scratch"
    scratch.mkdir()
    local = stack.hook.flowyml_artifact_store_fetch(uri=uri, scratch=scratch)
    digest = hashlib.sha256()
    with open(Path(local) / "blob.bin", "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"uri": uri, "sha256": digest.hexdigest(), "baseline": baseline, "peak": peak}))
    """
)


@pytest.mark.slow
def test_large_file_streams_with_progress(tmp_path: Path, gcs_store_config: dict[str, Any]) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(tmp_path), json.dumps(gcs_store_config), str(SIZE)],
        capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    block = bytes(range(256)) * 4096
    expected = hashlib.sha256()
    for _ in range(SIZE // len(block)):
        expected.update(block)
    assert result["sha256"] == expected.hexdigest()
    growth = result["peak"] - result["baseline"]
    # gcsfs uploads resumable 50 MB chunks: a few chunks in flight at most, never the whole file.
    assert growth < SIZE / 2, f"memory grew by {growth / 1e6:.0f} MB for a {SIZE / 1e6:.0f} MB file"
    assert "upload " in done.stderr and "100% of" in done.stderr  # progress lines for the big file
