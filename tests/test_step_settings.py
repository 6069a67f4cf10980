"""Per-step settings: Resources and @step checks, flowyml.yaml's steps: (with lines), and the local orchestrator's retries and timeout."""

from __future__ import annotations

import time

import pytest

from flowyml import Resources, pipeline, step
from flowyml.client import Client
from flowyml.errors import ConfigError, PipelineError

LOCAL = """\
stacks:
  local:
    orchestrator: { type: local }
    artifact_store: { type: local, path: ./artifacts }
"""

#: Lines of LOCAL: a line n of the text written after it is line OFFSET + n of the file.
OFFSET = LOCAL.count("\n")
FAILURES: dict[str, int] = {}


@step(retries=2, retry_delay=0.01)
def flaky() -> int:
    """Fails the first two times it is called."""
    FAILURES["flaky"] = FAILURES.get("flaky", 0) + 1
    if FAILURES["flaky"] <= 2:
        raise RuntimeError(f"flaky failure {FAILURES['flaky']}")
    return 42


@step
def after(value: int) -> int:
    return value + 1


@pipeline
def flaky_pipeline() -> None:
    after(flaky())


@step(timeout=1)
def sleeper() -> int:
    time.sleep(30)  # far past the timeout: a run that waited for it would take 30 s
    return 1


@pipeline
def sleepy_pipeline() -> None:
    after(sleeper())


@step(resources=Resources(cpu=2, memory="1Gi"))
def sized() -> int:
    return 1


@pipeline
def sized_pipeline() -> None:
    sized()


@pytest.fixture(autouse=True)
def _reset() -> None:
    FAILURES.clear()


# -- Resources and @step ------------------------------------------------------------------


def test_resources_parse_quantities_and_refuse_wrong_values() -> None:
    res = Resources(cpu=4, memory="16Gi", gpu=1, gpu_type="nvidia-tesla-t4", disk="100G")
    assert res.memory_bytes == 16 * 2**30 and res.disk_bytes == 100 * 10**9
    assert Resources(memory="512Mi").memory_bytes == 512 * 2**20
    for bad, match in [
        ({"cpu": 0}, "cpu must be a positive number"),
        ({"cpu": True}, "cpu must be a positive number"),
        ({"memory": "16"}, "not a quantity"),
        ({"memory": "16GB"}, "not a quantity"),
        ({"disk": "0Gi"}, "must be positive"),
        ({"gpu": -1}, "gpu must be a whole number"),
        ({"gpu": 1.5}, "gpu must be a whole number"),
        ({"gpu_type": "nvidia-tesla-t4"}, "gpu_type needs gpu"),
        ({"cpus": 4}, "unknown resource 'cpus'"),
    ]:
        with pytest.raises(PipelineError, match=match):
            Resources(**bad)


def test_step_arguments_are_checked_where_the_step_is_declared() -> None:
    with pytest.raises(PipelineError, match=r"step 'w': @step\(retries=...\): retries must be a whole number"):

        @step(retries=-1)
        def w() -> None: ...

    with pytest.raises(PipelineError, match="timeout must be a number of seconds"):

        @step(timeout=0)
        def x() -> None: ...

    with pytest.raises(PipelineError, match="takes a flowyml.Resources"):

        @step(resources={"cpu": 1})  # type: ignore[arg-type]
        def y() -> None: ...


# -- flowyml.yaml steps: ------------------------------------------------------------------------


def test_yaml_errors_carry_the_line(project) -> None:
    cases = [
        ("steps:\n  flaky:\n    retries: -2\n", 3, "retries must be a whole number"),
        ("steps:\n  flaky:\n    resources:\n      cpu: 2\n      memory: lots\n", 5, "not a quantity"),
        ("steps:\n  flaky:\n    resources: { gpux: 1 }\n", 3, "unknown resource 'gpux'"),
        ("steps:\n  flaky:\n    retires: 2\n", 3, "unknown step setting 'retires'"),
        ("steps:\n  flaky:\n    vertx: { machine_type: n1-standard-8 }\n", 3, "unknown step setting 'vertx'"),
    ]
    for text, line, match in cases:
        project.write_config(LOCAL + text)
        with pytest.raises(ConfigError, match=match) as caught:
            flaky_pipeline.run()
        assert caught.value.line == OFFSET + line, (text, str(caught.value))
        assert f"flowyml.yaml:{OFFSET + line}" in str(caught.value)


def test_a_step_name_no_pipeline_has_is_an_error_naming_the_steps(project) -> None:
    project.write_config(LOCAL + "steps:\n  flaky: { retries: 2 }\n  train_modle:\n    timeout: 10\n")
    with pytest.raises(ConfigError, match=r"pipeline 'flaky_pipeline' has no step 'train_modle'; its steps: flaky, after") as caught:
        flaky_pipeline.run()
    assert caught.value.line == OFFSET + 3
    assert Client().list_runs() == []  # nothing ran, nothing recorded
    # PIPELINE/STEP keys are for another pipeline's steps: not an error here
    project.write_config(LOCAL + "steps:\n  other_pipeline/train_modle:\n    timeout: 10\n")
    FAILURES["flaky"] = 5  # succeed at once
    assert flaky_pipeline.run().success


def test_yaml_overrides_code_top_level_then_stack(project) -> None:
    # code says retries=2: flowyml.yaml lowers it to 0, so the first failure fails the step
    project.write_config(LOCAL + "steps:\n  flaky: { retries: 0 }\n")
    run = flaky_pipeline.run()
    assert run.steps["flaky"].status == "failed" and FAILURES["flaky"] == 1
    # the stack's own steps: wins over the top level
    FAILURES.clear()
    project.write_config(LOCAL + "    steps:\n      flaky: { retries: 2 }\nsteps:\n  flaky: { retries: 0 }\n")
    run = flaky_pipeline.run()
    assert run.success and FAILURES["flaky"] == 3


def test_sections_for_other_orchestrators_are_ignored_but_the_local_section_is_checked(project) -> None:
    project.write_config(LOCAL + "steps:\n  flaky:\n    vertex: { machine_type: n1-standard-8 }\n    sagemaker: { instance_type: ml.g4dn.xlarge }\n")
    assert flaky_pipeline.run().success
    project.write_config(LOCAL + "steps:\n  flaky:\n    local:\n      threads: 2\n")
    with pytest.raises(ConfigError, match="the local orchestrator of stack 'local' cannot honour local.threads of step 'flaky'") as caught:
        flaky_pipeline.run()
    assert caught.value.line == OFFSET + 4


# -- the local orchestrator: retries, timeout, resources --------------------------------------------


def test_retries_run_the_step_again_and_record_every_attempt(project) -> None:
    project.write_config(LOCAL)
    run = flaky_pipeline.run()
    assert run.success, run.error
    assert run.steps["flaky"].status == "completed" and run.load("after") == 43
    attempts = run.steps["flaky"].attempts
    assert [(a.attempt, a.status) for a in attempts] == [(1, "failed"), (2, "failed"), (3, "completed")]
    assert "flaky failure 1" in attempts[0].error and "flaky failure 2" in attempts[1].error and attempts[2].error is None
    assert all(a.started_at <= a.ended_at for a in attempts) and attempts[1].started_at >= attempts[0].ended_at
    # the same from the metadata store, through the client
    stored = Client().get_run(run.run_id).steps["flaky"].attempts
    assert [(a.attempt, a.status, a.error) for a in stored] == [(a.attempt, a.status, a.error) for a in attempts]
    assert Client().get_run(run.run_id).steps["after"].attempts == []  # no retries, no timeout: no attempt bookkeeping


def test_too_few_retries_fail_the_step_with_the_last_error(project) -> None:
    project.write_config(LOCAL + "steps:\n  flaky: { retries: 1 }\n")
    run = flaky_pipeline.run()
    assert run.status == "failed" and run.steps["flaky"].status == "failed"
    assert "flaky failure 2" in run.steps["flaky"].error
    assert [(a.attempt, a.status) for a in run.steps["flaky"].attempts] == [(1, "failed"), (2, "failed")]
    assert run.steps["after"].status == "skipped"


def test_a_step_past_its_timeout_fails_and_the_run_does_not_wait_for_it(project) -> None:
    project.write_config(LOCAL)
    began = time.monotonic()
    run = sleepy_pipeline.run()
    took = time.monotonic() - began
    assert run.status == "failed"
    assert run.steps["sleeper"].status == "failed"
    assert "timed out after 1 s" in run.steps["sleeper"].error
    assert run.steps["after"].status == "skipped"
    assert took < 20, f"the run waited for the late step ({took:.1f}s)"
    assert [(a.attempt, a.status) for a in run.steps["sleeper"].attempts] == [(1, "failed")]
    assert not run.steps["sleeper"].outputs  # the late result is discarded, never stored


def test_resources_on_the_local_orchestrator_are_a_note_in_the_run(project) -> None:
    project.write_config(LOCAL)
    run = sized_pipeline.run()
    assert run.success
    notes = [e for e in Client().get_run(run.run_id).events if e.action == "settings"]
    assert [(n.step_name, n.status, n.target) for n in notes] == [("sized", "skipped", "local")]
    assert "resources: not applied by the local orchestrator (cpu=2, memory=1Gi)" in notes[0].detail


def test_runs_show_lists_the_attempts(project) -> None:
    project.write_config(LOCAL)
    run = flaky_pipeline.run()
    shown = project.cli("runs", "show", run.run_id, check=True).stdout
    assert "Attempts" in shown
    lines = [line for line in shown.splitlines() if line.startswith("flaky ")]
    assert len([line for line in lines if "failed" in line]) == 2 and any("completed" in line for line in lines), shown
    assert "flaky failure 1" in shown


def test_route_plan_checks_the_step_names_under_steps(project) -> None:
    project.write(
        "pipe.py",
        "from flowyml import pipeline, step\n\n@step\ndef only() -> int:\n    return 1\n\n@pipeline\ndef p() -> None:\n    only()\n",
    )
    project.write_config(LOCAL + "steps:\n  onyl: { retries: 1 }\n")
    done = project.cli("route", "plan", "pipe.py:p", check=False)
    assert "pipeline 'p' has no step 'onyl'; its steps: only" in done.stderr + done.stdout
    assert f"flowyml.yaml:{OFFSET + 2}" in done.stderr + done.stdout
