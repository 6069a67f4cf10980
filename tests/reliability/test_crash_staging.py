"""Staging folders left by dead processes: removed by the next run on the store and by ``flowyml gc``."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from flowyml.cli.main import cli
from flowyml.metadata.owner import current_owner, owned_name
from flowyml.stores.staging import TEMP_PREFIX, UNOWNED_AFTER, new_staging, sweep
from flowyml.testing import make_stack
from standins.dead_process import dead_owner_name

LOCAL = {"artifact_store": {"type": "local", "path": "./artifacts"}}


def _folder(parent: Path, name: str, size: int = 1000) -> Path:
    folder = parent / name
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "data.bin").write_bytes(b"x" * size)
    return folder


def test_only_folders_of_dead_owners_are_removed(tmp_path: Path) -> None:
    dead = _folder(tmp_path, dead_owner_name(), size=5000)
    mine = new_staging(tmp_path)  # this process: alive
    elsewhere = _folder(tmp_path, f"0000000000-{os.getpid()}-1-abcd")  # another host/container: cannot be checked
    unowned = _folder(tmp_path, "5d41402abc4b2a76b9719d911017c592")  # an older FlowyML's name
    swept = sweep(tmp_path)
    assert not dead.exists() and swept.folders == 1 and swept.bytes == 5000
    assert mine.exists() and elsewhere.exists() and unowned.exists()
    reasons = {path.name: why for path, why in swept.kept}
    assert "running" in reasons[mine.name] and "cannot be checked" in reasons[elsewhere.name]


def test_unowned_folders_go_only_when_asked_and_untouched_for_an_hour(tmp_path: Path) -> None:
    unowned = _folder(tmp_path, "5d41402abc4b2a76b9719d911017c592")
    assert sweep(tmp_path, unowned=True).folders == 0  # recent
    assert sweep(tmp_path, now=time.time() + UNOWNED_AFTER + 10).folders == 0  # not asked
    assert sweep(tmp_path, unowned=True, now=time.time() + UNOWNED_AFTER + 10).folders == 1
    assert not unowned.exists()


def test_a_new_staging_folder_names_this_process() -> None:
    name = owned_name("abc")
    me = current_owner()
    assert name == f"{me.scope_key}-{me.pid}-{me.started}-abc"


def test_the_first_save_of_a_process_removes_dead_staging(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    staging = tmp_path / "artifacts" / ".staging"
    staging.mkdir(parents=True)
    dead = _folder(staging, dead_owner_name())
    live = new_staging(staging)
    stack = make_stack(tmp_path, LOCAL)
    stack.hook.flowyml_artifact_store_save(key="r/a", write=lambda d: (d / "flowyml.json").write_text("{}"))
    assert not dead.exists() and live.exists()
    stack.close()  # the save's own staging was packed and kept for reuse until the stack closes (a folder: moved into place)
    assert sorted(p.name for p in staging.iterdir()) == [live.name]


def test_an_fsspec_store_stages_under_owned_names_and_sweeps_them(tmp_path: Path) -> None:
    from flowyml.stores.staging import new_temp_staging

    folder = new_temp_staging()
    try:
        assert folder.parent == Path(tempfile.gettempdir()) and folder.name.startswith(TEMP_PREFIX)
        assert folder.name[len(TEMP_PREFIX) :].startswith(current_owner().scope_key)
    finally:
        folder.rmdir()


def test_gc_removes_dead_staging_and_reports_bytes_reclaimed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "flowyml.yaml").write_text(
        "stacks:\n  a: {artifact_store: {type: local, path: ./store-a}}\n  b: {artifact_store: {type: local, path: ./store-b}}\n"
        "active_stack: a\n"
    )
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))  # the system temp folder, for this test
    dead_a = _folder(tmp_path / "store-a" / ".staging", dead_owner_name("aa"), size=300_000)
    dead_b = _folder(tmp_path / "store-b" / ".staging", dead_owner_name("bb"), size=200_000)
    dead_tmp = _folder(Path(tempfile.gettempdir()), TEMP_PREFIX + dead_owner_name("cc"), size=100_000)
    live = new_staging(tmp_path / "store-a" / ".staging")
    result = CliRunner().invoke(cli, ["gc", "--verbose"])
    assert result.exit_code == 0, result.output
    assert not dead_a.exists() and not dead_b.exists() and not dead_tmp.exists() and live.exists()
    first = result.output.splitlines()[0]
    assert first.startswith("staging: removed 3 folder(s) of dead processes, 0.6 MB reclaimed"), result.output
    assert f"{live}: its process is running" in result.output
    again = CliRunner().invoke(cli, ["gc"])
    assert again.output.startswith("staging: removed 0 folder(s) of dead processes, 0 bytes reclaimed")
