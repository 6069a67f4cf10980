"""Routing validation, exactly: each refused rule's message (file, line, YAML path) and hint."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowyml.config.loader import load_project
from flowyml.errors import FlowymlError
from flowyml.routing.validate import validate_stack

BASE = "stacks:\n  s:\n    orchestrator: { type: local }\n    artifact_store: { type: local, name: warehouse }\n{extra}    artifact_routing:\n{rules}"

CASES = [
    ('Model: { register: true }', '', "DIR/flowyml.yaml:6 stacks.s.artifact_routing.Model.register: register: true but stack 's' has no model_registry", 'add `model_registry: { type: ... }` to the stack, or set register: false'),
    ('Model: { register: true, deploy: true }', '    model_registry: { type: local }\n', "DIR/flowyml.yaml:7 stacks.s.artifact_routing.Model.deploy: deploy: true but stack 's' has no model_deployer", 'add `model_deployer: { type: ... }` to the stack, or set deploy: false'),
    ('Metrics: { log_to_tracker: true }', '', "DIR/flowyml.yaml:6 stacks.s.artifact_routing.Metrics.log_to_tracker: log_to_tracker: true but stack 's' has no experiment_tracker", 'add `experiment_tracker: { type: ... }` to the stack, or set log_to_tracker: false'),
    ('Dataset: { store: gcs }', '', "DIR/flowyml.yaml:6 stacks.s.artifact_routing.Dataset.store: store 'gcs' is not defined by stack 's' (its artifact store: local, warehouse)", "set store to local, warehouse, or change the stack's artifact_store type to gcs"),
    ("Dataset: { path: '{run}/x' }", '', "DIR/flowyml.yaml:6 stacks.s.artifact_routing.Dataset.path: unknown placeholder {run} in path template '{run}/x'", 'available placeholders: {run_id}, {step_name}, {artifact_name}, {pipeline_name}, {name}, {version}'),
    ("Dataset: { path: '../{run_id}' }", '', "DIR/flowyml.yaml:6 stacks.s.artifact_routing.Dataset.path: path '../x' (from template '../{run_id}') would leave the artifact store's root", "remove '..' from the template, or from the value that filled a placeholder"),
    ("Dataset: { path: '{run_id}/{version}' }", '', 'DIR/flowyml.yaml:6 stacks.s.artifact_routing.Dataset.path: {version} in the path of Dataset has no value: only a Model has a version', 'remove {version} from this path'),
    ('Models: { store: local }', '', "DIR/flowyml.yaml:6 stacks.s.artifact_routing.Models: unknown artifact type 'Models'", 'artifact_routing keys are: Model, Dataset, Metrics, Parameters, Value (Value is for plain return values)'),
    ('Model: { register: true, deploy: true, deploy_condition: auto }', '    model_registry: { type: local }\n    model_deployer: { type: local }\n', 'DIR/flowyml.yaml:8 stacks.s.artifact_routing.Model.deploy_condition: deploy_condition: auto needs deploy_min_metrics (the thresholds a model must meet)', 'add e.g. `deploy_min_metrics: {accuracy: 0.9}`'),
    ('Model: { deploy: true }', '    model_registry: { type: local }\n    model_deployer: { type: local }\n', 'DIR/flowyml.yaml:8 stacks.s.artifact_routing.Model.deploy: deploy: true needs register: true (deployments are made from registered model versions)', 'add register: true to this rule'),
    ('Dataset: { register: true }', '    model_registry: { type: local }\n', 'DIR/flowyml.yaml:7 stacks.s.artifact_routing.Dataset.register: register: true only applies to Model', 'move it under artifact_routing.Model'),
    ('Dataset: { deploy: true }', '    model_registry: { type: local }\n', 'DIR/flowyml.yaml:7 stacks.s.artifact_routing.Dataset.deploy: deploy: true only applies to Model', 'move it under artifact_routing.Model'),
    ('Model: { log_to_tracker: true }', '    experiment_tracker: { type: local }\n', 'DIR/flowyml.yaml:7 stacks.s.artifact_routing.Model.log_to_tracker: log_to_tracker: true only applies to Metrics and Parameters', 'remove it from this rule'),
    ('Model: { deploy_min_metrics: { accuracy: 0.9 } }', '', 'DIR/flowyml.yaml:6 stacks.s.artifact_routing.Model.deploy_min_metrics: deploy_min_metrics has no effect without deploy: true', 'add deploy: true'),
    ('Model: { endpoint_name: ep }', '', 'DIR/flowyml.yaml:6 stacks.s.artifact_routing.Model.endpoint_name: endpoint_name has no effect without deploy: true', 'add deploy: true'),
    ('Model: { deploy_condition: auto }', '', 'DIR/flowyml.yaml:6 stacks.s.artifact_routing.Model.deploy_condition: deploy_condition has no effect without deploy: true', 'add deploy: true'),
    (
        "Model: { register: true, deploy: true, endpoint_name: 'a/b' }", '    model_registry: { type: local }\n    model_deployer: { type: local }\n',
        "DIR/flowyml.yaml:8 stacks.s.artifact_routing.Model.endpoint_name: endpoint_name 'a/b' cannot be used: it contains the path separator '/'",
        "endpoint names become part of file and resource paths: use letters, digits, '-', '_' and '.'",
    ),
]


@pytest.mark.parametrize(("rule", "extra", "message", "hint"), CASES, ids=[c[2].split(": ", 1)[0].rsplit(" ", 1)[-1] + ":" + c[0] for c in CASES])
def test_each_refused_rule_says_where_what_and_how_to_fix(project, rule: str, extra: str, message: str, hint: str) -> None:
    """Bugs caught: a wrong YAML path or line in the message, a lost or wrong hint, a check that never fires."""
    project.write_config(BASE.replace("{extra}", extra).replace("{rules}", "      " + rule + "\n"))
    config = load_project()
    with pytest.raises(FlowymlError) as info:
        validate_stack(config, config.stack("s"))
    assert info.value.message == message.replace("DIR", str(Path.cwd())) and info.value.hint == hint



@pytest.mark.parametrize("kind", ["orchestrator", "artifact_store"])
def test_a_stack_missing_a_required_component_names_it(project, kind: str) -> None:
    body = {"orchestrator": "    orchestrator: { type: local }\n", "artifact_store": "    artifact_store: { type: local }\n"}
    del body[kind]
    project.write_config("stacks:\n  s:\n" + "".join(body.values()) + "  t:\n    orchestrator: { type: local }\n    artifact_store: { type: local }\n")
    config = load_project()
    try:
        stack = config.stack("s")
    except FlowymlError as exc:  # refused while building the stack: as good, if it names the fix
        assert kind in exc.message and exc.hint
        return
    with pytest.raises(FlowymlError) as info:
        validate_stack(config, stack)
    assert info.value.message.endswith(f"stack 's' has no {kind}")
    assert "flowyml.yaml:2" in str(info.value) and "stacks.s" in str(info.value)
    assert info.value.hint == f"add `{kind}: {{ type: local }}` (or another type) to the stack"


def test_auto_with_only_max_thresholds_is_valid(project) -> None:
    project.write_config(BASE.replace("{extra}", "    model_registry: { type: local }\n    model_deployer: { type: local }\n").replace(
        "{rules}", "      Model: { register: true, deploy: true, deploy_condition: auto, deploy_max_metrics: { loss: 0.2 } }\n"))
    config = load_project()
    validate_stack(config, config.stack("s"))
