"""The spec's pipeline (preprocess -> train_model -> evaluate), written as the spec writes it."""

from __future__ import annotations

import pandas as pd
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import accuracy_score, f1_score

from flowyml import pipeline
from flowyml.core import Dataset, Metrics, Model, step

labels = load_breast_cancer(as_frame=True).frame["target"]


def clean_and_transform(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns=["target"]).astype("float64")


@step
def load() -> pd.DataFrame:
    return load_breast_cancer(as_frame=True).frame


@step
def preprocess(raw_data: pd.DataFrame) -> Dataset:
    """Preprocess data - saved to configured artifact store."""
    processed = clean_and_transform(raw_data)
    return Dataset(
        data=processed,
        name="training_features",
        format="parquet",  # Auto-detected from data type
    )


@step
def train_model(data: Dataset) -> Model:
    """Train a model - automatically routed based on type."""
    clf = RandomForestClassifier(n_estimators=20, random_state=0).fit(data.data, labels)
    return Model(
        data=clf,
        name="fraud_detector",
        version="1.0.0",
        framework="sklearn",  # Auto-detected if not provided
    )


@step
def evaluate(model: Model, test_data: Dataset) -> Metrics:
    """Evaluate model - metrics auto-logged to tracker."""
    y_true = labels
    predictions = model.data.predict(test_data.data)
    return Metrics({
        "accuracy": accuracy_score(y_true, predictions),
        "f1": f1_score(y_true, predictions),
    })


@pipeline
def spec_pipeline() -> None:
    data = preprocess(load())
    model = train_model(data)
    evaluate(model, data)
