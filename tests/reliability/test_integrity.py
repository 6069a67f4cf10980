"""Tampering with a stored artifact, as someone with write access to the artifact store would.

The recorded content hash covers how an artifact is read (format version,
type, serializer, Python type, file names), not only its bytes: an edited
manifest is refused by every reader before anything is deserialized. Each
attack below carries a pickle that would create a marker file if it were ever
unpickled; no test may find the marker.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from flowyml import Model, pipeline, step
from flowyml.errors import DeploymentError, IntegrityError, SerializationError
from flowyml.serialization.artifact_io import MANIFEST, Expected, read_artifact, write_artifact
from flowyml.serialization.integrity import FORMAT_VERSION, canonical_hash, legacy_hash
from flowyml.stores.packed import pack_bytes, unpack

LOCAL = """
stacks:
  local:
    orchestrator: { type: local }
    artifact_store: { type: local, path: ./artifacts }
    model_registry: { type: local }
    model_deployer: { type: local, startup_timeout: 60 }
    artifact_routing:
      Model: { register: true }
active_stack: local
"""


class _Touch:
    """Unpickling this creates ``path`` (what an attacker's code would do)."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def attacker_bytes(marker: Path) -> bytes:
    return pickle.dumps(_Touch(marker))


def edit_manifest(folder: Path, rehash: bool = False, **changes) -> dict:
    """Rewrite ``flowyml.json`` with ``changes``.

    Its own ``content_hash`` field is kept (it still equals what the run
    recorded), or with ``rehash`` recomputed for the edited fields: neither may
    make a reader trust the edit.
    """
    path = folder / MANIFEST
    manifest = json.loads(path.read_text())
    manifest.update(changes)
    if rehash:
        manifest["content_hash"] = canonical_hash(manifest)
    path.write_text(json.dumps(manifest))
    return manifest


def binary_to_pickle(folder: Path, rehash: bool = False) -> None:
    """The manifest-only attack: the bytes stay, the file is renamed and the manifest says pickle.

    A packed artifact (one file, :mod:`flowyml.stores.packed`) is unpacked, edited the same way and packed again.
    """
    if folder.is_file():
        unpacked = folder.with_name(folder.name + ".edit")
        unpack(folder.read_bytes(), unpacked, str(folder))
        binary_to_pickle(unpacked, rehash)
        packed = pack_bytes(unpacked)
        assert packed is not None
        folder.write_bytes(packed)
        shutil.rmtree(unpacked)
        return
    manifest = json.loads((folder / MANIFEST).read_text())
    (folder / "data.bin").rename(folder / "data.pkl")
    files = {"data.pkl": manifest["files"]["data.bin"]}
    edit_manifest(folder, rehash=rehash, files=files, serializer="pickle", safe=True, python_type="builtins.object")


def stored_binary(tmp_path: Path, marker: Path) -> tuple[Path, dict]:
    folder = tmp_path / "a"
    folder.mkdir()
    manifest = write_artifact(Model(attacker_bytes(marker), name="m"), folder)
    assert manifest["serializer"] == "binary" and list(manifest["files"]) == ["data.bin"]
    return folder, manifest


def test_a_manifest_only_edit_to_pickle_is_refused_before_unpickling(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    folder, manifest = stored_binary(tmp_path, marker)
    binary_to_pickle(folder, rehash=True)
    for expected in (manifest["content_hash"], Expected(content_hash=manifest["content_hash"], serializer="binary", label="train.output of run r")):
        with pytest.raises(IntegrityError, match="does not match its record") as info:
            read_artifact(folder, expected)
        assert "content hash" in str(info.value)
    with pytest.raises(IntegrityError, match="serializer: the record says 'binary', the manifest says 'pickle'"):
        read_artifact(folder, Expected(content_hash=manifest["content_hash"], serializer="binary"))
    assert not marker.exists()
    # The same bytes, unedited, load as the bytes they are.
    (folder / "data.pkl").rename(folder / "data.bin")
    edit_manifest(folder, files=manifest["files"], serializer="binary", safe=True, python_type="builtins.bytes")
    assert read_artifact(folder, manifest["content_hash"]).data == attacker_bytes(marker)
    assert not marker.exists()


def test_cached_rerun_and_load_refuse_the_edited_manifest(project) -> None:
    project.write_config(LOCAL)
    marker = project.path / "pwned"

    @step
    def train() -> Model:
        return Model(attacker_bytes(marker), name="m", version="1")

    @pipeline
    def p() -> None:
        train()

    first = p.run()
    assert first.success, first.error
    artifact = first.artifact("train")
    binary_to_pickle(Path(artifact.uri))

    again = p.run()  # the step is a cache hit: its Model is read back for registration
    assert not again.success
    assert again.steps["train"].status == "failed"
    assert "IntegrityError" in again.steps["train"].error and "train.output of run" in again.steps["train"].error
    with pytest.raises(IntegrityError, match="serializer: the record says 'binary', the manifest says 'pickle'"):
        artifact.load()
    assert not marker.exists()


def test_downstream_inputs_refuse_the_edited_manifest(project) -> None:
    marker = project.path / "pwned"

    @step
    def produce() -> bytes:
        return attacker_bytes(marker)

    @step(cache=False)
    def consume(data: bytes) -> int:
        return len(data)

    @pipeline
    def p() -> None:
        consume(produce())

    first = p.run()
    assert first.success, first.error
    binary_to_pickle(Path(first.artifact("produce").uri))
    again = p.run()
    assert again.steps["produce"].status == "cached"
    assert again.steps["consume"].status == "failed" and "does not match its record" in again.steps["consume"].error
    assert not marker.exists()


def test_a_safe_claim_does_not_make_an_unrecorded_pickle_load(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    folder = tmp_path / "a"
    folder.mkdir()
    write_artifact(_Carrier(marker), folder)
    edit_manifest(folder, safe=True)
    with pytest.raises(IntegrityError, match="no run record vouches"):
        read_artifact(folder)
    # The local model server reads without a hash when the registry recorded none: refused the same way.
    ready = tmp_path / "ready"
    done = subprocess.run(
        [sys.executable, "-m", "flowyml_local.server", "--artifact", str(folder), "--ready-file", str(ready)],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 2 and "no run record vouches" in done.stderr and "Traceback" not in done.stderr
    assert not marker.exists() and not ready.exists()


class _Carrier:
    """A value only pickle stores; it carries the attacker's payload."""

    def __init__(self, marker: Path) -> None:
        self.payload = _Touch(marker)


def test_swapped_artifacts_are_refused(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    first = write_artifact(Model({"w": 1}), a)
    write_artifact(Model({"w": 2}), b)
    # Files swapped (each manifest kept): the bytes no longer match the manifest.
    (a / "data.json").rename(tmp_path / "tmp.json")
    (b / "data.json").rename(a / "data.json")
    with pytest.raises(IntegrityError, match="file data.json no longer matches its recorded sha256"):
        read_artifact(a, first["content_hash"])
    # Whole folders swapped (a complete, valid artifact in the wrong place): not what the run recorded.
    (a / "data.json").rename(b / "data.json")
    (tmp_path / "tmp.json").rename(a / "data.json")
    a.rename(tmp_path / "c")
    b.rename(a)
    with pytest.raises(IntegrityError, match="the run recorded"):
        read_artifact(a, first["content_hash"])


def test_a_newer_format_is_refused_with_both_versions(tmp_path: Path) -> None:
    folder = tmp_path / "a"
    folder.mkdir()
    manifest = write_artifact({"a": 1}, folder)
    assert manifest["format_version"] == FORMAT_VERSION
    edit_manifest(folder, format_version=FORMAT_VERSION + 1)
    with pytest.raises(SerializationError, match=f"artifact format {FORMAT_VERSION + 1}; this FlowyML reads formats up to {FORMAT_VERSION}"):
        read_artifact(folder, manifest["content_hash"])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"format_version": "2"}, "format_version is '2', not an integer"),
        ({"files": {"../../outside": {"sha256": "0" * 64}}}, "points outside the artifact folder"),
        ({"files": {}}, "lists no file"),
        ({"artifact_type": "Weights"}, "does not match its record"),
    ],
)
def test_malformed_manifests_are_integrity_errors(tmp_path: Path, change: dict, message: str) -> None:
    folder = tmp_path / "a"
    folder.mkdir()
    manifest = write_artifact(Model({"w": 1}), folder)
    edit_manifest(folder, **change)
    with pytest.raises(IntegrityError, match=message):
        read_artifact(folder, manifest["content_hash"])


def test_format_1_artifacts_still_load_when_their_record_names_the_serializer(tmp_path: Path) -> None:
    """Artifacts written before the canonical hash: the hash covered the files only."""
    marker = tmp_path / "pwned"
    folder = tmp_path / "a"
    folder.mkdir()
    write_artifact(Model(_Weights()), folder)
    path = folder / MANIFEST
    manifest = json.loads(path.read_text())
    manifest.update(format_version=1, content_hash=legacy_hash(manifest["files"]))
    path.write_text(json.dumps(manifest))
    old_hash = manifest["content_hash"]
    assert read_artifact(folder, Expected(content_hash=old_hash, serializer="pickle")).data.w == [1.0, 2.0]
    with pytest.raises(IntegrityError, match="no run record names one"):
        read_artifact(folder, old_hash)  # a registry entry holds the hash only: not enough for a format-1 pickle

    # The manifest-only attack on a format-1 binary artifact: the record's serializer refuses it.
    legacy = tmp_path / "b"
    legacy.mkdir()
    written = write_artifact(attacker_bytes(marker), legacy)
    data = json.loads((legacy / MANIFEST).read_text())
    data.update(format_version=1, content_hash=legacy_hash(data["files"]))
    (legacy / MANIFEST).write_text(json.dumps(data))
    assert written["serializer"] == "binary"
    binary_to_pickle(legacy)
    with pytest.raises(IntegrityError, match="serializer: the record says 'binary'"):
        read_artifact(legacy, Expected(content_hash=data["content_hash"], serializer="binary"))
    assert not marker.exists()


class _Weights:
    def __init__(self) -> None:
        self.w = [1.0, 2.0]


def test_registry_load_and_deploy_refuse_the_edited_manifest(project) -> None:
    project.write_config(LOCAL)
    marker = project.path / "pwned"

    @step
    def train() -> Model:
        return Model(attacker_bytes(marker), name="clf", version="1")

    @pipeline
    def p() -> None:
        train()

    run = p.run()
    assert run.success, run.error
    binary_to_pickle(Path(run.artifact("train").uri))

    from flowyml.models import deploy_model, get_model, model_stack
    from flowyml.runner.loading import read_registered

    registered = get_model("clf", "1")
    assert registered.content_hash == run.artifact("train").content_hash
    with pytest.raises(IntegrityError, match="model 'clf' version 1"):
        read_registered(model_stack(), registered)
    with pytest.raises(DeploymentError) as info:
        deploy_model("clf", "1")
    assert "does not match its record" in str(info.value)
    assert not marker.exists()


@pytest.fixture(scope="module")
def example_plugin(tmp_path_factory) -> Path:
    """tests/example_plugin (its subprocess orchestrator) installed into a private folder, no index."""
    target = tmp_path_factory.mktemp("site")
    source = Path(__file__).parents[1] / "example_plugin"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", "--no-build-isolation", "--target", str(target), str(source)],
        check=True, capture_output=True,
    )
    return target


def test_remote_steps_refuse_the_edited_manifest(project, example_plugin: Path) -> None:
    """The subprocess orchestrator runs each step as `flowyml step run`, as a container would."""
    project.write_config(
        "stacks:\n  sub:\n    orchestrator: { type: subprocess, timeout: 120 }\n"
        "    artifact_store: { type: local, path: ./artifacts }\nactive_stack: sub\n"
    )
    project.write(
        "remote_attack.py",
        "from pathlib import Path\nimport pickle\nfrom flowyml import pipeline, step\n\n"
        "class Touch:\n    def __reduce__(self):\n        return (open, (str(Path('pwned').resolve()), 'w'))\n\n"
        "@step\ndef produce() -> bytes:\n    return pickle.dumps(Touch())\n\n"
        "@step(cache=False)\ndef consume(data: bytes) -> int:\n    return len(data)\n\n"
        "@pipeline\ndef attack() -> None:\n    consume(produce())\n",
    )
    code = (
        "import sys; from remote_attack import attack\n"
        "run = attack.run(stack='sub')\n"
        "print(run.status, run.artifact('produce').uri if run.steps['produce'].outputs else '')\n"
        "print(repr(run.steps['consume'].error))\n"
    )
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(example_plugin), str(project.path), os.environ.get("PYTHONPATH")])), "PATH": path}

    def run_it() -> tuple[list[str], str]:
        done = subprocess.run([sys.executable, "-c", code], cwd=project.path, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip().splitlines()[-2:], done.stderr

    first, _ = run_it()
    assert first[0].startswith("completed "), first
    uri = first[0].split(" ", 1)[1]
    binary_to_pickle(Path(uri))
    (status_line, _), stderr = run_it()
    # the client checks a cached result before launching anything: the edited one is refused, produce runs again
    assert "does not match its record" in stderr and "the step runs again" in stderr
    assert status_line.startswith("completed ") and status_line.split(" ", 1)[1] != uri
    assert not (project.path / "pwned").exists()


def test_an_xgboost_artifact_only_instantiates_xgboost_classes(tmp_path: Path) -> None:
    """Without a recorded hash a safe format is read, but its python_type cannot name any class."""
    xgboost = pytest.importorskip("xgboost", reason="xgboost-cpu is in requirements/test-core.txt")
    np = pytest.importorskip("numpy", reason="numpy is in requirements/test-core.txt")
    folder = tmp_path / "m"
    folder.mkdir()
    clf = xgboost.XGBClassifier(n_estimators=2, max_depth=2).fit(np.array([[0.0], [1.0]]), [0, 1])
    write_artifact(Model(clf), folder)
    edit_manifest(folder, python_type="subprocess.Popen")
    with pytest.raises(IntegrityError, match="names the class 'subprocess.Popen', which is not xgboost's"):
        read_artifact(folder)
