"""The spec's preprocess -> train -> evaluate pipeline, on a data set that ships with scikit-learn.

Run it with:  flowyml run pipeline.py
"""

from __future__ import annotations

import pandas as pd
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import train_test_split

from flowyml import Dataset, Metrics, Model, Parameters, pipeline, step


@step
def load_data() -> pd.DataFrame:
    """The Wisconsin breast-cancer table (569 rows), bundled with scikit-learn: no download."""
    return load_breast_cancer(as_frame=True).frame


@step
def preprocess(raw_data: pd.DataFrame, test_size: float = 0.25) -> Dataset:
    """Standardise the features and mark a reproducible train/test split."""
    features = raw_data.drop(columns=["target"])
    processed = (features - features.mean()) / features.std()
    processed["target"] = raw_data["target"]
    train_idx, _ = train_test_split(processed.index, test_size=test_size, random_state=0, stratify=processed["target"])
    processed["split"] = "test"
    processed.loc[train_idx, "split"] = "train"
    return Dataset(data=processed, name="training_features", format="parquet")


@step
def hyperparameters(n_estimators: int = 100, max_depth: int = 6) -> Parameters:
    return Parameters({"n_estimators": n_estimators, "max_depth": max_depth, "random_state": 0})


@step
def train_model(data: Dataset, params: Parameters) -> Model:
    """Train a model - automatically routed based on type."""
    train = data.data[data.data["split"] == "train"]
    clf = RandomForestClassifier(**params).fit(train.drop(columns=["target", "split"]), train["target"])
    return Model(data=clf, name="fraud_detector", version="1.0.0")  # framework auto-detected: sklearn


@step
def evaluate(model: Model, test_data: Dataset) -> Metrics:
    """Evaluate model - metrics auto-logged to tracker."""
    test = test_data.data[test_data.data["split"] == "test"]
    y_true = test["target"]
    predictions = model.data.predict(test.drop(columns=["target", "split"]))
    return Metrics({"accuracy": accuracy_score(y_true, predictions), "f1_score": f1_score(y_true, predictions)})


@pipeline
def training_pipeline(n_estimators: int = 100, max_depth: int = 6) -> None:
    raw = load_data()
    data = preprocess(raw)
    params = hyperparameters(n_estimators, max_depth)
    model = train_model(data, params)
    evaluate(model, data)


if __name__ == "__main__":
    run = training_pipeline.run()
    print(run, run.load("evaluate"))
