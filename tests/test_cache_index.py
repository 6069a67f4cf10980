"""The cache index in the artifact store, and which cached results may answer a step (flowyml.runner.cache_index, cache_hits).

On a real local store: entries written and read through the facade, edited
or misplaced entries ignored, results whose outputs are gone or edited
refused (and their index entry dropped so a new result can take its place).
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

import pytest

from flowyml.metadata.store import MetadataStore
from flowyml.runner import cache_index
from flowyml.runner.cache_hits import find_hit
from flowyml.runner.result import StoredArtifact
from flowyml.serialization.artifact_io import write_artifact
from flowyml.testing import make_stack

KEY = "a" * 64
OTHER = "b" * 64
#: Big enough to be stored as a folder (the local store packs an artifact of at most 4 KiB into one file).
VALUE = list(range(3000))


@pytest.fixture
def stack(tmp_path: Path) -> Any:
    stack = make_stack(tmp_path, {})
    yield stack
    stack.close()


def stored(stack: Any, value: Any, key: str = "run-1/train/output") -> StoredArtifact:
    manifest = stack.artifact_store.save(key, lambda directory: write_artifact(value, directory))
    return StoredArtifact.from_manifest(manifest, artifact_id=f"id-{key}", run_id="run-1", step_name="train", output_name="output")


def folder(stack: Any, uri: str) -> Path:
    return Path(uri)  # the local store's URIs are paths


def data_file(directory: Path) -> Path:
    """The data file of an artifact folder (or the packed file of a tiny artifact)."""
    if directory.is_file():
        return directory
    (path,) = [p for p in directory.iterdir() if p.name != "flowyml.json"]
    return path


def remove(path: Path) -> None:
    shutil.rmtree(path) if path.is_dir() else path.unlink()


def test_an_entry_is_written_once_and_read_back(stack: Any) -> None:
    output = stored(stack, VALUE)
    assert cache_index.write_entry(stack, KEY, "run-1", "train", {"output": output}) is True
    assert cache_index.write_entry(stack, KEY, "run-2", "train", {"output": output}) is False  # the first stands
    entry = cache_index.read_entry(stack, KEY)
    assert entry is not None and (entry.run_id, entry.step_name) == ("run-1", "train")
    assert entry.outputs["output"].to_row() == output.to_row()
    assert cache_index.read_entry(stack, OTHER) is None


def test_an_edited_or_misplaced_entry_is_ignored(stack: Any, caplog: pytest.LogCaptureFixture) -> None:
    output = stored(stack, VALUE)
    cache_index.write_entry(stack, KEY, "run-1", "train", {"output": output})
    entry_dir = folder(stack, stack.artifact_store.uri(cache_index.entry_key(KEY)))
    # copied under another key: it names KEY, so it does not answer OTHER
    other = folder(stack, stack.artifact_store.uri(cache_index.entry_key(OTHER)))
    shutil.copytree(entry_dir, other) if entry_dir.is_dir() else shutil.copy2(entry_dir, other)
    with caplog.at_level(logging.WARNING, logger="flowyml.cache"):
        assert cache_index.read_entry(stack, OTHER) is None
    assert "malformed" in caplog.text and "names the key" in caplog.text
    # edited in place (run-1 -> run-9): its bytes no longer match its manifest
    body = data_file(entry_dir)
    body.write_text(body.read_text().replace("run-1", "run-9"))
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="flowyml.cache"):
        assert cache_index.read_entry(stack, KEY) is None
    assert "unreadable" in caplog.text


def test_a_hit_is_served_only_while_its_outputs_exist_and_verify(stack: Any, tmp_path: Path) -> None:
    metadata = MetadataStore.for_project(tmp_path)
    output = stored(stack, VALUE)
    cache_index.write_entry(stack, KEY, "run-1", "train", {"output": output})
    hit = find_hit(stack, metadata, KEY, ["output"], verify=True)
    assert hit is not None and (hit.source, hit.run_id) == ("index", "run-1")
    assert find_hit(stack, metadata, KEY, ["output", "report"], verify=True) is None  # other outputs: not this step's result

    # one byte edited, same size: an existence check passes, verification does not
    data = data_file(folder(stack, output.uri))
    data.write_bytes(data.read_bytes().replace(b"2999", b"2998"))
    assert find_hit(stack, metadata, KEY, ["output"], verify=False) is not None
    assert find_hit(stack, metadata, KEY, ["output"], verify=True) is None
    # the stale entry was dropped, so the step's next result can be indexed under the same key
    assert cache_index.read_entry(stack, KEY) is None
    fresh = stored(stack, VALUE, key="run-2/train/output")
    assert cache_index.write_entry(stack, KEY, "run-2", "train", {"output": fresh}) is True

    # deleted: not even an existence check passes
    remove(folder(stack, fresh.uri))
    assert find_hit(stack, metadata, KEY, ["output"], verify=False) is None
    assert cache_index.read_entry(stack, KEY) is None


def test_the_metadata_store_is_asked_before_the_index(stack: Any, tmp_path: Path) -> None:
    metadata = MetadataStore.for_project(tmp_path)
    indexed = stored(stack, VALUE)
    cache_index.write_entry(stack, KEY, "run-1", "train", {"output": indexed})
    recorded = stored(stack, VALUE, key="run-7/train/output")
    recorded.run_id = "run-7"
    metadata.start_run("run-7", "p", "contract", "test", {}, None)
    metadata.record_step("run-7", "train", "completed", ended_at=1.0, cache_key=KEY)
    metadata.add_artifact(recorded.to_row(), "run-7", "train", "output")
    hit = find_hit(stack, metadata, KEY, ["output"], verify=True)
    assert hit is not None and (hit.source, hit.run_id) == ("metadata", "run-7")
    remove(folder(stack, recorded.uri))  # the recorded one is gone: the index still answers
    hit = find_hit(stack, metadata, KEY, ["output"], verify=True)
    assert hit is not None and (hit.source, hit.run_id) == ("index", "run-1")
