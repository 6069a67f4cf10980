"""`route plan` builds the graph without executing the pipeline file's third-party imports when it can."""

from __future__ import annotations

from pathlib import Path

from flowyml.routing.light_import import plan_pipeline

HEAVY = "from pathlib import Path\nPath('heavy-was-imported').write_text('yes')\nclass Frame: ...\ndef load(): return 1\n"

PIPELINE = """
import heavylib as hl
from heavylib import load
from flowyml import Dataset, Model, pipeline, step

TABLE = load()  # module-level work with the library

@step
def read() -> hl.Frame:
    return hl.load()

@step
def features(raw) -> Dataset:
    return Dataset(raw)

@step
def fit(data: Dataset) -> Model:
    return Model(data)

@pipeline
def heavy_pipeline() -> None:
    fit(features(read()))
"""

STEPS_ELSEWHERE = """
from flowyml import Model, step

@step
def train() -> Model:
    return Model(1)
"""

USES_IMPORTED_STEP = """
from mysteps import train
from flowyml import Dataset, pipeline, step

@step
def prepare() -> Dataset:
    return Dataset([1])

@pipeline
def imported_steps() -> None:
    prepare()
    train()
"""


def test_plan_does_not_import_the_pipelines_libraries(project) -> None:
    project.write("heavylib.py", HEAVY)
    project.write("pipeline.py", PIPELINE)
    graph, light = plan_pipeline("pipeline.py", {})
    assert light and graph.order == ["read", "features", "fit"]
    assert not Path("heavy-was-imported").exists()
    out = project.cli("route", "plan", "pipeline.py", check=True).stdout
    assert not Path("heavy-was-imported").exists()
    rows = {line.split()[0]: line.split()[2] for line in out.splitlines()[2:] if line.strip()}
    assert rows == {"read": "Value", "features": "Dataset", "fit": "Model"}, out


def test_a_step_imported_from_another_module_falls_back_to_importing_the_file(project) -> None:
    project.write("mysteps.py", STEPS_ELSEWHERE)
    project.write("pipeline.py", USES_IMPORTED_STEP)
    graph, light = plan_pipeline("pipeline.py", {})
    assert not light and graph.order == ["prepare", "train"]
    assert graph.nodes["train"].step.type_hints["return"].__name__ == "Model"
