"""The spec's pipeline (preprocess -> train_model -> evaluate), small and deterministic.

Importable by path, so remote step subprocesses can load it again.
"""

from __future__ import annotations

import pandas as pd

from flowyml import pipeline
from flowyml.core import Dataset, Metrics, Model, step


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
