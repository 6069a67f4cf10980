"""The artifact types behave as the spec shows."""

from __future__ import annotations

import pytest

from flowyml.core import Dataset, Metrics, Model, Parameters
from flowyml.core.frameworks import detect_framework


def fake_instance(module: str, name: str = "Thing") -> object:
    cls = type(name, (), {})
    cls.__module__ = module
    return cls()


@pytest.mark.parametrize(
    ("module", "framework"),
    [
        ("sklearn.ensemble._forest", "sklearn"),
        ("xgboost.sklearn", "xgboost"),
        ("lightgbm.basic", "lightgbm"),
        ("catboost.core", "catboost"),
        ("torch.nn.modules.linear", "pytorch"),
        ("tensorflow.python.keras.engine", "tensorflow"),
        ("keras.src.models", "keras"),
        ("onnx.onnx_ml_pb2", "onnx"),
        ("transformers.models.bert", "transformers"),
        ("mypackage.models", None),
    ],
)
def test_framework_detected_from_class_module(module: str, framework: str | None) -> None:
    assert detect_framework(fake_instance(module)) == framework
    assert Model(fake_instance(module)).framework == framework


def test_framework_detected_through_a_user_subclass() -> None:
    base = type("Module", (), {})
    base.__module__ = "torch.nn.modules.module"
    user = type("MyNet", (base,), {})
    user.__module__ = "my_project.nets"
    assert detect_framework(user()) == "pytorch"


def test_model_as_in_the_spec() -> None:
    model = Model(
        data=fake_instance("sklearn.linear_model"),
        name="my_model",
        version="1.0.0",
        framework="sklearn",
        serving_config={"machine_type": "n1-standard-2"},
        input_schema={"x": "float"},
        output_schema={"y": "int"},
        metadata={"key": "value", "metrics": {"accuracy": 0.9}},
    )
    assert (model.name, model.version, model.framework) == ("my_model", "1.0.0", "sklearn")
    assert model.metrics == {"accuracy": 0.9}
    assert model.describe()["serving_config"] == {"machine_type": "n1-standard-2"}


def test_explicit_framework_wins_and_version_is_text() -> None:
    assert Model(fake_instance("sklearn.x"), framework="pytorch", version=2).version == "2"
    assert Model(fake_instance("sklearn.x"), framework="pytorch").framework == "pytorch"


def test_dataset_format_schema_statistics_detected() -> None:
    pd = pytest.importorskip("pandas", reason="pandas is in requirements/test-core.txt")
    np = pytest.importorskip("numpy", reason="numpy is in requirements/test-core.txt")
    frame = pd.DataFrame({"a": [1, 2], "b": [0.5, 1.5]})
    ds = Dataset(frame, name="training_data")
    assert ds.format == "parquet"
    assert ds.schema == {"a": "int64", "b": "float64"}
    assert ds.statistics == {"num_rows": 2, "num_columns": 2}
    assert Dataset(np.zeros((3, 2))).format == "npy"
    assert Dataset({"a": 1}).format == "json"
    assert Dataset([1, 2]).format == "json"
    assert Dataset("text").format == "text"
    assert Dataset(b"raw").format == "binary"
    assert Dataset(frame, format="csv", schema={"a": "int"}, statistics={"rows": 2}).describe()["schema"] == {"a": "int"}


def test_metrics_at_step_and_with_metadata_return_new_objects() -> None:
    metrics = Metrics({"accuracy": 0.95, "loss": 0.05})
    stepped = Metrics({"loss": 0.05}).at_step(100)
    tagged = Metrics({"accuracy": 0.95}).with_metadata(model_version="1.0")
    assert stepped.step == 100 and Metrics({"loss": 0.05}).step is None
    assert tagged.metadata == {"model_version": "1.0"} and metrics.metadata == {}
    assert tagged.with_metadata(run="a").metadata == {"model_version": "1.0", "run": "a"}
    assert metrics["accuracy"] == 0.95 and dict(metrics) == {"accuracy": 0.95, "loss": 0.05}
    assert metrics == {"accuracy": 0.95, "loss": 0.05}
    with pytest.raises(ValueError, match="non-negative integer"):
        metrics.at_step(-1)


def test_parameters_is_a_mapping() -> None:
    params = Parameters({"learning_rate": 0.001, "epochs": 100, "batch_size": 32})
    assert params["epochs"] == 100 and len(params) == 3 and set(params) == {"learning_rate", "epochs", "batch_size"}
    assert dict(**params)["batch_size"] == 32


def test_an_artifact_row_has_every_public_field_and_its_own_info() -> None:
    import attrs

    from flowyml.runner.result import StoredArtifact

    info = {"schema": {"a": "int64"}, "statistics": {"rows": 3}}
    art = StoredArtifact("id", "run", "step", "output", "Dataset", "pandas.DataFrame", "/x", "h" * 64, 10, "parquet", info)
    row = art.to_row()
    public = [f.name for f in attrs.fields(StoredArtifact) if not f.name.startswith("_")]
    assert list(row) == public and all(row[name] == getattr(art, name) for name in public)
    row["info"]["schema"]["a"] = "edited"
    assert art.info["schema"]["a"] == "int64"  # the row is a copy: editing it changes no record
    assert StoredArtifact.from_row({**art.to_row(), "info": '{"schema": {"a": "int64"}, "statistics": {"rows": 3}}'}) == art
