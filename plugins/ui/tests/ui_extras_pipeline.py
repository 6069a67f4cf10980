"""Test pipeline of the dashboard: a step whose name is markup, an at_step metrics series, a gated model."""

from __future__ import annotations

from flowyml import Metrics, Model, pipeline, step

EVIL = "<script>alert('flowyml')"
EVIL_MODEL = "<script>alert('model')"


@step(name=EVIL)
def evil() -> int:
    return 1


@step
def epoch(n: int) -> Metrics:
    return Metrics({"loss": 1.0 / (n + 1), "accuracy": 0.5 + n / 10}).at_step(n)


@step
def gated_model() -> Model:
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression().fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])
    return Model(data=clf, name="approval_demo", version="1")


@step
def evil_model() -> Model:
    return Model(data={"w": [1.0]}, name=EVIL_MODEL, version="1")


@pipeline
def extras() -> None:
    evil()
    for n in range(4):
        epoch(n)
    gated_model()
    evil_model()
