"""What a user reads when flowyml.yaml is wrong, word for word: the file, line, key path, message and hint.

Other config tests match a fragment of each message; these pin whole messages, so a lost line
number, a wrong path or a garbled hint fails here (each one was a surviving mutant of config/).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from flowyml.config.loader import choose_stack_name
from flowyml.config.schema import build_project
from flowyml.config.source import load_source, parse_text
from flowyml.config.value_kinds import describe
from flowyml.errors import ConfigError, StackNotFoundError

HEAD = "stacks:\n  s:\n    orchestrator: { type: local }\n"


def stack_error(tmp_path: Path, body: str) -> str:
    (tmp_path / "flowyml.yaml").write_text(HEAD + body)
    project = build_project(load_source(tmp_path / "flowyml.yaml"))
    with pytest.raises(ConfigError) as info:
        project.stack("s")
    return str(info.value).replace(str(tmp_path / "flowyml.yaml"), "flowyml.yaml")


def test_a_malformed_reference_inside_a_list_names_its_item(tmp_path: Path) -> None:
    message = stack_error(tmp_path, "    artifact_store: { type: local, tags: ['ok', '${1BAD}'] }\n")
    assert message == (
        "flowyml.yaml:4 stacks.s.artifact_store.tags[1]: malformed reference '${1BAD}'\n"
        "  hint: write ${NAME} or ${NAME:-default}; NAME is letters, digits and _ and does not start with a digit"
    )


def test_a_routing_flag_that_is_not_a_boolean_names_its_line(tmp_path: Path) -> None:
    message = stack_error(tmp_path, "    artifact_store: { type: local }\n    artifact_routing:\n      Model: { register: 'yes' }\n")
    assert message == "flowyml.yaml:6 stacks.s.artifact_routing.Model.register: expected true or false, got 'yes'"


def test_thresholds_that_are_not_a_mapping_name_their_line(tmp_path: Path) -> None:
    message = stack_error(tmp_path, "    artifact_store: { type: local }\n    artifact_routing:\n      Model: { deploy_min_metrics: 5 }\n")
    assert message == "flowyml.yaml:6 stacks.s.artifact_routing.Model.deploy_min_metrics: expected a mapping of metric names to numbers, got 5"


def test_a_duplicate_key_names_the_file_both_lines_and_the_fix() -> None:
    with pytest.raises(ConfigError) as info:
        parse_text("stacks: {}\nactive_stack: a\nactive_stack: b\n", file="flowyml.yaml")
    error = info.value
    assert str(error) == (
        "flowyml.yaml:3 active_stack: 'active_stack' is written twice: lines 2 and 3\n"
        "  hint: keep one of them (YAML would silently use the last one)"
    )
    assert (error.file, error.line, error.path) == ("flowyml.yaml", 3, "active_stack")


@pytest.mark.parametrize(
    ("value", "words"),
    [(True, "a boolean (true)"), (False, "a boolean (false)"), (None, "null"), (3, "a number (3)"), ("x", "'x'"), ([1], "a list"), ({}, "a mapping"), (b"x", "bytes")],
)
def test_describe_names_a_value_the_way_yaml_writes_it(value: object, words: str) -> None:
    assert describe(value) == words


ROUTING = "    artifact_store: { type: local }\n    artifact_routing:\n      "


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("Model: 5", "stacks.s.artifact_routing.Model: a routing rule must be a mapping"),
        (
            "Model: { bogus: 1 }",
            "stacks.s.artifact_routing.Model.bogus: unknown routing field 'bogus'\n"
            "  hint: routing fields: deploy, deploy_condition, deploy_max_metrics, deploy_min_metrics, endpoint_name, log_to_tracker, path, register, store",
        ),
        ("Model: { store: 5 }", "stacks.s.artifact_routing.Model.store: expected a string, got 5"),
        (
            "Model: { deploy_condition: sometimes }",
            "stacks.s.artifact_routing.Model.deploy_condition: unknown deploy_condition 'sometimes'\n  hint: use one of: manual, auto, on_approval",
        ),
    ],
)
def test_a_wrong_routing_rule_names_its_line_path_and_fix(tmp_path: Path, rule: str, message: str) -> None:
    assert stack_error(tmp_path, ROUTING + rule + "\n") == "flowyml.yaml:6 " + message


def test_all_components_lists_every_tracker_of_a_tracker_list_last(tmp_path: Path) -> None:
    (tmp_path / "flowyml.yaml").write_text(
        HEAD + "    artifact_store: { type: local }\n    experiment_tracker: [ { type: mlflow }, { type: wandb } ]\n    model_registry: { type: local }\n"
    )
    stack = build_project(load_source(tmp_path / "flowyml.yaml")).stack("s")
    listed = [(c.kind.value, c.type) for c in stack.all_components()]
    assert listed == [
        ("orchestrator", "local"), ("artifact_store", "local"), ("model_registry", "local"),
        ("experiment_tracker", "mlflow"), ("experiment_tracker", "wandb"),
    ]


LOCAL_AND = "stacks:\n  {first}: {{ orchestrator: {{ type: local }}, artifact_store: {{ type: local }} }}\n  {second}: {{ orchestrator: {{ type: {kind} }}, artifact_store: {{ type: local }} }}\n"


@pytest.mark.parametrize(
    ("text", "chosen"),
    [
        (None, "local"),  # no flowyml.yaml at all
        ("stacks: {}\n", "local"),
        (LOCAL_AND.format(first="a", second="local", kind="local"), "local"),  # `local` wins even when not first
        (LOCAL_AND.format(first="b", second="local", kind="null"), "local"),  # ...and when it is invalid (its error is shown)
        (LOCAL_AND.format(first="b", second="c", kind="local"), "b"),  # else the first stack written
    ],
)
def test_without_active_stack_the_default_is_local_else_the_first_stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str | None, chosen: str) -> None:
    monkeypatch.delenv("FLOWYML_STACK", raising=False)
    if text is not None:
        (tmp_path / "flowyml.yaml").write_text(text)
    project = build_project(load_source(tmp_path / "flowyml.yaml" if text is not None else None))
    assert (choose_stack_name(project).name, choose_stack_name(project).reason) == (chosen, "default")


EXAMPLE = "  hint: e.g. orchestrator: { type: local }"
TRACKER_EXAMPLE = "  hint: e.g. experiment_tracker: { type: local }, or a list: experiment_tracker: [{ type: mlflow }, { type: tensorboard }]"


@pytest.mark.parametrize(
    ("component", "message"),
    [
        ("{ type: null }", "stacks.s.orchestrator.type: `type:` must name a backend (a string), got null"),
        ("{ type: [] }", "stacks.s.orchestrator.type: `type:` must name a backend (a string), got a list"),
        ("{ type: 123 }", "stacks.s.orchestrator.type: `type:` must name a backend (a string), got a number (123)"),
        ("{ type: '  ' }", "stacks.s.orchestrator.type: `type:` must name a backend (a string), got '  '"),
        ("{ path: x }", "stacks.s.orchestrator: a component needs a `type:` (the backend that provides it)"),
        ("local", "stacks.s.orchestrator: a component must be a mapping with a `type:`, got 'local'"),
    ],
)
def test_a_component_without_a_usable_type_says_what_it_got(tmp_path: Path, component: str, message: str) -> None:
    """In process, what `flowyml stack list` shows for these (tests/reliability/test_config_reading.py runs the CLI)."""
    (tmp_path / "flowyml.yaml").write_text(f"stacks:\n  s:\n    orchestrator: {component}\n    artifact_store: {{ type: local }}\n")
    with pytest.raises(ConfigError) as info:
        build_project(load_source(tmp_path / "flowyml.yaml")).stack("s")
    assert str(info.value).replace(str(tmp_path / "flowyml.yaml"), "flowyml.yaml") == f"flowyml.yaml:3 {message}\n{EXAMPLE}"


def test_a_tracker_without_a_type_shows_the_list_form_too(tmp_path: Path) -> None:
    (tmp_path / "flowyml.yaml").write_text("stacks:\n  s:\n    orchestrator: { type: local }\n    artifact_store: { type: local }\n    experiment_tracker: { type: 7 }\n")
    with pytest.raises(ConfigError) as info:
        build_project(load_source(tmp_path / "flowyml.yaml")).stack("s")
    assert str(info.value).endswith("stacks.s.experiment_tracker.type: `type:` must name a backend (a string), got a number (7)\n" + TRACKER_EXAMPLE)


def test_an_option_name_that_is_not_a_string_is_refused(tmp_path: Path) -> None:
    (tmp_path / "flowyml.yaml").write_text("stacks:\n  s:\n    orchestrator: { type: local, 1: x }\n    artifact_store: { type: local }\n")
    with pytest.raises(ConfigError) as info:
        build_project(load_source(tmp_path / "flowyml.yaml")).stack("s")
    assert str(info.value).endswith("flowyml.yaml:3 stacks.s.orchestrator.1: option names are strings, got 1")


def test_an_unknown_stack_lists_every_stack_written_invalid_ones_too(tmp_path: Path) -> None:
    (tmp_path / "flowyml.yaml").write_text(LOCAL_AND.format(first="b", second="a", kind="null"))
    project = build_project(load_source(tmp_path / "flowyml.yaml"))
    with pytest.raises(StackNotFoundError) as info:
        project.stack("prod")
    assert info.value.message == f"unknown stack 'prod'; stacks defined in {tmp_path / 'flowyml.yaml'}: a, b"
    assert info.value.hint == "pick one of those, or add the stack under `stacks:` in flowyml.yaml"


def test_an_unknown_stack_without_flowyml_yaml_names_the_embedded_local_stack() -> None:
    with pytest.raises(StackNotFoundError) as info:
        build_project(load_source(None)).stack("prod")
    assert info.value.message == "unknown stack 'prod'; stacks defined: local"


def test_an_unknown_stack_in_a_file_without_stacks_says_none_are_defined(tmp_path: Path) -> None:
    (tmp_path / "flowyml.yaml").write_text("stacks: {}\n")
    with pytest.raises(StackNotFoundError) as info:
        build_project(load_source(tmp_path / "flowyml.yaml")).stack("prod")
    assert info.value.message == f"unknown stack 'prod'; stacks defined in {tmp_path / 'flowyml.yaml'}: (none)"


BODY = "    orchestrator: { type: local }\n    artifact_store: { type: local }\n"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("  s: 5\n", "flowyml.yaml:2 stacks.s: a stack must be a mapping of components, got a number (5)"),
        (
            "  s:\n" + BODY + "    bogus: 1\n",
            "flowyml.yaml:5 stacks.s.bogus: unknown stack key 'bogus'\n  hint: a stack takes: artifact_routing, artifact_store, "
            "description, experiment_tracker, model_deployer, model_registry, on_route_error, orchestrator, steps",
        ),
        ("  s:\n" + BODY + "    description: 5\n", "flowyml.yaml:5 stacks.s.description: description must be text, got a number (5)"),
        (
            "  s:\n" + BODY + "    experiment_tracker: []\n",
            "flowyml.yaml:5 stacks.s.experiment_tracker: the tracker list is empty\n  hint: name at least one tracker, or remove experiment_tracker:",
        ),
        ("  s:\n" + BODY + "    on_route_error: maybe\n", "flowyml.yaml:5 stacks.s.on_route_error: on_route_error must be one of fail, warn, got 'maybe'"),
        ("  s:\n" + BODY + "    on_route_error: 3\n", "flowyml.yaml:5 stacks.s.on_route_error: on_route_error must be one of fail, warn, got a number (3)"),
        ("  s:\n" + BODY + "    artifact_routing: [1]\n", "flowyml.yaml:5 stacks.s.artifact_routing: artifact_routing must map artifact types to rules, got a list"),
    ],
)
def test_a_wrong_stack_says_which_key_and_what_it_takes(tmp_path: Path, body: str, message: str) -> None:
    (tmp_path / "flowyml.yaml").write_text("stacks:\n" + body)
    with pytest.raises(ConfigError) as info:
        build_project(load_source(tmp_path / "flowyml.yaml")).stack("s")
    assert str(info.value).replace(str(tmp_path) + "/", "") == message


def test_a_stack_may_have_a_text_description(tmp_path: Path) -> None:
    (tmp_path / "flowyml.yaml").write_text("stacks:\n  s:\n" + BODY + "    description: the team's GPU stack\n    on_route_error: warn\n")
    stack = build_project(load_source(tmp_path / "flowyml.yaml")).stack("s")
    assert stack.on_route_error == "warn" and stack.routing == {}


def test_a_duplicate_inside_one_stack_leaves_the_other_stacks_usable(tmp_path: Path) -> None:
    """Bug caught: a duplicate key inside a stack's component failing the whole file instead of that stack."""
    (tmp_path / "flowyml.yaml").write_text(
        "stacks:\n  good:\n" + BODY + "  dup:\n    orchestrator: { type: local }\n    artifact_store:\n      type: local\n      path: ./a\n      path: ./b\n"
    )
    project = build_project(load_source(tmp_path / "flowyml.yaml"))
    assert project.stack("good").name == "good"
    with pytest.raises(ConfigError) as info:
        project.stack("dup")
    assert str(info.value).replace(str(tmp_path) + "/", "") == (
        "flowyml.yaml:10 stacks.dup.artifact_store.path: 'path' is written twice: lines 9 and 10\n"
        "  hint: keep one of them (YAML would silently use the last one)"
    )


def test_the_stacks_after_one_with_a_duplicate_are_built_too(tmp_path: Path) -> None:
    (tmp_path / "flowyml.yaml").write_text(
        "stacks:\n  dup:\n    orchestrator: { type: local }\n    orchestrator: { type: local }\n    artifact_store: { type: local }\n  good:\n" + BODY
    )
    project = build_project(load_source(tmp_path / "flowyml.yaml"))
    assert list(project.stacks) == ["good"] and list(project.invalid) == ["dup"]


def test_a_duplicate_outside_the_stacks_fails_the_file_naming_it(tmp_path: Path) -> None:
    (tmp_path / "flowyml.yaml").write_text("stacks:\n  good:\n" + BODY + "active_stack: good\nactive_stack: good\n")
    with pytest.raises(ConfigError) as info:
        build_project(load_source(tmp_path / "flowyml.yaml"))
    assert str(info.value).startswith(f"{tmp_path / 'flowyml.yaml'}:6 active_stack: 'active_stack' is written twice: lines 5 and 6")


def test_a_tracker_list_item_is_named_by_its_index_and_the_first_is_the_stack_tracker(tmp_path: Path) -> None:
    from flowyml.plugins.kinds import Kind

    (tmp_path / "flowyml.yaml").write_text(
        "stacks:\n  one:\n" + BODY + "    experiment_tracker: [ { type: mlflow } ]\n"
        "  two:\n" + BODY + "    experiment_tracker: [ { type: mlflow }, { type: wandb } ]\n"
        "  bad:\n" + BODY + "    experiment_tracker: [ { type: mlflow }, { path: x } ]\n"
    )
    project = build_project(load_source(tmp_path / "flowyml.yaml"))
    assert project.stack("one").component(Kind.EXPERIMENT_TRACKER).type == "mlflow"
    assert project.stack("two").component(Kind.EXPERIMENT_TRACKER).type == "mlflow"
    assert [t.type for t in project.stack("two").trackers] == ["mlflow", "wandb"]
    with pytest.raises(ConfigError) as info:
        project.stack("bad")
    assert "flowyml.yaml:13 stacks.bad.experiment_tracker[1]: a component needs a `type:` (the backend that provides it)" in str(info.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("stacks: {}\nbogus: 1\n", "flowyml.yaml:2 bogus: unknown top-level key 'bogus'\n  hint: the top level takes `stacks:`, `active_stack:`, `steps:`, `metadata:`"),
        ("stacks: [1]\n", "flowyml.yaml:1 stacks: must be a mapping of stack names to stacks, got a list"),
        ("stacks: 5\n", "flowyml.yaml:1 stacks: must be a mapping of stack names to stacks, got a number (5)"),
        ("stacks:\n  '': {}\n", "flowyml.yaml:2 stacks.: a stack name must be a non-empty string, got ''\n  hint: e.g. `stacks: { local: ... }`"),
        ("stacks:\n  1: {}\n", "flowyml.yaml:2 stacks.1: a stack name must be a non-empty string, got 1\n  hint: e.g. `stacks: { local: ... }`"),
        ("active_stack: 5\nstacks: {}\n", "flowyml.yaml:1 active_stack: active_stack must be a stack name, got a number (5)\n  hint: e.g. `active_stack: local`"),
        (
            "active_stack: x\nstacks:\n  b: 5\n  a: 5\n",
            "flowyml.yaml:1 active_stack: active_stack names 'x', which is not defined; stacks: a, b\n"
            "  hint: set active_stack to one of the defined stacks (flowyml stack set NAME)",
        ),
    ],
)
def test_a_wrong_top_level_fails_the_file_saying_where_and_how_to_fix(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "flowyml.yaml").write_text(text)
    with pytest.raises(ConfigError) as info:
        build_project(load_source(tmp_path / "flowyml.yaml"))
    assert str(info.value).replace(str(tmp_path) + "/", "") == message


def test_an_empty_stacks_key_defines_no_stack(tmp_path: Path) -> None:
    (tmp_path / "flowyml.yaml").write_text("stacks:\n")
    project = build_project(load_source(tmp_path / "flowyml.yaml"))
    assert (project.names, project.stacks) == ((), {})
