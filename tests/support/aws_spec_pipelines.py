"""The spec's pipeline, small: copied into each s3 / sagemaker test project and run from there.

Deterministic (seeded), so a test can rebuild every expected value itself.
Also defines ``fail_after_train`` (stores artifacts, then a step raises) for fault tests.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from flowyml import Dataset, Metrics, Model, Parameters, pipeline, step

#: Test hooks: ``HOOKS["evaluate"]()`` runs when evaluate starts (e.g. to stop the S3 server mid-run).
HOOKS: dict[str, Callable[[], None]] = {}


def make_frame() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    x = rng.normal(size=(200, 3))
    return pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "c": x[:, 2], "label": (x[:, 0] + x[:, 1] > 0).astype(int)})


@step
def load_data() -> Dataset:
    return Dataset(make_frame(), name="raw_data")


@step
def preprocess(raw: Dataset) -> Dataset:
    frame = raw.data.copy()
    frame["a"] = (frame["a"] - frame["a"].mean()) / frame["a"].std()
    return Dataset(frame, name="training_features", format="parquet")


@step
def params() -> Parameters:
    return Parameters({"C": 1.0, "max_iter": 200})


@step
def train_model(data: Dataset, hp: Parameters) -> Model:
    frame = data.data
    clf = LogisticRegression(C=hp.data["C"], max_iter=hp.data["max_iter"]).fit(frame[["a", "b", "c"]], frame["label"])
    accuracy = float(clf.score(frame[["a", "b", "c"]], frame["label"]))
    return Model(clf, name="fraud_detector", version=os.environ.get("SPEC_MODEL_VERSION", "1.0.0"), framework="sklearn",
                 metadata={"metrics": {"accuracy": accuracy}})


@step
def evaluate(model: Model, data: Dataset) -> Metrics:
    if "evaluate" in HOOKS:
        HOOKS["evaluate"]()
    frame = data.data
    predictions = model.data.predict(frame[["a", "b", "c"]])
    return Metrics({"accuracy": float((predictions == frame["label"]).mean())})


@pipeline
def spec_pipeline() -> None:
    data = preprocess(load_data())
    model = train_model(data, params())
    evaluate(model, data)


@step
def explode(model: Model) -> Metrics:
    raise RuntimeError("boom: the evaluation crashed")


@pipeline
def fail_after_train() -> None:
    data = preprocess(load_data())
    explode(train_model(data, params()))
