"""Formats by type, integrity checks, atomic writes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flowyml import Dataset, Model, pipeline, step
from flowyml.errors import IntegrityError, SerializationError
from flowyml.serialization.artifact_io import MANIFEST, read_artifact, write_artifact


def roundtrip(value, tmp_path: Path):
    folder = tmp_path / "a"
    folder.mkdir(parents=True)
    manifest = write_artifact(value, folder)
    return manifest, read_artifact(folder, manifest["content_hash"])


def test_dataframe_goes_to_parquet(tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas", reason="pandas is in requirements/test-core.txt")
    frame = pd.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"]}, index=[10, 20])
    manifest, loaded = roundtrip(frame, tmp_path)
    assert manifest["serializer"] == "parquet" and list(manifest["files"]) == ["data.parquet"]
    pd.testing.assert_frame_equal(loaded, frame)


def test_arrow_table_and_numpy(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow", reason="pyarrow is in requirements/test-core.txt")
    np = pytest.importorskip("numpy", reason="numpy is in requirements/test-core.txt")
    table = pa.table({"a": [1, 2]})
    manifest, loaded = roundtrip(table, tmp_path)
    assert manifest["serializer"] == "parquet" and loaded.equals(table)
    array = np.arange(6.0).reshape(2, 3)
    manifest, loaded = roundtrip(array, tmp_path / "n")
    assert manifest["serializer"] == "npy" and (loaded == array).all()


@pytest.mark.parametrize(("value", "serializer"), [({"a": [1, None]}, "json"), ("text", "json"), (b"bytes", "binary"), (3.5, "json")])
def test_plain_values(tmp_path: Path, value, serializer: str) -> None:
    manifest, loaded = roundtrip(value, tmp_path)
    assert manifest["serializer"] == serializer and loaded == value


def test_dataset_format_selects_serializer(tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas", reason="pandas is in requirements/test-core.txt")
    frame = pd.DataFrame({"a": [1, 2]})
    manifest, loaded = roundtrip(Dataset(frame, format="csv"), tmp_path)
    assert manifest["serializer"] == "csv" and isinstance(loaded, Dataset) and loaded.format == "csv"
    pd.testing.assert_frame_equal(loaded.data, frame)
    with pytest.raises(SerializationError, match="format 'npy' cannot store"):
        roundtrip(Dataset(frame, format="npy"), tmp_path / "x")


def test_model_keeps_its_attributes(tmp_path: Path) -> None:
    sklearn = pytest.importorskip("sklearn.linear_model", reason="scikit-learn is in requirements/test-core.txt")
    clf = sklearn.LinearRegression().fit([[0.0], [1.0]], [0.0, 1.0])
    model = Model(clf, name="lr", version="2", serving_config={"cpu": 1}, metadata={"team": "x"})
    manifest, loaded = roundtrip(model, tmp_path)
    assert manifest["serializer"] == "pickle" and manifest["safe"] is False
    assert (loaded.name, loaded.version, loaded.framework, loaded.serving_config) == ("lr", "2", "sklearn", {"cpu": 1})
    assert loaded.data.predict([[2.0]])[0] == pytest.approx(2.0)


class Weights:
    """A value only pickle can store."""

    def __init__(self) -> None:
        self.w = [1.0, 2.0]


def test_tampered_pickle_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "a"
    folder.mkdir()
    assert write_artifact(Model(Weights()), folder)["serializer"] == "pickle"
    manifest = json.loads((folder / MANIFEST).read_text())
    (folder / "data.pkl").write_bytes(b"cos\nsystem\n(S'echo pwned'\ntR.")
    with pytest.raises(IntegrityError, match="refusing to load"):
        read_artifact(folder, manifest["content_hash"])


def test_artifact_replaced_after_the_run_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "a"
    folder.mkdir()
    manifest = write_artifact({"a": 1}, folder)
    (folder / "data.json").write_text('{"a": 2}')
    manifest_path = folder / MANIFEST
    data = json.loads(manifest_path.read_text())
    from flowyml.serialization.artifact_io import file_sha256

    data["files"]["data.json"]["sha256"] = data["content_hash"] = file_sha256(folder / "data.json")
    manifest_path.write_text(json.dumps(data))  # consistent manifest, but not what the run recorded
    with pytest.raises(IntegrityError, match="run recorded"):
        read_artifact(folder, expected_hash=manifest["content_hash"])


def test_unpicklable_value_is_a_clear_error(project) -> None:
    @step
    def bad() -> object:
        return lambda x: x

    @pipeline
    def p() -> None:
        bad()

    run = p.run()
    assert not run.success and "cannot be pickled" in run.steps["bad"].error
    leftovers = [p for p in (project.path / "artifacts").rglob(MANIFEST)] if (project.path / "artifacts").exists() else []
    assert leftovers == []


def test_crash_mid_write_leaves_nothing_that_loads(project) -> None:
    class Exploding:
        def __reduce__(self):
            raise RuntimeError("disk full")

    @step
    def writes() -> object:
        return Exploding()

    @pipeline
    def p() -> None:
        writes()

    run = p.run()
    assert run.status == "failed"
    store = project.path / "artifacts"
    assert not list(store.rglob(MANIFEST))
    assert not [d for d in (store / ".staging").iterdir()] if (store / ".staging").exists() else True


def test_unsafe_format_needs_the_recorded_hash(tmp_path: Path) -> None:
    folder = tmp_path / "a"
    folder.mkdir()
    manifest = write_artifact(Model(Weights()), folder)
    with pytest.raises(IntegrityError, match="no run record vouches"):
        read_artifact(folder)
    assert read_artifact(folder, manifest["content_hash"]).data.w == [1.0, 2.0]


def test_framework_models_are_written_where_serving_containers_look(tmp_path: Path) -> None:
    sklearn = pytest.importorskip("sklearn.linear_model", reason="scikit-learn is in requirements/test-core.txt")
    folder = tmp_path / "m"
    folder.mkdir()
    manifest = write_artifact(Model(sklearn.LinearRegression()), folder)
    assert list(manifest["files"]) == ["model.pkl"]
    assert read_artifact(folder, manifest["content_hash"]).framework == "sklearn"


def test_xgboost_models_use_the_native_format(tmp_path: Path) -> None:
    xgboost = pytest.importorskip("xgboost", reason="xgboost-cpu is in requirements/test-core.txt")
    np = pytest.importorskip("numpy", reason="numpy is in requirements/test-core.txt")
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    clf = xgboost.XGBClassifier(n_estimators=3, max_depth=2).fit(X, [0, 0, 1, 1])
    manifest, loaded = roundtrip(Model(clf), tmp_path)
    assert manifest["serializer"] == "xgboost" and list(manifest["files"]) == ["model.ubj"] and manifest["safe"]
    assert loaded.framework == "xgboost" and (loaded.data.predict(X) == clf.predict(X)).all()


def test_lightgbm_boosters_use_the_native_format(tmp_path: Path) -> None:
    lightgbm = pytest.importorskip("lightgbm", reason="lightgbm is in requirements/test-core.txt")
    np = pytest.importorskip("numpy", reason="numpy is in requirements/test-core.txt")
    X = np.random.default_rng(0).random((50, 2))
    booster = lightgbm.train({"objective": "regression", "verbose": -1, "min_data_in_leaf": 5}, lightgbm.Dataset(X, X[:, 0]), num_boost_round=3)
    manifest, loaded = roundtrip(Model(booster), tmp_path)
    assert manifest["serializer"] == "lightgbm" and list(manifest["files"]) == ["model.txt"]
    assert np.allclose(loaded.data.predict(X), booster.predict(X))


def test_onnx_models_use_the_native_format(tmp_path: Path) -> None:
    onnx = pytest.importorskip("onnx", reason="onnx is in requirements/test-core.txt")
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y"])],
        "identity",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
    )
    model = helper.make_model(graph)
    manifest, loaded = roundtrip(Model(model), tmp_path)
    assert manifest["serializer"] == "onnx" and loaded.framework == "onnx"
    assert loaded.data.graph.node[0].op_type == "Identity"
    onnx.checker.check_model(loaded.data)


def test_hashing_file_digest_matches_the_bytes_on_disk(tmp_path: Path) -> None:
    import hashlib

    from flowyml.serialization.hashing import HashingFile

    payload = [bytes([i % 251]) * (300_000 + i) for i in range(12)]
    with HashingFile(tmp_path / "f.bin") as out:
        with pytest.raises(RuntimeError, match="once the file is closed"):
            _ = out.sha256
        for chunk in payload:
            out.write(memoryview(chunk))
        assert out.tell() == sum(map(len, payload))
    assert out.sha256 == hashlib.sha256((tmp_path / "f.bin").read_bytes()).hexdigest() == hashlib.sha256(b"".join(payload)).hexdigest()


def test_streamed_hashes_equal_a_full_read(tmp_path: Path) -> None:
    """The built-in streaming serializers record BLAKE3 (flowyml.serialization.digests), computed while writing."""
    pd = pytest.importorskip("pandas", reason="pandas is in requirements/test-core.txt")
    from blake3 import blake3

    manifest, _ = roundtrip(pd.DataFrame({"a": range(50_000)}), tmp_path)
    data = (tmp_path / "a" / "data.parquet").read_bytes()
    assert manifest["files"]["data.parquet"] == {"blake3": blake3(data).hexdigest(), "size": len(data)}
