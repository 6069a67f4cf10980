"""Small spec-like pipelines the GCS end-to-end tests run (importable by subprocesses too)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from flowyml import pipeline
from flowyml.core import Dataset, Metrics, Model, step

#: Set by a fault test: an object with ``stop()`` that the ``sabotage`` step calls.
SABOTEUR: Any = None


def frame() -> pd.DataFrame:
    rows = 200
    return pd.DataFrame(
        {
            "x1": [float(i % 17) for i in range(rows)],
            "x2": [float((i * 7) % 11) for i in range(rows)],
            "label": [int(i % 17 > 8) for i in range(rows)],
        }
    )


@step
def load() -> pd.DataFrame:
    return frame()


@step
def preprocess(raw_data: pd.DataFrame) -> Dataset:
    return Dataset(data=raw_data.astype("float64"), name="training_features", format="parquet")


@step
def train_model(data: Dataset) -> Model:
    from sklearn.linear_model import LogisticRegression

    features = data.data[["x1", "x2"]]
    clf = LogisticRegression().fit(features, data.data["label"])
    return Model(data=clf, name="fraud_detector", version="1.0.0", framework="sklearn")


@step
def evaluate(model: Model, test_data: Dataset) -> Metrics:
    predictions = model.data.predict(test_data.data[["x1", "x2"]])
    accuracy = float((predictions == test_data.data["label"]).mean())
    return Metrics({"accuracy": accuracy})


@step
def sabotage(data: Dataset) -> Dataset:
    """Stop the storage server, then return an output that must now fail to store."""
    SABOTEUR.stop()
    return Dataset(data=data.data.head(5), name="never_stored")


@pipeline
def spec_like() -> None:
    data = preprocess(load())
    model = train_model(data)
    evaluate(model, data)


@pipeline
def interrupted() -> None:
    data = preprocess(load())
    sabotage(data)
