"""flowyml.testing.OrchestratorContract: passed by the local and the example subprocess orchestrators, failed by broken ones."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from flowyml.runner.engine import RunSession
from flowyml.testing import OrchestratorContract
from flowyml.testing.orchestrator_contract import (
    ContractOutcome,
    check_collection_idempotent,
    check_failing_branch,
    check_parameters_carried,
    check_records_equal_local,
    run_contract,
)


class TestLocalOrchestrator(OrchestratorContract):
    @pytest.fixture
    def orchestrator_config(self) -> dict[str, Any]:
        return {"type": "local", "max_parallel_steps": 2}


TESTS = Path(__file__).parent


@pytest.fixture(scope="module")
def example_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tests/example_plugin installed into a private folder (no index, no network)."""
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", "--no-build-isolation", "--target", str(target), str(TESTS / "example_plugin")],
        check=True,
        capture_output=True,
    )
    return target


@pytest.fixture
def example_plugin(example_site: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The example plugin importable here and in the step processes; `flowyml` on PATH as in a container."""
    from flowyml.plugins.loader import forget_installed

    monkeypatch.syspath_prepend(str(example_site))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(example_site), os.environ.get("PYTHONPATH", "")])))
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    forget_installed()
    yield example_site
    forget_installed()
    for name in [m for m in sys.modules if m == "flowyml_example" or m.startswith("flowyml_example.")]:
        del sys.modules[name]  # other tests check the example plugin is imported only when a stack names it


class TestSubprocessOrchestrator(OrchestratorContract):
    """The example third-party plugin's orchestrator (tests/example_plugin): each step in a fresh process."""

    @pytest.fixture
    def orchestrator_config(self, example_plugin: Path) -> dict[str, Any]:
        return {"type": "subprocess", "timeout": 120}


# -- broken orchestrators: each check must fail on one ----------------------------------------------------


def _subprocess_steps(run: Any, *, stop_at_failure: bool = False, leave_out: str | None = None) -> None:
    run.prepare_remote()
    env = {**os.environ, **run.step_env()}
    failed: set[str] = set()
    for name in run.steps:
        if failed and stop_at_failure:
            break
        if name == leave_out:
            continue
        if any(up in failed for up in run.upstream(name)):
            failed.add(name)
            continue
        if subprocess.run(run.step_command(name), env=env, timeout=120, check=False).returncode != 0:
            failed.add(name)


def runs_dependents_of_a_failure(session: RunSession) -> None:
    for name in session.run.steps:  # in process, ignoring that right failed
        session.run.execute_step(name)


def stops_at_the_first_failure(session: RunSession) -> None:
    _subprocess_steps(session.run, stop_at_failure=True)
    session.run.collect_remote_results()


def forgets_a_step(session: RunSession) -> None:
    _subprocess_steps(session.run, leave_out="summary")
    session.run.collect_remote_results()


def never_collects(session: RunSession) -> None:
    _subprocess_steps(session.run)


def drops_parameters(session: RunSession) -> None:
    session.run.graph.params.clear()  # e.g. a spec compiled once for the pipeline's defaults
    _subprocess_steps(session.run)
    session.run.collect_remote_results()


@pytest.fixture
def contract_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, example_plugin: Path) -> Path:
    """The contract's project; the broken orchestrators below drive the run of its ``contract`` stack themselves."""
    contract = TestSubprocessOrchestrator()
    make = contract.contract_project.__wrapped__  # type: ignore[attr-defined]
    return Path(make(contract, tmp_path, monkeypatch, {"type": "subprocess"}, {"artifact_store": {"type": "local", "path": str(tmp_path / "project" / "artifacts")}}))


@pytest.mark.parametrize(
    ("orchestrate", "check"),
    [
        (runs_dependents_of_a_failure, check_failing_branch),
        (stops_at_the_first_failure, check_failing_branch),
        (forgets_a_step, check_records_equal_local),
        (never_collects, check_collection_idempotent),
        (drops_parameters, check_parameters_carried),
    ],
)
def test_each_check_fails_on_a_broken_orchestrator(
    contract_folder: Path, orchestrate: Callable[[RunSession], None], check: Callable[[ContractOutcome], None]
) -> None:
    outcome = run_contract(contract_folder, "contract", orchestrate)
    with pytest.raises(AssertionError):
        check(outcome)
