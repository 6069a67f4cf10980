"""Config reading is bounded and strict (#10 §4): each case the issue names, on the real CLI and API."""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

import pytest

from flowyml.config.loader import load_project
from flowyml.config.source import parse_text
from flowyml.config.yaml_reader import MAX_DEPTH
from flowyml.errors import ConfigError
from flowyml.runner.engine import prepare_stack

GOOD = "  good:\n    orchestrator: { type: local }\n    artifact_store: { type: local, path: ./good-store }\n"
PIPELINE = "from flowyml import pipeline, step\n\n\n@step\ndef one() -> int:\n    return 1\n\n\n@pipeline\ndef p():\n    one()\n"


def _config(project, body: str, active: str = "good") -> None:
    project.write_config("stacks:\n" + GOOD + body + f"active_stack: {active}\n")


# -- encodings -------------------------------------------------------------------------------


NOT_UTF8 = [
    ("stacks:\n  café:\n    orchestrator: { type: local }\n".encode("latin-1"), 13),
    ("stacks: {}\n".encode("utf-16"), 0),
    (b"stacks:\n  x: \x00\xff\xfe\x80garbage\x9c\n", 14),
]
NOT_UTF8_IDS = ["latin-1", "utf-16", "binary"]


@pytest.mark.parametrize(("raw", "offset"), NOT_UTF8, ids=NOT_UTF8_IDS)
def test_a_file_that_is_not_utf8_names_the_file_and_byte_offset(project, raw: bytes, offset: int) -> None:
    (project.path / "flowyml.yaml").write_bytes(raw)
    with pytest.raises(ConfigError) as info:
        load_project()
    message = str(info.value)
    assert "is not UTF-8" in message and f"offset {offset}" in message and "flowyml.yaml" in message


@pytest.mark.parametrize(("raw", "offset"), NOT_UTF8, ids=NOT_UTF8_IDS)
def test_the_cli_names_the_byte_offset_of_a_file_that_is_not_utf8(project, raw: bytes, offset: int) -> None:
    (project.path / "flowyml.yaml").write_bytes(raw)
    done = project.cli("stack", "list", check=False)
    assert "Traceback" not in done.stderr and f"offset {offset}" in done.stderr


def test_control_characters_are_an_error_with_their_line(project) -> None:
    (project.path / "flowyml.yaml").write_bytes(b"stacks:\n  a:\n    orchestrator: { type: loc\x07al }\n")
    with pytest.raises(ConfigError, match=r"flowyml\.yaml:3.*control characters"):
        load_project()


# -- YAML that would blow up ---------------------------------------------------------------------

BOMB = "stacks:\n  a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"  {n}: &{n} [{', '.join([f'*{p}'] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi", strict=True)
)


def _run_bounded(project, *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI with 1 GiB of address space at most: a blow-up shows as a MemoryError, not a swapping machine."""
    flowyml = Path(sys.executable).with_name("flowyml")

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    return subprocess.run([str(flowyml), *args], cwd=project.path, capture_output=True, text=True, timeout=120, preexec_fn=limit)


HOSTILE = [
    (BOMB, "alias bomb"),
    ("stacks:\n  a: &loop { orchestrator: *loop }\n", "recursive alias"),
    ("stacks:\n  a:\n" + "".join(" " * (4 + 2 * i) + f"k{i}:\n" for i in range(5000)), f"nesting deeper than {MAX_DEPTH}"),
    ("stacks: " + "[" * 5000 + "]" * 5000 + "\n", "nesting deeper than"),
    ("stacks: " + "{a: " * 5000 + "1" + "}" * 5000 + "\n", "nesting deeper than"),
]
HOSTILE_IDS = ["alias-bomb", "recursive-alias", "5000-deep-block", "5000-deep-flow-list", "5000-deep-flow-map"]


@pytest.mark.parametrize(("text", "match"), HOSTILE, ids=HOSTILE_IDS)
def test_hostile_yaml_is_refused_with_a_clear_message(project, text: str, match: str) -> None:
    project.write_config(text)
    with pytest.raises(ConfigError, match=match):
        load_project()


@pytest.mark.parametrize(("text", "match"), HOSTILE, ids=HOSTILE_IDS)
def test_the_cli_refuses_hostile_yaml_in_bounded_memory(project, text: str, match: str) -> None:
    project.write_config(text)
    done = _run_bounded(project, "stack", "list")
    assert done.returncode == 1 and "Traceback" not in done.stderr and match in done.stderr, done.stderr


def test_anchors_and_merge_keys_still_work(project) -> None:
    project.write_config(
        "stacks:\n"
        "  base: &base\n"
        "    orchestrator: { type: local, max_parallel_steps: 2 }\n"
        "    artifact_store: &store { type: local, path: ./shared }\n"
        "  copy:\n"
        "    <<: *base\n"
        "    artifact_store: { <<: *store, path: ./own }\n"
    )
    project_config = load_project()
    copy = project_config.stack("copy")
    assert copy.components[next(iter(copy.components))].options == {"max_parallel_steps": 2}
    assert [c.options for c in copy.components.values()][1] == {"path": "./own"}


# -- duplicate keys ------------------------------------------------------------------------------


def test_duplicate_stack_names_invalidate_that_stack_naming_both_lines(project) -> None:
    _config(project, "  twice:\n    orchestrator: { type: local }\n    artifact_store: { type: local }\n  twice:\n    orchestrator: { type: local }\n    artifact_store: { type: local }\n")
    project_config = load_project()
    assert project_config.stack("good")
    with pytest.raises(ConfigError, match=r"'twice' is written twice: lines 5 and 8"):
        project_config.stack("twice")


def test_duplicate_keys_in_a_component_name_both_lines(project) -> None:
    _config(project, "  dup:\n    orchestrator: { type: local }\n    artifact_store:\n      type: local\n      path: ./a\n      path: ./b\n")
    with pytest.raises(ConfigError, match=r"stacks\.dup\.artifact_store\.path: 'path' is written twice: lines 9 and 10"):
        load_project().stack("dup")


def test_duplicate_active_stack_fails_the_whole_file(project) -> None:
    project.write_config("stacks:\n" + GOOD + "active_stack: good\nactive_stack: good\n")
    with pytest.raises(ConfigError, match=r"'active_stack' is written twice: lines 5 and 6"):
        load_project()


def test_parse_text_refuses_duplicates() -> None:
    with pytest.raises(ConfigError, match="lines 1 and 2"):
        parse_text("a: 1\na: 2\n")


# -- strict types ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ("path: ['a']", "expected a string, got a list"),
        ("path: 123", "expected a string, got a number"),
        ("path: null", "expected a string, got null"),
        ("path: true", "expected a string, got a boolean"),
        ("path: { a: 1 }", "expected a string, got a mapping"),
    ],
)
def test_string_options_refuse_lists_numbers_and_null(project, options: str, match: str) -> None:
    _config(project, f"  bad:\n    orchestrator: {{ type: local }}\n    artifact_store: {{ type: local, {options} }}\n")
    with pytest.raises(ConfigError, match=match) as info:
        prepare_stack("bad")
    assert "stacks.bad.artifact_store.path" in str(info.value) and "flowyml.yaml:7" in str(info.value)
    made = sorted(p.name for p in project.path.iterdir() if p.name not in ("flowyml.yaml", ".flowyml"))
    assert made == []  # no folder named ['a'], 123 or None


@pytest.mark.parametrize(
    ("component", "match"),
    [
        ("orchestrator: { type: local, max_parallel_steps: -1 }", "max_parallel_steps must be at least 1, got -1"),
        ("orchestrator: { type: local, max_parallel_steps: 0 }", "max_parallel_steps must be at least 1, got 0"),
        ("orchestrator: { type: local, max_parallel_steps: 2.5 }", "expected an integer, got a number"),
        ("model_deployer: { type: local, port: 0 }", "port must be a port number between 1 and 65535, got 0"),
        ("model_deployer: { type: local, port: 65536 }", "between 1 and 65535, got 65536"),
        ("model_deployer: { type: local, port: '80' }", "expected an integer, got '80'"),
        ("model_deployer: { type: local, startup_timeout: -3 }", "startup_timeout must be at least"),
    ],
)
def test_ports_and_counts_are_checked(project, component: str, match: str) -> None:
    base = "orchestrator: { type: local }" if not component.startswith("orchestrator") else component
    extra = "" if component.startswith("orchestrator") else f"    {component}\n"
    _config(project, f"  bad:\n    {base}\n    artifact_store: {{ type: local }}\n{extra}")
    with pytest.raises(ConfigError, match=match):
        prepare_stack("bad")


@pytest.mark.parametrize("bad_type", ["null", "[]", "123", "''", "{ a: 1 }"])
def test_a_type_that_is_not_a_name_is_refused_by_every_command(project, bad_type: str) -> None:
    _config(project, f"  bad:\n    orchestrator: {{ type: {bad_type} }}\n    artifact_store: {{ type: local }}\n", active="bad")
    project.write("p.py", PIPELINE)
    message = "`type:` must name a backend (a string)"
    listed = project.cli("stack", "list", check=True).stdout
    assert "bad  (active: active_stack in flowyml.yaml)  INVALID" in listed and message in listed
    for args in (("stack", "show"), ("stack", "show", "bad"), ("stack", "check"), ("run", "p.py"), ("route", "plan", "p.py")):
        done = project.cli(*args, check=False)
        assert message in done.stderr and "Traceback" not in done.stderr, (args, done.stderr)


@pytest.mark.parametrize("reference", ["${", "${}", "${1BAD}", "${A B}", "x${y"])
def test_malformed_references_are_errors_with_their_line(project, reference: str) -> None:
    _config(project, f"  bad:\n    orchestrator: {{ type: local }}\n    artifact_store: {{ type: local, path: '{reference}' }}\n")
    with pytest.raises(ConfigError, match=r"flowyml\.yaml:7 stacks\.bad\.artifact_store\.path: malformed reference"):
        load_project().stack("bad")


# -- one invalid stack does not block the others -------------------------------------------------


def test_one_invalid_stack_does_not_block_the_others(project) -> None:
    _config(project, "  broken:\n    orchestrator: { type: null }\n    artifact_store: { type: local }\n", active="broken")
    project.write("p.py", PIPELINE)
    listed = project.cli("stack", "list", check=True).stdout
    assert "   good\n      orchestrator=local, artifact_store=local" in listed
    assert "broken  (active: active_stack in flowyml.yaml)  INVALID\n      " in listed and "flowyml.yaml:6" in listed
    assert "completed" in project.cli("run", "p.py", "--stack", "good", check=True).stdout
    assert "`type:` must name a backend" in project.cli("run", "p.py", check=False).stderr  # the active one is used
    assert "`type:` must name a backend" in project.cli("stack", "check", "broken", check=False).stderr


def test_stack_check_all_validates_every_stack(project) -> None:
    _config(
        project,
        "  negative:\n    orchestrator: { type: local, max_parallel_steps: -1 }\n    artifact_store: { type: local }\n"
        "  broken:\n    orchestrator: { type: [] }\n    artifact_store: { type: local }\n",
    )
    done = project.cli("stack", "check", "--all", check=False)
    assert done.returncode == 1, done.stdout
    out = done.stdout
    assert "Checking stack 'good'" in out and "✓ artifact_store local" in out
    assert "max_parallel_steps must be at least 1, got -1" in out and "`type:` must name a backend" in out
    assert "1 of 3 stacks passed; failed: negative, broken" in out


def test_stack_show_lists_option_problems(project) -> None:
    _config(project, "  bad:\n    orchestrator: { type: local, max_parallel_steps: many }\n    artifact_store: { type: local, path: [a] }\n")
    done = project.cli("stack", "show", "bad", check=False)
    assert done.returncode == 1
    assert "Problems (2):" in done.stdout and "expected an integer, got 'many'" in done.stdout
    assert "expected a string, got a list" in done.stdout


def test_route_plan_checks_option_types(project) -> None:
    _config(project, "  bad:\n    orchestrator: { type: local }\n    artifact_store: { type: local, path: 7 }\n")
    project.write("p.py", PIPELINE)
    done = project.cli("route", "plan", "p.py", "--stack", "bad", check=False)
    assert "expected a string, got a number (7)" in done.stderr and "Traceback" not in done.stderr
