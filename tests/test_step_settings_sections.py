"""The ``steps:`` sections of flowyml.yaml, checked and merged without running a pipeline.

Fast tests of flowyml.config.step_settings (what each mistake is called, where
it points, what wins over what), so mutation testing can run them per mutant.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from flowyml.config.step_settings import (
    BUILTIN_SECTIONS,
    StepOverride,
    build_steps,
    resolve,
    section_names,
)
from flowyml.core.settings import Origin, Resources, StepSettings
from flowyml.errors import ConfigError

LINES = {"steps.fit": 3, "steps.fit.retries": 4, "steps.fit.resources.gpu": 6, "steps.fit.vertex.machine_type": 8}
SECTIONS = ("local", "vertex")


def fail(message: str, path: str, hint: str | None = None) -> ConfigError:
    return ConfigError(message, path=path, line=LINES.get(path), file="flowyml.yaml", hint=hint)


def build(raw: Any, base: str = "steps") -> dict[str, StepOverride]:
    return build_steps(raw, base, fail, SECTIONS, LINES.get, "flowyml.yaml")


def refused(raw: Any) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        build(raw)
    return caught.value


def test_no_steps_section_is_no_override() -> None:
    assert build(None) == {}
    assert build({}) == {}


def test_steps_that_are_not_a_mapping_are_refused_with_an_example() -> None:
    error = refused(["fit"])
    assert (error.path, error.message) == ("steps", "flowyml.yaml steps: steps must map step names to their settings, got a list")
    assert error.hint == "e.g. steps: { train_model: { retries: 2, timeout: 3600 } }"


@pytest.mark.parametrize("key", ["", "a/b/c", 5])
def test_a_key_that_is_no_step_name_is_refused(key: Any) -> None:
    error = refused({key: {"retries": 1}})
    assert error.path == f"steps.{key}"
    assert error.message.endswith(f"a step key is a step name (or PIPELINE/STEP), got {key!r}")


def test_a_step_without_settings_is_an_empty_override_with_its_line() -> None:
    override = build({"fit": None})["fit"]
    assert (override.key, override.path, override.line) == ("fit", "steps.fit", 3)
    assert (override.values, override.resources, override.sections, override.origins) == ({}, {}, {}, {})
    assert (override.pipeline, override.step) == (None, "fit")
    scoped = build({"train/fit": {}})["train/fit"]
    assert (scoped.pipeline, scoped.step, scoped.path) == ("train", "fit", "steps.train/fit")


def test_settings_that_are_not_a_mapping_are_refused() -> None:
    error = refused({"fit": 3})
    assert error.path == "steps.fit"
    assert error.message.endswith("the settings of step 'fit' must be a mapping, got a number (3)")


def test_retries_delay_and_timeout_are_kept_with_where_they_were_written() -> None:
    override = build({"fit": {"retries": 2, "retry_delay": 5, "timeout": 60}})["fit"]
    assert override.values == {"retries": 2, "retry_delay": 5, "timeout": 60}
    assert override.origins["retries"] == Origin(path="steps.fit.retries", line=4, file="flowyml.yaml")
    assert override.origins["timeout"] == Origin(path="steps.fit.timeout", line=None, file="flowyml.yaml")
    assert set(override.origins) == {"retries", "retry_delay", "timeout"}


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("retries", -1, "retries must be a whole number (0 or more), got a number (-1)"),
        ("retry_delay", -0.5, "retry_delay must be a number of seconds (0 or more), got a number (-0.5)"),
        ("timeout", 0, "timeout must be a number of seconds (above 0), got a number (0)"),
    ],
)
def test_a_wrong_value_is_refused_at_its_key(name: str, value: Any, message: str) -> None:
    error = refused({"fit": {name: value}})
    assert error.path == f"steps.fit.{name}"
    assert error.message.endswith(message)


def test_resources_are_kept_and_each_one_has_its_origin() -> None:
    override = build({"fit": {"resources": {"cpu": 4, "gpu": 1, "gpu_type": "nvidia-tesla-t4"}}})["fit"]
    assert override.resources == {"cpu": 4, "gpu": 1, "gpu_type": "nvidia-tesla-t4"}
    assert override.origins["resources.gpu"] == Origin(path="steps.fit.resources.gpu", line=6, file="flowyml.yaml")
    assert set(override.origins) == {"resources.cpu", "resources.gpu", "resources.gpu_type"}


def test_wrong_resources_point_at_the_wrong_key() -> None:
    error = refused({"fit": {"resources": {"cpu": 2, "gpu": -1}}})
    assert (error.path, error.line) == ("steps.fit.resources.gpu", 6)
    assert "gpu must be a whole number of GPUs (0 or more), got a number (-1)" in error.message
    assert error.hint == "e.g. resources: { cpu: 4, memory: 16Gi, gpu: 1, gpu_type: nvidia-tesla-t4 }"
    not_a_mapping = refused({"fit": {"resources": 4}})
    assert not_a_mapping.path == "steps.fit.resources"
    assert not_a_mapping.message.endswith("resources must be a mapping (cpu, memory, gpu, gpu_type, disk), got a number (4)")


def test_a_resource_key_that_is_not_text_is_refused_at_resources() -> None:
    """YAML reads `4: 1` as the number 4: the error points at resources (whose line is known), not at a `resources.4` no line has."""
    error = refused({"fit": {"resources": {4: 1}}})
    assert error.path == "steps.fit.resources"
    assert "unknown resource 4" in error.message


def test_a_resource_problem_about_a_missing_key_points_at_resources() -> None:
    error = refused({"fit": {"resources": {"gpu_type": "nvidia-tesla-t4"}}})  # the problem is gpu, not written
    assert error.path == "steps.fit.resources.gpu_type"
    unknown = refused({"fit": {"resources": {"tpu": 1}}})
    assert unknown.path == "steps.fit.resources.tpu"


def test_orchestrator_sections_are_kept_with_their_origins() -> None:
    override = build({"fit": {"vertex": {"machine_type": "n1-standard-8"}, "local": {}}})["fit"]
    assert override.sections == {"vertex": {"machine_type": "n1-standard-8"}, "local": {}}
    assert override.origins == {"vertex.machine_type": Origin(path="steps.fit.vertex.machine_type", line=8, file="flowyml.yaml")}


@pytest.mark.parametrize(("value", "got"), [(["n1"], "a list"), ({1: "x"}, "a mapping"), ("n1-standard-8", "'n1-standard-8'")])
def test_a_section_that_is_not_a_mapping_of_names_is_refused(value: Any, got: str) -> None:
    error = refused({"fit": {"vertex": value}})
    assert error.path == "steps.fit.vertex"
    assert f"the vertex section must be a mapping of option names to values, got {got}" in error.message


def test_an_unknown_setting_lists_what_a_step_takes() -> None:
    error = refused({"fit": {"retry": 1}})
    assert error.path == "steps.fit.retry"
    assert error.message.endswith("unknown step setting 'retry'")
    assert error.hint == "a step takes retries, retry_delay, timeout, resources and orchestrator sections (local, vertex)"


def test_section_names_are_the_first_party_ones_and_every_orchestrator_type_of_the_stacks() -> None:
    assert section_names({}) == BUILTIN_SECTIONS == ("local", "vertex", "vertex_ai", "sagemaker")
    stacks = {
        "a": {"orchestrator": {"type": "kubeflow"}},
        "b": {"orchestrator": {"type": "kubeflow"}},  # once
        "c": {"orchestrator": {"type": "local"}},  # already there
        "d": {"orchestrator": "airflow"},  # not a mapping: no type
        "e": {"orchestrator": {"type": 3}},  # not a name
        "f": "not a stack",
        "g": {"orchestrator": {"type": "argo"}},
    }
    assert section_names(stacks) == (*BUILTIN_SECTIONS, "kubeflow", "argo")


def node(step_name: str, settings: StepSettings | None = None) -> Any:
    return SimpleNamespace(step=SimpleNamespace(name=step_name, settings=settings or StepSettings()))


def test_an_override_of_a_step_the_pipeline_lacks_names_the_pipeline_steps() -> None:
    layer = build({"predict": {"retries": 1}})
    with pytest.raises(ConfigError) as caught:
        resolve("train", {"load": node("load"), "fit": node("fit")}, [layer], file="flowyml.yaml")
    error = caught.value
    assert error.message.endswith("pipeline 'train' has no step 'predict'; its steps: load, fit")
    assert (error.path, error.file) == ("steps.predict", "flowyml.yaml")
    assert error.hint == "fix the step name under steps:, or write PIPELINE/STEP for a step of another pipeline"
    assert resolve("train", {"fit": node("fit")}, [build({"serve/predict": {"retries": 1}})]) == {"fit": StepSettings()}
    # an entry for another pipeline does not end the check of the entries after it
    with pytest.raises(ConfigError) as caught:
        resolve("train", {"fit": node("fit")}, [build({"serve/predict": {"retries": 1}, "fti": {"retries": 1}})])
    assert caught.value.message.endswith("pipeline 'train' has no step 'fti'; its steps: fit")


def test_layers_apply_in_order_key_by_key_over_the_code() -> None:
    code = StepSettings(retries=1, timeout=30.0, resources=Resources(cpu=2), orchestrator={"vertex": {"a": 1, "b": 2}})
    top = build({"fit": {"retries": 3, "retry_delay": 2, "resources": {"memory": "4Gi"}, "vertex": {"b": 3}}})
    stack = build({"fit": {"timeout": 10, "vertex": {"c": 4}}}, base="stacks.gcp.steps")
    got = resolve("train", {"fit": node("fit", code), "other": node("other", code)}, [top, stack])
    fit = got["fit"]
    assert (fit.retries, fit.retry_delay, fit.timeout) == (3, 2.0, 10.0)
    assert isinstance(fit.retry_delay, float) and isinstance(fit.timeout, float)
    assert fit.resources == Resources(cpu=2, memory="4Gi")
    assert fit.orchestrator == {"vertex": {"a": 1, "b": 3, "c": 4}}
    assert fit.origins["timeout"].path == "stacks.gcp.steps.fit.timeout"
    assert fit.origins["retries"].path == "steps.fit.retries"
    assert got["other"] == code  # no override for it
    assert code.orchestrator == {"vertex": {"a": 1, "b": 2}}  # the code's settings are not changed


def test_a_null_timeout_stays_no_limit() -> None:
    got = resolve("train", {"fit": node("fit", StepSettings(timeout=5.0))}, [build({"fit": {"timeout": None}})])
    assert got["fit"].timeout is None


def test_entries_match_by_step_name_node_name_and_pipeline_most_specific_last() -> None:
    layer = build({
        "train/fit_2": {"retries": 4},
        "fit": {"retries": 1, "retry_delay": 1},
        "fit_2": {"retries": 2, "timeout": 9},
        "train/fit": {"retries": 3, "retry_delay": 7},
    })
    got = resolve("train", {"fit": node("fit"), "fit_2": node("fit")}, [layer])
    assert (got["fit"].retries, got["fit"].retry_delay, got["fit"].timeout) == (3, 7.0, None)
    assert (got["fit_2"].retries, got["fit_2"].retry_delay, got["fit_2"].timeout) == (4, 7.0, 9.0)
