"""The spec's pipeline (load -> preprocess -> train_model -> evaluate), small and deterministic.

Shared by the gcs and vertex plugins' tests (``from support import spec_pipelines``:
the root conftest puts tests/ on sys.path; a step subprocess needs it on
PYTHONPATH). ``interrupted`` is the same start with a step that stops the
storage server under the run (the gcs fault test sets :data:`SABOTEUR`).
"""

from __future__ import annotations

import os
from typing import Any

import pandas as pd

from flowyml import pipeline
from flowyml.core import Dataset, Metrics, Model, step

#: Set by a fault test: an object with ``stop()`` that the ``sabotage`` step calls.
SABOTEUR: Any = None
#: A step process with this variable set fails in ``train_model`` (the vertex test of a failed task sets it for that task only).
FAIL_ENV = "FLOWYML_TEST_FAIL"
#: ``train_model`` fails once: when the file this variable names does not exist yet, it creates it and fails (a retried step).
FAIL_ONCE_ENV = "FLOWYML_TEST_FAIL_ONCE"


def frame() -> pd.DataFrame:
    rows = 120
    return pd.DataFrame(
        {
            "x1": [float(i % 13) for i in range(rows)],
            "x2": [float((i * 5) % 7) for i in range(rows)],
            "label": [int(i % 13 > 6) for i in range(rows)],
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
    from sklearn.tree import DecisionTreeClassifier

    if os.environ.get(FAIL_ENV):
        raise RuntimeError("training diverged")
    marker = os.environ.get(FAIL_ONCE_ENV)
    if marker and not os.path.exists(marker):
        with open(marker, "w") as written:
            written.write("the first attempt failed")
        raise RuntimeError("first attempt fails")
    clf = DecisionTreeClassifier(random_state=0).fit(data.data[["x1", "x2"]], data.data["label"])
    accuracy = float(clf.score(data.data[["x1", "x2"]], data.data["label"]))
    return Model(
        data=clf,
        name="fraud_detector",
        version="1.0.0",
        framework="sklearn",
        metadata={"metrics": {"accuracy": accuracy, "f1_score": accuracy}},
    )


@step
def evaluate(model: Model, test_data: Dataset) -> Metrics:
    predictions = model.data.predict(test_data.data[["x1", "x2"]])
    return Metrics({"accuracy": float((predictions == test_data.data["label"]).mean())})


@pipeline
def spec_pipeline() -> None:
    data = preprocess(load())
    model = train_model(data)
    evaluate(model, data)


@step
def sabotage(data: Dataset) -> Dataset:
    """Stop the storage server, then return an output that must now fail to store."""
    SABOTEUR.stop()
    return Dataset(data=data.data.head(5), name="never_stored")


@pipeline
def interrupted() -> None:
    data = preprocess(load())
    sabotage(data)
