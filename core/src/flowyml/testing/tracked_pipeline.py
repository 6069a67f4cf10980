"""A spec-like pipeline for tracker tests: Parameters, a training loop of stepped Metrics, train, evaluate.

:func:`flowyml.testing.make_project` (and the ``flowyml_project`` fixture) copy
this file into a test project as ``pipelines.py``; load it with
:func:`flowyml.testing.load_pipeline` (pipeline ``tracked``). What a tracker
should record from it:

- params: ``learning_rate=0.01``, ``epochs=3``, ``optimizer={"name": "adam", "betas": [0.9, 0.99]}``;
- step ``epoch`` three times: ``loss`` = 1, 1/2, 1/3 and ``lr=0.01`` at steps 0, 1, 2;
- step ``evaluate``: ``accuracy=0.75``, ``report={"f1": 0.7}``, metadata ``model_version="1.0.0"``.

``HOOKS["train_model"]()`` runs when step ``train_model`` starts (a test stops a
server or raises there)::

    pipeline = load_pipeline(folder)
    pipeline.fn.__globals__["HOOKS"]["train_model"] = server.stop
"""

from __future__ import annotations

from collections.abc import Callable

from flowyml import Dataset, Metrics, Model, Parameters, pipeline, step

HOOKS: dict[str, Callable[[], None]] = {}


@step
def params() -> Parameters:
    return Parameters({"learning_rate": 0.01, "epochs": 3, "optimizer": {"name": "adam", "betas": [0.9, 0.99]}})


@step
def load_data() -> Dataset:
    return Dataset({"x": [0.0, 1.0, 2.0, 3.0], "y": [0, 0, 1, 1]}, name="toy")


@step
def epoch(data: Dataset, hp: Parameters, n: int) -> Metrics:
    return Metrics({"loss": 1.0 / (n + 1), "lr": hp.data["learning_rate"]}).at_step(n)


@step
def train_model(data: Dataset, hp: Parameters) -> Model:
    if "train_model" in HOOKS:
        HOOKS["train_model"]()
    return Model({"w": [0.5, hp.data["learning_rate"]]}, name="toy_model", version="1.0.0")


@step
def evaluate(model: Model, data: Dataset) -> Metrics:
    return Metrics({"accuracy": 0.75, "report": {"f1": 0.7}}).with_metadata(model_version=model.version)


@pipeline
def tracked() -> None:
    data = load_data()
    hp = params()
    for n in range(3):
        epoch(data, hp, n)
    model = train_model(data, hp)
    evaluate(model, data)
