"""The engine: both pipeline styles, caching, failures, concurrency, typed outputs."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from flowyml import Dataset, Metrics, Model, Parameters, Pipeline, pipeline, step
from flowyml.errors import PipelineError, StepFailedError
from flowyml.metadata.store import MetadataStore

CALLS: list[str] = []


@step
def make_numbers(n: int = 3) -> list:
    CALLS.append("make_numbers")
    return list(range(n))


@step
def total(numbers: list) -> int:
    CALLS.append("total")
    return sum(numbers)


@pipeline
def sums(n: int = 3) -> None:
    total(make_numbers(n))


@pytest.fixture(autouse=True)
def _reset_calls():
    CALLS.clear()


def test_functional_pipeline_runs_and_returns_a_run(project) -> None:
    run = sums.run(n=4)
    assert run.success and run.status == "completed" and run.run_id
    assert run.load("total") == 6
    assert [s.name for s in run.steps.values()] == ["make_numbers", "total"]
    artifact = run.artifact("total")
    assert artifact.artifact_type == "Value" and artifact.python_type == "builtins.int"
    assert artifact.size > 0 and len(artifact.content_hash) == 64 and Path(artifact.uri).exists()
    assert artifact.load() == 6  # read back from the store, hash verified


def test_steps_are_plain_functions_outside_a_pipeline() -> None:
    assert total([1, 2]) == 3


def test_explicit_pipeline_api(project) -> None:
    @step(outputs=["data"])
    def load():
        return {"x": [1, 2, 3]}

    @step(inputs=["data"], outputs=["model"])
    def fit(data, scale: int = 1):
        return Model({"w": sum(data["x"]) * scale}, name="m")

    @step(inputs=["model", "data"], outputs=["metrics"])
    def score(model, data) -> Metrics:
        return Metrics({"w": model.data["w"]})

    p = Pipeline("explicit", params={"scale": 2})
    p.add_step(load).add_step(fit).add_step(score)
    run = p.run()
    assert run.success
    assert run.load("score", "metrics") == {"w": 12}
    assert isinstance(run.load("fit", "model"), Model)


def test_explicit_pipeline_errors_name_the_fix() -> None:
    @step(inputs=["missing"])
    def needs(x):
        return x

    with pytest.raises(PipelineError, match="needs input 'missing'"):
        Pipeline("broken").add_step(needs).build({})

    @step
    def needs_param(value):
        return value

    with pytest.raises(PipelineError, match="needs parameter 'value'") as info:
        Pipeline("p").add_step(needs_param).build({})
    assert "run(value=...)" in str(info.value)


def test_declared_type_is_kept_and_plain_values_are_wrapped(project) -> None:
    @step
    def model_step() -> Model:
        return {"weights": [1, 2]}  # a plain value declared as Model

    @step
    def metrics_step(m: Model) -> Metrics:
        assert isinstance(m, Model)
        return {"acc": 0.5}

    @pipeline
    def typed() -> None:
        metrics_step(model_step())

    run = typed.run()
    assert run.success, run.error
    assert isinstance(run.load("model_step"), Model)
    assert run.artifact("model_step").artifact_type == "Model"
    assert run.artifact("metrics_step").artifact_type == "Metrics"


def test_multiple_outputs(project) -> None:
    @step(outputs=["train", "test"])
    def split() -> tuple:
        return [1, 2, 3], [4]

    @step
    def count(a: list, b: list) -> int:
        return len(a) * 10 + len(b)

    @pipeline
    def two() -> None:
        train, test = split()
        count(train, test)

    run = two.run()
    assert run.load("count") == 31
    assert set(run.steps["split"].outputs) == {"train", "test"}


def test_cache_hits_on_same_code_params_and_inputs(project) -> None:
    first = sums.run(n=3)
    assert CALLS == ["make_numbers", "total"]
    second = sums.run(n=3)
    assert CALLS == ["make_numbers", "total"]  # nothing re-ran
    assert [s.status for s in second.steps.values()] == ["cached", "cached"]
    assert second.artifact("total").uri == first.artifact("total").uri
    assert second.load("total") == 3


def test_changed_parameter_reruns_and_changed_input_reruns_downstream(project) -> None:
    sums.run(n=3)
    CALLS.clear()
    run = sums.run(n=5)
    assert CALLS == ["make_numbers", "total"]
    assert run.load("total") == 10


def test_changed_code_reruns_the_step(project) -> None:
    """The published FlowyML returned stale cached results here: code changes must invalidate."""

    def build(body: int):
        @step(name="const")
        def const() -> int:
            return body

        @pipeline(name="codechange")
        def p() -> None:
            const()

        return p, const

    p1, _ = build(1)
    assert p1.run().load("const") == 1
    p2, s2 = build(2)
    s2._code_hash = "different-code"  # simulate an edited source file
    run = p2.run()
    assert run.steps["const"].status == "completed"
    assert run.load("const") == 2


def test_cache_key_follows_what_the_step_depends_on(project) -> None:
    """Bugs caught: a cache key that ignores the artifact store, the routing rules or the step's outputs."""
    base = "stacks:\n  s:\n    orchestrator: { type: local }\n    artifact_store: { type: local, path: ./a }\nactive_stack: s\n"
    project.write_config(base)
    assert [s.status for s in sums.run(n=2).steps.values()] == ["completed", "completed"]
    assert [s.status for s in sums.run(n=2).steps.values()] == ["cached", "cached"]
    project.write_config(base.replace("./a", "./b"))  # another store: its artifacts are elsewhere
    assert [s.status for s in sums.run(n=2).steps.values()] == ["completed", "completed"]
    routed = base.replace("./a", "./b").replace("active_stack", "    artifact_routing:\n      Value: { path: 'v/{run_id}/{step_name}' }\nactive_stack")
    project.write_config(routed)  # another routing rule for the outputs
    run = sums.run(n=2)
    assert [s.status for s in run.steps.values()] == ["completed", "completed"]
    assert "/v/" in run.artifact("total").uri
    assert [s.status for s in sums.run(n=2).steps.values()] == ["cached", "cached"]
    assert [s.status for s in sums.run(n=3).steps.values()] == ["completed", "completed"]  # a constant
    assert [s.status for s in sums.run(n=2).steps.values()] == ["cached", "cached"]  # back to a known one

    @step(name="make_numbers", outputs=["numbers"])
    def renamed_output(n: int = 3) -> list:
        return list(range(n))

    @pipeline(name="sums")
    def other_outputs(n: int = 3) -> None:
        renamed_output(n)

    first = other_outputs.run(n=2)
    assert first.steps["make_numbers"].status == "completed"  # same name, other code and outputs


class LoadCounted:
    """A value that appends a line to the file ``log`` each time it is unpickled (read back from the store)."""

    def __init__(self, log: str, payload: bytes) -> None:
        self.log = log
        self.payload = payload

    def __reduce__(self):
        return (_load_counted, (self.log, self.payload))


def _load_counted(log: str, payload: bytes) -> LoadCounted:
    with open(log, "a", encoding="utf-8") as fh:
        fh.write("loaded\n")
    return LoadCounted(log, payload)


def test_a_cached_step_loads_none_of_its_inputs(project) -> None:
    """Bug caught: inputs read and deserialized before the cache lookup (a cached re-run paid for every input)."""
    log = project.path / "loads.log"

    def loads() -> int:
        return len(log.read_text().splitlines()) if log.exists() else 0

    @step
    def produce() -> LoadCounted:
        return LoadCounted(str(log), b"x" * 100_000)

    @step
    def consume(value: LoadCounted) -> int:
        return len(value.payload)

    @step(cache=False)
    def measure(value: LoadCounted) -> int:
        return len(value.payload)

    @pipeline
    def cached_chain() -> None:
        consume(produce())

    @pipeline
    def with_a_step_that_runs() -> None:
        value = produce()
        consume(value)
        measure(value)

    first = cached_chain.run()
    assert first.success and loads() == 0  # handed over in memory
    again = cached_chain.run()
    assert [s.status for s in again.steps.values()] == ["cached", "cached"]
    assert again.load("consume") == 100_000
    assert loads() == 0  # the cache key came from the upstream record's hash
    mixed = with_a_step_that_runs.run()
    assert [mixed.steps[n].status for n in ("produce", "consume", "measure")] == ["cached", "cached", "completed"]
    assert mixed.load("measure") == 100_000
    assert loads() == 1  # read (and verified) once, for the step that ran


def test_cache_can_be_disabled_per_run_and_per_step(project) -> None:
    sums.run()
    CALLS.clear()
    sums.run(cache=False)
    assert CALLS == ["make_numbers", "total"]

    @step(cache=False)
    def always() -> int:
        CALLS.append("always")
        return 1

    @pipeline
    def p() -> None:
        always()

    p.run()
    p.run()
    assert CALLS.count("always") == 2


def test_failing_step_stops_dependents_keeps_artifacts_and_fails_run(project) -> None:
    @step
    def good() -> Dataset:
        return Dataset({"rows": [1, 2]}, name="kept")

    @step
    def bad(data: Dataset) -> int:
        raise ValueError("boom in bad")

    @step
    def after(x: int) -> int:
        return x

    @step
    def independent() -> str:
        return "still runs"

    @pipeline
    def failing() -> None:
        after(bad(good()))
        independent()

    run = failing.run()
    assert not run.success and run.status == "failed"
    assert run.steps["bad"].status == "failed" and "boom in bad" in run.steps["bad"].error
    assert run.steps["after"].status == "skipped"
    assert run.steps["independent"].status == "completed"
    kept = run.artifact("good")
    assert kept.load().data == {"rows": [1, 2]}
    assert "boom in bad" in run.error
    with pytest.raises(StepFailedError) as info:
        run.raise_for_status()
    assert isinstance(info.value.__cause__, ValueError)
    row = MetadataStore.for_project(project.path).get_run(run.run_id)
    assert row["status"] == "failed"


def test_independent_steps_run_concurrently(project) -> None:
    """Both steps must be inside at the same moment: a barrier neither passes alone.

    A one-worker orchestrator (or one that runs independent steps one after the other) breaks the
    barrier after its timeout, so the first step fails and the run with it.
    """
    project.write_config("stacks:\n  s:\n    orchestrator: { type: local, max_parallel_steps: 2 }\n    artifact_store: { type: local }\nactive_stack: s\n")
    barrier = threading.Barrier(2, timeout=30)

    @step(cache=False)
    def left() -> int:
        barrier.wait()
        return 1

    @step(cache=False)
    def right() -> int:
        barrier.wait()
        return 2

    @step
    def join(a: int, b: int) -> int:
        return a + b

    @pipeline
    def diamond() -> None:
        join(left(), right())

    run = diamond.run()
    assert run.success, run.error
    assert run.load("join") == 3


def test_lineage_is_recorded(project) -> None:
    run = sums.run()
    db = MetadataStore.for_project(project.path)
    produced = run.artifact("make_numbers").artifact_id
    assert db.consumers_of(run.run_id, produced) == ["total"]
    steps = {s["step_name"]: s for s in db.steps_of(run.run_id)}
    assert steps["total"]["status"] == "completed" and steps["total"]["ended_at"] >= steps["total"]["started_at"]


def test_pipeline_without_steps_and_cycle_errors() -> None:
    @pipeline
    def empty() -> None:
        pass

    with pytest.raises(PipelineError, match="calls no step"):
        empty.build({})
    with pytest.raises(PipelineError, match="wrong arguments"):

        @pipeline
        def wrong() -> None:
            total(1, 2, 3)

        wrong.build({})


def test_parameters_and_metrics_artifacts_round_trip(project) -> None:
    @step
    def params() -> Parameters:
        return Parameters({"lr": 0.1, "layers": [64, 32]})

    @step
    def metrics(p: Parameters) -> Metrics:
        return Metrics({"loss": p["lr"] / 2}).at_step(5).with_metadata(note="x")

    @pipeline
    def pm() -> None:
        metrics(params())

    run = pm.run()
    loaded = run.artifact("metrics").load()
    assert loaded == {"loss": 0.05} and loaded.step == 5 and loaded.metadata == {"note": "x"}
    assert run.artifact("params").load()["layers"] == [64, 32]


def test_explicit_pipeline_refuses_duplicate_output_names() -> None:
    @step(outputs=["data"])
    def first():
        return 1

    @step(outputs=["data"])
    def second():
        return 2

    with pytest.raises(PipelineError, match="'data' is produced by both 'first' and 'second'"):
        Pipeline("dup").add_step(first).add_step(second).build({})


def test_each_output_keeps_its_declared_type(project) -> None:
    @step(outputs=["train", "test"])
    def split() -> tuple[Dataset, Dataset]:
        return [1, 2], [3]

    @pipeline
    def typed_split() -> None:
        split()

    run = typed_split.run()
    assert {o.artifact_type for o in run.steps["split"].outputs.values()} == {"Dataset"}


def test_dataset_of_values_json_cannot_hold_is_still_stored(project) -> None:
    @step
    def odd() -> Dataset:
        return Dataset((1, {2: "non-string key"}))

    @pipeline
    def p() -> None:
        odd()

    run = p.run()
    assert run.success, run.error
    assert run.artifact("odd").load().data == (1, {2: "non-string key"})


CONCURRENT = '''
import sys
from flowyml import pipeline, step


@step(cache=False)
def produce(i: int) -> list:
    return list(range(i))


@step(cache=False)
def total(xs: list) -> int:
    return sum(xs)


@pipeline
def busy(i: int = 0) -> None:
    for _ in range(20):
        total(produce(i))


if __name__ == "__main__":
    run = busy.run(i=int(sys.argv[1]))
    print(run.status, run.run_id)
'''


def test_two_runs_writing_at_once_are_both_recorded(project) -> None:
    """Two processes share the project's metadata store (SQLite, WAL) without losing writes."""
    import subprocess
    import sys

    project.write("busy.py", CONCURRENT)
    procs = [subprocess.Popen([sys.executable, "busy.py", str(i)], cwd=project.path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in (3, 4)]
    outputs = [p.communicate(timeout=180) for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs
    run_ids = [out.split()[1] for out, _ in outputs]
    assert all(out.startswith("completed") for out, _ in outputs)
    db = MetadataStore.for_project(project.path)
    for run_id in run_ids:
        assert db.get_run(run_id)["status"] == "completed"
        assert len(db.steps_of(run_id)) == 40 and len(db.outputs_of(run_id)) == 40


def test_the_canonical_form_of_constants() -> None:
    """Bugs caught: key order changing a cache key; values JSON cannot hold (or cycles) all hashing alike."""
    from flowyml.runner.orchestration import _canonical

    assert _canonical({"b": 1, "a": [1, 2]}) == _canonical({"a": [1, 2], "b": 1}) == '{"a": [1, 2], "b": 1}'
    assert _canonical({"b": {3}, "a": 1}) == _canonical({"a": 1, "b": {3}}) == '{"a": 1, "b": "{3}"}'
    first, second = [1], [2]
    first.append(first)
    second.append(second)
    assert _canonical(first) == "[1, [...]]" and _canonical(second) == "[2, [...]]"
    assert _canonical("x") == '"x"' and _canonical(None) == "null"
