"""How many requests a save and a fetch cost, counted at the emulator (its request log).

Every request is a round trip to Google Cloud Storage: these tests pin the
number a fetch makes (one listing, one GET per file: no metadata lookups) and
check that ``upload_chunk_mb`` reaches gcsfs' resumable uploads.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from flowyml.errors import ConfigError
from flowyml.plugins.kinds import Kind
from flowyml.testing import make_stack

EMULATOR_LOG = "gcp_storage_emulator.server"
MIB = 2**20


def requests_seen(caplog: pytest.LogCaptureFixture) -> list[str]:
    """``METHOD /path?query`` of every request the emulator answered since the last clear."""
    lines = []
    for record in caplog.records:
        if record.name == EMULATOR_LOG:
            found = re.search(r'"([A-Z]+ \S+) HTTP/1\.1"', record.getMessage())
            if found:
                lines.append(found.group(1))
    return lines


def write_blob(size: int) -> Any:
    def write(directory: Path) -> None:
        (Path(directory) / "data.bin").write_bytes(bytes(range(256)) * (size // 256))
        (Path(directory) / "flowyml.json").write_text(json.dumps({"content_hash": "x", "files": {}}))

    return write


def test_fetch_is_one_listing_and_one_get_per_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, gcs_store_config: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.chdir(tmp_path)
    stack = make_stack(tmp_path, {"artifact_store": gcs_store_config})
    uri = stack.hook.flowyml_artifact_store_save(key="r1/datasets/s", write=write_blob(6 * MIB))

    caplog.set_level(logging.INFO, logger=EMULATOR_LOG)
    caplog.clear()
    local = stack.hook.flowyml_artifact_store_fetch(uri=uri, scratch=tmp_path / "scratch")
    seen = requests_seen(caplog)

    assert (Path(local) / "data.bin").stat().st_size == 6 * MIB
    assert json.loads((Path(local) / "flowyml.json").read_text())["content_hash"] == "x"
    listings = [r for r in seen if r.startswith("GET /storage/v1/b/") and "/o?" in r]
    downloads = [r for r in seen if r.startswith("GET /download/")]
    assert len(listings) == 1, seen
    assert sorted(unquote(d.split("?")[0]).rsplit("/", 1)[-1] for d in downloads) == ["data.bin", "flowyml.json"], seen
    assert len(seen) == 3, f"a fetch should be 1 listing + 2 downloads, the emulator saw {seen}"


def test_download_options_leave_big_files_to_gcsfs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, gcs_store_config: dict[str, Any]
) -> None:
    monkeypatch.chdir(tmp_path)
    store = make_stack(tmp_path, {"artifact_store": gcs_store_config}).component(Kind.ARTIFACT_STORE)
    assert store.download_options(80 * MIB) == {"concurrency": 1}
    assert store.download_options(500 * MIB) == {}  # gcsfs' concurrent ranged download


def test_upload_chunk_mb_sets_the_resumable_chunk_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, gcs_store_config: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.chdir(tmp_path)
    stack = make_stack(tmp_path, {"artifact_store": {**gcs_store_config, "upload_chunk_mb": 5}})
    assert stack.component(Kind.ARTIFACT_STORE).transfer_options(12 * MIB) == {"chunksize": 5 * MIB}

    caplog.set_level(logging.INFO, logger=EMULATOR_LOG)
    caplog.clear()
    uri = stack.hook.flowyml_artifact_store_save(key="r1/datasets/chunks", write=write_blob(12 * MIB))
    chunks = [r for r in requests_seen(caplog) if r.startswith("POST /upload/") and "upload_id=" in r]
    assert len(chunks) == 3, chunks  # 12 MiB in 5 MiB chunks: 5 + 5 + 2
    local = stack.hook.flowyml_artifact_store_fetch(uri=uri, scratch=tmp_path / "scratch")
    assert (Path(local) / "data.bin").read_bytes() == bytes(range(256)) * (12 * MIB // 256)


@pytest.mark.parametrize("value", [0, 4096])
def test_upload_chunk_mb_out_of_range(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: int) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="upload_chunk_mb must be between 1 and 1024") as caught:
        make_stack(tmp_path, {"artifact_store": {"type": "gcs", "bucket": "b-1", "upload_chunk_mb": value}})
    assert "stacks.contract.artifact_store.upload_chunk_mb" in str(caught.value)
