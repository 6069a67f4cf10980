"""The contract every orchestrator (ours or a third party's) runs against itself.

Subclass :class:`OrchestratorContract` in your plugin's tests and give the
``orchestrator_config`` fixture (and ``stack_components`` when the steps need
a store they can reach from where they run)::

    from flowyml.testing import OrchestratorContract

    class TestMyOrchestrator(OrchestratorContract):
        @pytest.fixture
        def orchestrator_config(self):
            return {"type": "myorchestrator", "queue": "test"}

It runs :mod:`flowyml.testing.diamond_pipeline` — a diamond whose right branch
fails — on your orchestrator and on the local one, and checks that the
failing step's dependents are skipped with a reason, that the branches
independent of it complete, that records and artifact hashes equal the local
run's, that collecting the remote results again changes nothing, and that
pipeline parameters reach the steps. Override :meth:`orchestrate` to play the
part of a remote service (start the step containers) around the run.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import attrs
import pytest

from flowyml.runner.engine import RunSession
from flowyml.runner.result import PipelineRun
from flowyml.testing.stacks import write_config

#: The contract's pipeline file (copied into the project as pipelines.py).
DIAMOND_PIPELINE = Path(__file__).with_name("diamond_pipeline.py")
TARGET = "pipelines.py:diamond"
#: The parameter the contract runs with (not the default 3, so that a lost parameter shows).
N = 5
STEPS = ("source", "left", "right", "join", "summary")


@attrs.frozen
class Records:
    """What the project's metadata store and the run handle hold for one run."""

    statuses: dict[str, str]
    errors: dict[str, str | None]
    stored: dict[str, dict[str, str]]
    outputs: list[tuple[str, str, str, str]]
    consumers: dict[str, list[str]]
    route_events: int


def records_of(session: RunSession) -> Records:
    run, db, run_id = session.run, session.metadata, session.run_id
    rows = db.steps_of(run_id)
    outputs = sorted((r["out_step"], r["out_name"], r["artifact_id"], r["content_hash"]) for r in db.outputs_of(run_id))
    handle = {name: run.result(name) for name in run.steps}
    return Records(
        statuses={r["step_name"]: r["status"] for r in rows} | {f"handle:{n}": r.status for n, r in handle.items() if r is not None},
        errors={r["step_name"]: r["error"] for r in rows},
        stored={n: {o: a.content_hash for o, a in r.outputs.items()} for n, r in handle.items() if r is not None},
        outputs=outputs,
        consumers={artifact: sorted(db.consumers_of(run_id, artifact)) for _, _, artifact, _ in outputs},
        route_events=len(db.route_events(run_id)),
    )


@attrs.frozen
class ContractOutcome:
    """One run of the diamond on the orchestrator under test, and the same run on the local orchestrator."""

    run: PipelineRun
    reference: PipelineRun
    collected: Records
    recollected: Records
    recorded_params: dict[str, Any]
    #: What the summary step returned, loaded from the orchestrator's store (None when it stored nothing).
    summary: Any = None


def load_diamond(project: Path) -> Any:
    from flowyml.runner.targets import load_target

    return load_target(f"{Path(project) / 'pipelines.py'}:diamond")


def run_contract(project: Path, stack: str, orchestrate: Callable[[RunSession], None] | None = None) -> ContractOutcome:
    """Run the diamond (``n=N``) on ``stack`` and on ``reference``; collect the remote results a second time in between."""
    import json

    pipeline = load_diamond(project)
    reference = pipeline.run(stack="reference", cache=False, progress=False, n=N)
    session = RunSession(pipeline, params={"n": N}, stack=stack, cache=False, target=TARGET)
    try:
        (orchestrate or RunSession.orchestrate)(session)
        collected = records_of(session)
        session.run.collect_remote_results()
        recollected = records_of(session)
    except BaseException as exc:
        session.abort(exc)
        raise
    run = session.finish()
    row = session.metadata.get_run(run.run_id)
    params = json.loads(row["params"]) if row is not None and row["params"] else {}
    summary = run.load("summary").data if "summary" in run.steps and run.steps["summary"].outputs else None
    return ContractOutcome(run, reference, collected, recollected, params, summary)


# -- the checks (plain functions, so a test can watch each fail on a broken orchestrator) --------------


def check_failing_branch(outcome: ContractOutcome) -> None:
    """The failing step fails with its own error; its dependent is skipped with a reason; the rest completes."""
    steps = outcome.run.steps
    assert set(steps) == set(STEPS), f"every step must be recorded, got {sorted(steps)}"
    assert steps["right"].status == "failed", f"right raised: it must be failed, not {steps['right'].status}"
    assert "the right branch fails" in (steps["right"].error or ""), f"right's own error must be kept, got {steps['right'].error!r}"
    assert steps["join"].status == "skipped", f"join needs the failed right: it must be skipped, not {steps['join'].status}"
    assert (steps["join"].error or "").strip(), "a skipped step must say why"
    for name in ("source", "left", "summary"):
        assert steps[name].status == "completed", f"{name} does not depend on right: it must complete, not {steps[name].status}"
    assert outcome.run.status == "failed"


def check_records_equal_local(outcome: ContractOutcome) -> None:
    """Statuses, stored artifacts and their hashes, lineage: the same as the local run's."""
    remote, local = outcome.run, outcome.reference
    assert {n: s.status for n, s in remote.steps.items()} == {n: s.status for n, s in local.steps.items()}
    for name, step in local.steps.items():
        theirs = remote.steps[name]
        assert set(theirs.outputs) == set(step.outputs), f"{name}: outputs {sorted(theirs.outputs)} != {sorted(step.outputs)}"
        for out, artifact in step.outputs.items():
            assert theirs.outputs[out].content_hash == artifact.content_hash, f"{name}.{out}: content differs from the local run"
            assert theirs.outputs[out].artifact_type == artifact.artifact_type
    records = outcome.recollected
    assert {k: v for k, v in records.statuses.items() if not k.startswith("handle:")} == {n: s.status for n, s in remote.steps.items()}, (
        "the metadata store must hold what the run reports"
    )
    produced = {(step, out) for step, out, _, _ in records.outputs}
    assert produced == {(n, o) for n, s in local.steps.items() for o in s.outputs}
    left = remote.steps["left"].outputs["output"].artifact_id
    assert records.consumers.get(left) == ["summary"], f"summary consumed left's output: lineage is {records.consumers.get(left)}"


def check_collection_idempotent(outcome: ContractOutcome) -> None:
    """Collecting the remote results again changes no record (the orchestrator collected them all)."""
    assert outcome.recollected == outcome.collected, (
        "collect_remote_results() a second time changed the records: the orchestrator must collect every step once, "
        f"and collecting must be idempotent\nbefore: {outcome.collected}\nafter:  {outcome.recollected}"
    )


def check_parameters_carried(outcome: ContractOutcome) -> None:
    """The run's parameters reach every step, wherever it runs, and are recorded."""
    assert outcome.recorded_params == {"n": N}
    assert outcome.run.params == {"n": N}
    source = outcome.run.steps["source"]
    assert source.status == "completed"
    assert source.outputs["output"].content_hash == outcome.reference.steps["source"].outputs["output"].content_hash, (
        f"source ran with other parameters than n={N}"
    )
    assert outcome.summary == {"count": N, "total": 2 * sum(range(N))}


CHECKS = (check_failing_branch, check_records_equal_local, check_collection_idempotent, check_parameters_carried)


class OrchestratorContract:
    """What every orchestrator must do (see the module docstring)."""

    _contract_outcome: ClassVar[ContractOutcome | None] = None

    @pytest.fixture
    def orchestrator_config(self) -> dict[str, Any]:
        raise NotImplementedError("override orchestrator_config: the orchestrator's YAML, e.g. {'type': 'myorchestrator'}")

    @pytest.fixture
    def stack_components(self, tmp_path: Path) -> dict[str, Any]:
        """The stack's other components; steps must reach the artifact store from where they run."""
        return {"artifact_store": {"type": "local", "path": str(tmp_path / "project" / "artifacts")}}

    @pytest.fixture
    def contract_project(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, orchestrator_config: dict[str, Any], stack_components: dict[str, Any]
    ) -> Path:
        """The project: stacks ``contract`` (yours) and ``reference`` (local), and the diamond as pipelines.py."""
        folder = tmp_path / "project"
        folder.mkdir(exist_ok=True)
        reference = {"orchestrator": {"type": "local", "max_parallel_steps": 1}, "artifact_store": {"type": "local", "path": str(folder / "reference")}}
        write_config(folder, {"contract": {"orchestrator": dict(orchestrator_config), **stack_components}, "reference": reference})
        shutil.copy(DIAMOND_PIPELINE, folder / "pipelines.py")
        monkeypatch.chdir(folder)
        monkeypatch.syspath_prepend(str(folder))
        return folder

    def orchestrate(self, session: RunSession) -> None:
        """Hand the run to the orchestrator. Override to play a remote service's part around it."""
        session.orchestrate()

    @pytest.fixture
    def outcome(self, contract_project: Path) -> ContractOutcome:
        """The contract's runs, made once per test class (the four checks read the same outcome)."""
        cls = type(self)
        cached: ContractOutcome | None = cls.__dict__.get("_contract_outcome")
        if cached is None:
            cached = run_contract(contract_project, "contract", self.orchestrate)
            cls._contract_outcome = cached
        return cached

    def test_failing_branch_skips_dependents_and_completes_the_rest(self, outcome: ContractOutcome) -> None:
        check_failing_branch(outcome)

    def test_records_and_artifact_hashes_equal_a_local_run(self, outcome: ContractOutcome) -> None:
        check_records_equal_local(outcome)

    def test_collecting_again_changes_nothing(self, outcome: ContractOutcome) -> None:
        check_collection_idempotent(outcome)

    def test_parameters_reach_the_steps(self, outcome: ContractOutcome) -> None:
        check_parameters_carried(outcome)
