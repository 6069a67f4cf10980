"""flowyml.yaml: the spec's example, line numbers in errors, ${VAR} interpolation, options validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowyml.config.loader import load_project
from flowyml.config.source import parse_text
from flowyml.errors import (
    ConfigError,
    InterpolationError,
    PluginNotInstalledError,
    StackNotFoundError,
)
from flowyml.plugins.kinds import Kind
from flowyml.runner.engine import prepare_stack

SPEC = Path(__file__).parents[2] / "shared" / "spec" / "type-based-artifact-routing.txt"


def test_spec_yaml_copy_matches_the_spec(spec_config: str) -> None:
    if not SPEC.exists():
        pytest.skip(f"the spec is not beside this checkout ({SPEC}); the copy in tests/data is used")
    text = SPEC.read_text()
    start = text.index("stacks:\n  local:")
    end = text.index("active_stack: local") + len("active_stack: local")
    assert text[start:end] + "\n" == spec_config


def test_spec_yaml_loads_as_written(project, spec_config: str) -> None:
    project.write_config(spec_config)
    config = load_project()
    assert set(config.stacks) == {"local", "gcp-prod", "aws-staging"}
    assert config.active_stack == "local"
    gcp = config.stack("gcp-prod")
    assert gcp.component(Kind.ORCHESTRATOR).options == {"project": "${GCP_PROJECT}"}
    assert gcp.component(Kind.EXPERIMENT_TRACKER).options == {"tracking_uri": "${MLFLOW_URI}"}
    model = gcp.rule_for("Model")
    assert (model.store, model.register, model.deploy, model.endpoint_name) == ("gcs", True, True, "production-model")
    assert gcp.rule_for("Dataset").path == "{run_id}/datasets/{step_name}"
    assert config.stack("aws-staging").rule_for("Model").register is True


def test_missing_env_var_does_not_break_the_local_stack(project, spec_config: str, monkeypatch) -> None:
    monkeypatch.delenv("GCP_PROJECT", raising=False)
    monkeypatch.delenv("MLFLOW_URI", raising=False)
    project.write_config(spec_config)
    stack = prepare_stack(None)
    assert stack.name == "local"


def test_missing_env_var_fails_clearly_on_the_stack_that_uses_it(project, monkeypatch) -> None:
    monkeypatch.delenv("FLOWYML_TEST_BUCKET", raising=False)
    project.write_config(
        "stacks:\n"
        "  local:\n"
        "    orchestrator: { type: local }\n"
        "    artifact_store: { type: local, path: ${FLOWYML_TEST_BUCKET} }\n"
    )
    with pytest.raises(InterpolationError) as info:
        prepare_stack("local")
    message = str(info.value)
    assert "FLOWYML_TEST_BUCKET" in message and "'local'" in message and "flowyml.yaml:4" in message
    assert "export FLOWYML_TEST_BUCKET" in message


def test_env_var_default_and_typed_substitution(project, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("FLOWYML_TEST_PORT", "8123")
    monkeypatch.delenv("FLOWYML_TEST_DIR", raising=False)
    project.write_config(
        "stacks:\n"
        "  local:\n"
        "    orchestrator: { type: local, max_parallel_steps: ${FLOWYML_TEST_WORKERS:-2} }\n"
        "    artifact_store: { type: local, path: ${FLOWYML_TEST_DIR:-./store} }\n"
        "    model_deployer: { type: local, port: ${FLOWYML_TEST_PORT} }\n"
    )
    stack = prepare_stack("local")
    assert stack.component(Kind.ORCHESTRATOR).options.max_parallel_steps == 2
    assert stack.component(Kind.ARTIFACT_STORE).options.path == "./store"
    assert stack.component(Kind.MODEL_DEPLOYER).options.port == 8123


def test_unknown_option_names_yaml_path_line_and_expected(project) -> None:
    project.write_config(
        "stacks:\n"
        "  local:\n"
        "    orchestrator: { type: local }\n"
        "    artifact_store:\n"
        "      type: local\n"
        "      bucket: nope\n"
    )
    with pytest.raises(ConfigError) as info:
        prepare_stack("local")
    message = str(info.value)
    assert "stacks.local.artifact_store.bucket" in message and "flowyml.yaml:6" in message
    assert "path: str" in message  # what was expected


def test_mistyped_option(project) -> None:
    project.write_config(
        "stacks:\n  local:\n    orchestrator: { type: local, max_parallel_steps: many }\n    artifact_store: { type: local }\n"
    )
    with pytest.raises(ConfigError, match=r"stacks\.local\.orchestrator\.max_parallel_steps.*int|int.*max_parallel_steps"):
        prepare_stack("local")


def test_bad_yaml_reports_line(project) -> None:
    project.write_config("stacks:\n  local:\n    orchestrator: [type: local\n")
    with pytest.raises(ConfigError, match=r"flowyml\.yaml:\d+.*invalid YAML"):
        load_project()


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("stack:\n  x: {}\n", "unknown top-level key 'stack'"),
        ("stacks:\n  a:\n    orchestrator: local\n", "must be a mapping with a `type:`"),
        ("stacks:\n  a:\n    orchestrater: { type: local }\n", "unknown stack key 'orchestrater'"),
        ("stacks:\n  a:\n    orchestrator: { type: local }\nactive_stack: b\n", "active_stack names 'b'"),
    ],
)
def test_structural_errors(project, text: str, match: str) -> None:
    project.write_config(text)
    with pytest.raises(ConfigError, match=match):
        load_project().stack("a")  # a problem inside stack a is raised when it is used


def test_unknown_stack_lists_defined_ones(project, spec_config: str) -> None:
    project.write_config(spec_config)
    with pytest.raises(StackNotFoundError, match="aws-staging, gcp-prod, local"):
        load_project().stack("gcp-staging")


def test_uninstalled_plugin_gives_install_hint(project, spec_config: str, monkeypatch) -> None:
    monkeypatch.setenv("GCP_PROJECT", "p")
    monkeypatch.setenv("MLFLOW_URI", "http://127.0.0.1:1")
    monkeypatch.setenv("FLOWYML_DISABLE_PLUGINS", "")
    project.write_config(spec_config.replace("type: vertex_ai", "type: vertex_ai_not_a_plugin"))
    with pytest.raises(PluginNotInstalledError) as info:
        prepare_stack("gcp-prod")
    assert "stack 'gcp-prod'" in str(info.value) and "orchestrator" in str(info.value)


def test_first_party_install_hint(project) -> None:
    from flowyml.plugins.loader import install_hint

    assert install_hint(Kind.MODEL_REGISTRY, "vertex_model_registry").startswith("install it with: pip install flowyml-vertex")  # + the checkout form: tests/packaging/test_install_hints.py
    assert "flowyml.artifact_stores" in install_hint(Kind.ARTIFACT_STORE, "hdfs")


def test_config_found_in_parent_folder_and_via_env(project, tmp_path, monkeypatch) -> None:
    project.write_config("stacks:\n  here:\n    orchestrator: { type: local }\n    artifact_store: { type: local }\nactive_stack: here\n")
    sub = tmp_path / "a" / "b"
    sub.mkdir(parents=True)
    monkeypatch.chdir(sub)
    assert load_project().active_stack == "here"
    other = tmp_path / "elsewhere.yaml"
    other.write_text("stacks:\n  there:\n    orchestrator: { type: local }\n    artifact_store: { type: local }\n")
    monkeypatch.setenv("FLOWYML_CONFIG", str(other))
    assert set(load_project().stacks) == {"there"}
    monkeypatch.setenv("FLOWYML_CONFIG", str(tmp_path / "missing.yaml"))
    with pytest.raises(ConfigError, match="FLOWYML_CONFIG"):
        load_project()


def test_no_config_means_embedded_local_stack(project) -> None:
    config = load_project()
    assert config.file is None and config.stack("local").rule_for("Model").register is True


def test_line_numbers_map_dotted_paths(spec_config: str) -> None:
    _, lines = parse_text(spec_config)
    assert lines["stacks.gcp-prod.artifact_routing.Dataset.path"] == 21
    assert lines["active_stack"] == 37


def test_options_are_not_coerced_from_the_wrong_yaml_type(project) -> None:
    project.write_config(
        "stacks:\n  local:\n    orchestrator: { type: local, max_parallel_steps: '2' }\n    artifact_store: { type: local }\n"
    )
    with pytest.raises(ConfigError, match="expected an integer, got '2'"):
        prepare_stack("local")
    project.write_config("stacks:\n  local:\n    orchestrator: { type: local, max_parallel_steps: true }\n    artifact_store: { type: local }\n")
    with pytest.raises(ConfigError, match="got a boolean"):
        prepare_stack("local")


def test_component_without_options_says_so(project) -> None:
    project.write_config("stacks:\n  local:\n    orchestrator: { type: local }\n    artifact_store: { type: local }\n    model_registry: { type: local, uri: x }\n")
    with pytest.raises(ConfigError, match=r"takes no options"):
        prepare_stack("local")


def test_components_can_point_errors_at_their_own_options(project) -> None:
    project.write_config("stacks:\n  local:\n    orchestrator: { type: local }\n    artifact_store:\n      type: local\n      path: ./x\n")
    stack = prepare_stack("local")
    context = stack.component(Kind.ARTIFACT_STORE).context
    error = context.config_error("path", "path must be absolute", hint="use /data/artifacts")
    assert "flowyml.yaml:6 stacks.local.artifact_store.path: path must be absolute" in str(error)
