"""The artifact types refuse values they cannot be, when they are created, naming what is wrong."""

from __future__ import annotations

import math

import pytest

from flowyml import Dataset, Metrics, Model, Parameters, pipeline, step
from flowyml.errors import ArtifactError, ArtifactValueError, InvalidNameError

np = pytest.importorskip("numpy", reason="numpy is in requirements/test-core.txt")


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: Model(data=None), ArtifactValueError, r"Model\(data=None\)"),
        (lambda: Model({"w": 1}, name=""), InvalidNameError, "Model name '' cannot be used: it is empty"),
        (lambda: Model({"w": 1}, name=3), InvalidNameError, "it is a int, not a string"),
        (lambda: Model({"w": 1}, version=1.5), InvalidNameError, "Model version 1.5 cannot be used: it is a float"),
        (lambda: Model({"w": 1}, version=True), InvalidNameError, "it is a bool"),
        (lambda: Model({"w": 1}, version=["1"]), InvalidNameError, "it is a list"),
        (lambda: Model({"w": 1}, framework="custom"), ArtifactValueError, "unknown Model framework 'custom'; known frameworks: .*sklearn.*xgboost"),
        (lambda: Model({"w": 1}, framework=3), ArtifactValueError, "framework must be a string"),
        (lambda: Model({"w": 1}, metadata=["a"]), ArtifactValueError, "Model metadata must be a mapping"),
        (lambda: Model({"w": 1}, serving_config="gpu"), ArtifactValueError, "serving_config must be a mapping"),
    ],
)
def test_model_refuses_what_it_cannot_be(make, error, message: str) -> None:
    with pytest.raises(error, match=message):
        make()


def test_model_keeps_what_is_documented() -> None:
    assert Model({"w": 1}, version=2).version == "2"  # docs: version=2 becomes "2"
    assert Model({"w": 1}, framework="sklearn").framework == "sklearn"
    assert Model({"w": 1}).framework is None  # nothing detected: None
    assert issubclass(ArtifactValueError, ArtifactError) and issubclass(ArtifactValueError, ValueError)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (None, r"Metrics\(\) takes a mapping of names to values, got NoneType"),
        ({None: 1.0}, "metric names are non-empty strings; got the key None"),
        ({1: 1.0}, "got the key 1 "),
        ({"acc": "high"}, "metric 'acc' is a str, not a number"),
        ({"acc": None}, "metric 'acc' is None, not a number"),
        ({"acc": [0.9, 0.8]}, r"metric 'acc' is a list \(\[0.9, 0.8\]\), not a number"),
        ({"report": {"f1": "x"}}, "metric 'report.f1' is a str"),
        ({"report": {2: 0.5}}, "got the key 2 .* under 'report'"),
    ],
)
def test_metrics_are_numbers_by_string_names(values, message: str) -> None:
    with pytest.raises(ArtifactValueError, match=message):
        Metrics(values)


def test_metrics_accept_numbers_nesting_and_non_finite_values() -> None:
    m = Metrics({"acc": 0.9, "n": 3, "ok": True, "np": np.float32(0.5), "i": np.int64(2), "val": {"f1": 0.7}, "loss": math.nan, "gap": math.inf})
    assert m["val"] == {"f1": 0.7} and math.isnan(m["loss"])
    assert Metrics() == {}
    with pytest.raises(ArtifactValueError, match="non-negative integer"):
        Metrics({"a": 1}, step=-1)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"layers": {1, 2}}, r"parameter 'layers' is a set \(\{1, 2\}\), not a JSON value"),
        ({"model": object()}, "parameter 'model' is a object"),
        ({1: "a"}, "parameter names are strings; got the key 1"),
        ({"opt": {"betas": {0.9: 1}}}, "got the key 0.9 .* under 'opt.betas'"),
        ({"opt": {"sched": [1, {2, 3}]}}, r"parameter 'opt.sched\[1\]' is a set"),
        ({"lr": math.nan}, "parameter 'lr' is nan, which JSON cannot hold"),
        (None, r"Parameters\(\) takes a mapping"),
    ],
)
def test_parameters_hold_json_values_only(values, message: str) -> None:
    with pytest.raises(ArtifactValueError, match=message):
        Parameters(values)


def test_parameters_keep_json_values() -> None:
    p = Parameters({"lr": 0.001, "epochs": np.int64(100), "hidden": (64, 32), "opt": {"name": "adam"}, "none": None})
    assert p == {"lr": 0.001, "epochs": 100, "hidden": [64, 32], "opt": {"name": "adam"}, "none": None}
    assert type(p["epochs"]) is int


def test_names_of_every_artifact_type_are_checked() -> None:
    for make in (lambda n: Dataset([1], name=n), lambda n: Metrics({"a": 1}, name=n), lambda n: Parameters({}, name=n)):
        with pytest.raises(InvalidNameError, match="cannot be used"):
            make("../x")


@pytest.mark.parametrize(
    ("annotation", "returned", "got"),
    [
        ("Metrics", lambda: Model({"w": 1}), "Model"),
        ("Model", lambda: None, "None"),
        ("Model", lambda: Metrics({"a": 1}), "Metrics"),
        ("Dataset", lambda: None, "None"),
        ("Dataset", lambda: Parameters({"a": 1}), "Parameters"),
        ("Parameters", lambda: Dataset([1]), "Dataset"),
        ("Metrics", lambda: None, "None"),
    ],
)
def test_a_step_must_return_what_it_is_annotated(project, annotation: str, returned, got: str) -> None:
    def body():
        return returned()

    body.__annotations__ = {"return": annotation}
    body.__name__ = "x"
    s = step(body)

    @pipeline
    def p() -> None:
        s()

    run = p.run()
    assert run.steps["x"].status == "failed"
    assert f"step 'x' is annotated -> {annotation} but returned {got}" in run.steps["x"].error


def test_plain_values_are_still_wrapped_and_checked(project) -> None:
    @step
    def good() -> Metrics:
        return {"accuracy": 0.9}

    @step
    def bad() -> Metrics:
        return {"accuracy": "high"}

    @pipeline
    def p() -> None:
        good()
        bad()

    run = p.run()
    assert run.steps["good"].status == "completed" and run.load("good") == {"accuracy": 0.9}
    assert run.steps["bad"].status == "failed" and "metric 'accuracy' is a str, not a number" in run.steps["bad"].error


def test_several_outputs_name_the_output(project) -> None:
    @step(outputs=["a", "b"])
    def two() -> tuple[Model, Metrics]:
        return Model({"w": 1}), Model({"w": 2})

    @pipeline
    def p() -> None:
        two()

    run = p.run()
    assert "step 'two' is annotated -> Metrics but returned Model (output 'b')" in run.steps["two"].error
