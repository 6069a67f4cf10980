"""A fuzz of malformed flowyml.yaml files x every command that reads it (#10 §4).

Each example is a valid file with one defect planted (hypothesis chooses the
defect and its details): in the whole document (encoding, hostile YAML, a
duplicated ``active_stack``) or in the stack ``target`` (a wrong type, range,
reference, duplicate key, routing rule...). Every command must then answer
without a traceback, within 10 seconds, and must not accept the defect:

* ``stack list`` fails for a document defect, and marks ``target`` INVALID
  for a structural one (option types are not its business: it loads no plugin);
* ``stack show``, ``stack check``, ``run`` and ``route plan`` on ``target`` fail
  with an ``Error:`` / problem that points into flowyml.yaml.

The bulk runs the click CLI in-process (CliRunner: an uncaught exception is
``result.exception``); a sample runs the real ``flowyml`` executable.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowyml.cli.main import cli

PIPELINE = "from flowyml import pipeline, step\n\n\n@step\ndef one() -> int:\n    return 1\n\n\n@pipeline\ndef p():\n    one()\n"
EXAMPLES = 220
COMMANDS = (
    ("stack", "list"),
    ("stack", "show", "target"),
    ("stack", "check", "target"),
    ("run", "p.py", "--stack", "target"),
    ("route", "plan", "p.py", "--stack", "target"),
)


@dataclass(frozen=True)
class Case:
    label: str
    content: bytes
    scope: str  # "document": the file fails; "stack": target is invalid; "options": target's options are wrong


def _file(target: str, *, extra_top: str = "", good_extra: str = "") -> str:
    return (
        "stacks:\n"
        "  good:\n"
        "    orchestrator: { type: local }\n"
        "    artifact_store: { type: local, path: ./good-store }\n"
        f"{good_extra}"
        "  target:\n"
        f"{target}"
        f"{extra_top}"
        "active_stack: good\n"
    )


ORCH = "    orchestrator: { type: local }\n"
STORE = "    artifact_store: { type: local, path: ./target-store }\n"

NOT_STRINGS = st.sampled_from(["null", "[]", "['a']", "123", "1.5", "true", "{ a: 1 }", "''"])
NOT_STR_VALUES = st.sampled_from(["null", "[]", "['a', 'b']", "123", "-4", "1.5", "true", "{ a: 1 }"])
NOT_INTS = st.sampled_from(["'2'", "2.5", "true", "[]", "{ n: 1 }", "many", "''"])
BAD_COUNTS = st.integers(max_value=0).map(str)
BAD_PORTS = st.one_of(st.integers(max_value=0), st.integers(min_value=65536)).map(str)
BAD_REFS = st.sampled_from(["${", "${}", "${1BAD}", "${A B}", "x${y", "${-x}", "${A:-b", "${ A }", "$${9}"])
NAMES = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12)
ROUTING_BAD = st.sampled_from(
    [
        "      Model: { register: 'yes' }\n",
        "      Model: { register: 1 }\n",
        "      Model: { deploy_condition: sometimes }\n",
        "      Model: { deploy_min_metrics: { acc: high } }\n",
        "      Model: { deploy_min_metrics: [1] }\n",
        "      Model: { store: nowhere }\n",
        "      Model: { path: '{nope}/x' }\n",
        "      Dataset: { register: true }\n",
        "      Modell: {}\n",
        "      Model: [1, 2]\n",
        "      Model: { endpoint_name: [x] }\n",
    ]
)


@st.composite
def cases(draw: st.DrawFn) -> Case:
    kind = draw(
        st.sampled_from(
            [
                "type", "missing-type", "component-not-mapping", "string-option", "int-option", "count", "port",
                "timeout", "reference", "duplicate-component", "duplicate-option", "duplicate-stack", "unknown-option",
                "unknown-stack-key", "routing", "routing-not-mapping", "on-route-error", "stack-not-mapping",
                "no-orchestrator", "unknown-top-level", "duplicate-active", "active-not-string", "latin-1", "utf-16",
                "binary", "alias-bomb", "recursive-alias", "deep-nesting", "tag", "two-documents", "stacks-not-mapping",
            ]
        )
    )
    if kind == "type":
        return Case(kind, _file(f"    orchestrator: {{ type: {draw(NOT_STRINGS)} }}\n" + STORE).encode(), "stack")
    if kind == "missing-type":
        return Case(kind, _file("    orchestrator: { max_parallel_steps: 2 }\n" + STORE).encode(), "stack")
    if kind == "component-not-mapping":
        return Case(kind, _file(f"    orchestrator: {draw(st.sampled_from(['local', '[local]', '3', 'null']))}\n" + STORE).encode(), "stack")
    if kind == "string-option":
        option = draw(st.sampled_from(["path", "name"]))
        value = draw(NOT_STR_VALUES.filter(lambda v: option == "path" or v != "null"))  # name: null means "no name"
        return Case(f"{kind}:{option}", _file(ORCH + f"    artifact_store: {{ type: local, {option}: {value} }}\n").encode(), "options")
    if kind == "int-option":
        return Case(kind, _file(f"    orchestrator: {{ type: local, max_parallel_steps: {draw(NOT_INTS)} }}\n" + STORE).encode(), "options")
    if kind == "count":
        return Case(kind, _file(f"    orchestrator: {{ type: local, max_parallel_steps: {draw(BAD_COUNTS)} }}\n" + STORE).encode(), "options")
    if kind == "port":
        return Case(kind, _file(ORCH + STORE + f"    model_deployer: {{ type: local, port: {draw(BAD_PORTS)} }}\n").encode(), "options")
    if kind == "timeout":
        value = draw(st.one_of(st.floats(max_value=0, allow_nan=False, allow_infinity=False).map(repr), st.sampled_from(["soon", "[]", "null"])))
        return Case(kind, _file(ORCH + STORE + f"    model_deployer: {{ type: local, startup_timeout: {value} }}\n").encode(), "options")
    if kind == "reference":
        ref = draw(BAD_REFS)
        return Case(f"{kind}:{ref}", _file(ORCH + f"    artifact_store: {{ type: local, path: '{ref}' }}\n").encode(), "stack")
    if kind == "duplicate-component":
        return Case(kind, _file(ORCH + STORE + ORCH).encode(), "stack")
    if kind == "duplicate-option":
        return Case(kind, _file(ORCH + "    artifact_store:\n      type: local\n      path: ./a\n      path: ./b\n").encode(), "stack")
    if kind == "duplicate-stack":
        return Case(kind, _file(ORCH + STORE, extra_top="  target:\n" + ORCH + STORE).encode(), "stack")
    if kind == "unknown-option":
        name = draw(NAMES.filter(lambda n: n not in ("path", "name")))
        return Case(kind, _file(ORCH + f"    artifact_store: {{ type: local, {name}: 1 }}\n").encode(), "options")
    if kind == "unknown-stack-key":
        name = draw(NAMES.filter(lambda n: n not in ("orchestrator", "artifact_store", "model_registry", "model_deployer", "experiment_tracker", "artifact_routing", "on_route_error", "description")))
        return Case(kind, _file(ORCH + STORE + f"    {name}: {{ type: local }}\n").encode(), "stack")
    if kind == "routing":
        return Case(kind, _file(ORCH + STORE + "    artifact_routing:\n" + draw(ROUTING_BAD)).encode(), "stack")
    if kind == "routing-not-mapping":
        return Case(kind, _file(ORCH + STORE + f"    artifact_routing: {draw(st.sampled_from(['[]', '3', 'yes']))}\n").encode(), "stack")
    if kind == "on-route-error":
        return Case(kind, _file(ORCH + STORE + f"    on_route_error: {draw(st.sampled_from(['ignore', '[]', '1', 'null']))}\n").encode(), "stack")
    if kind == "stack-not-mapping":
        return Case(kind, _file(f"    {draw(st.sampled_from(['- local', '- 1']))}\n").encode(), "stack")
    if kind == "no-orchestrator":
        return Case(kind, _file(STORE).encode(), "stack")
    if kind == "unknown-top-level":
        return Case(kind, _file(ORCH + STORE, extra_top=f"{draw(NAMES)}x: 1\n").encode(), "document")
    if kind == "duplicate-active":
        return Case(kind, (_file(ORCH + STORE) + "active_stack: good\n").encode(), "document")
    if kind == "active-not-string":
        return Case(kind, _file(ORCH + STORE).replace("active_stack: good", f"active_stack: {draw(st.sampled_from(['[good]', '1', '{a: b}']))}").encode(), "document")
    if kind == "latin-1":
        return Case(kind, _file(ORCH + STORE).replace("./target-store", "./café-" + draw(NAMES)).encode("latin-1"), "document")
    if kind == "utf-16":
        return Case(kind, _file(ORCH + STORE).encode(draw(st.sampled_from(["utf-16", "utf-16-le", "utf-32"]))), "document")
    if kind == "binary":
        junk = draw(st.binary(min_size=1, max_size=64).filter(lambda b: not _is_utf8(b)))
        text = _file(ORCH + STORE).encode()
        at = draw(st.integers(min_value=0, max_value=len(text)))
        return Case(kind, text[:at] + junk + text[at:], "document")
    if kind == "alias-bomb":
        width, depth = draw(st.integers(min_value=6, max_value=12)), draw(st.integers(min_value=8, max_value=12))
        lines = [f"  l0: &l0 [{', '.join(['x'] * width)}]"]
        lines += [f"  l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * width)}]" for i in range(1, depth)]
        return Case(kind, ("stacks:\n" + "\n".join(lines) + "\n").encode(), "document")
    if kind == "recursive-alias":
        return Case(kind, _file("    orchestrator: &me { type: local, loop: *me }\n" + STORE).encode(), "document")
    if kind == "deep-nesting":
        depth = draw(st.integers(min_value=65, max_value=5000))
        style = draw(st.sampled_from(["list", "map"]))
        value = ("[" * depth + "]" * depth) if style == "list" else ("{a: " * depth + "1" + "}" * depth)
        return Case(f"{kind}:{depth}", _file(ORCH + f"    artifact_store: {{ type: local, path: {value} }}\n").encode(), "document")
    if kind == "tag":
        tag = draw(st.sampled_from(["!!python/object:os.system", "!!binary", "!custom", "!!set", "!!timestamp"]))
        return Case(f"{kind}:{tag}", _file(ORCH + f"    artifact_store: {{ type: local, path: {tag} x }}\n").encode(), "document")
    if kind == "two-documents":
        return Case(kind, (_file(ORCH + STORE) + "---\nstacks: {}\n").encode(), "document")
    assert kind == "stacks-not-mapping"
    return Case(kind, f"stacks: {draw(st.sampled_from(['[a, b]', '3', 'yes']))}\n".encode(), "document")


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _expectation_met(case: Case, args: tuple[str, ...], code: int, output: str) -> str | None:
    """None when the command treated the defect right, else what went wrong."""
    if "Traceback" in output:
        return "a traceback"
    listing = args[:2] == ("stack", "list")
    if listing and case.scope == "options":
        return None if code == 0 else f"stack list failed on an options defect (exit {code})"
    if listing and case.scope == "stack":
        if code != 0:
            return f"stack list failed (exit {code}) instead of marking target invalid"
        if not re.search(r"^ [ *] good\b", output, re.M):
            return "the good stack is not listed"
        return None if re.search(r"^ [ *] target\b.*  INVALID$", output, re.M) else "target not marked INVALID"
    if code == 0:
        return "accepted silently (exit 0)"
    if code != 1:
        return f"exit status {code}"
    if "flowyml.yaml" not in output:
        return "the error does not point into flowyml.yaml"
    return None


@pytest.fixture
def fuzz_project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("FLOWYML_STACK", "FLOWYML_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "p.py").write_text(PIPELINE, encoding="utf-8")
    logger = logging.getLogger("flowyml")
    quiet = logging.NullHandler()  # the CLI adds its stderr handler only when the logger has none
    logger.addHandler(quiet)
    yield tmp_path
    logger.removeHandler(quiet)


SEEN: dict[str, int] = {}


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(case=cases())
def test_malformed_configs_never_crash_hang_or_pass_every_command(fuzz_project, case: Case) -> None:
    (fuzz_project / "flowyml.yaml").write_bytes(case.content)
    SEEN[case.label.split(":")[0]] = SEEN.get(case.label.split(":")[0], 0) + 1
    runner = CliRunner()
    for args in COMMANDS:
        start = time.monotonic()
        result = runner.invoke(cli, list(args), catch_exceptions=True)
        took = time.monotonic() - start
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise AssertionError(f"{case.label}: flowyml {' '.join(args)} raised {result.exception!r}") from result.exception
        problem = _expectation_met(case, args, result.exit_code, result.output)
        assert problem is None, f"{case.label}: flowyml {' '.join(args)}: {problem}\n{result.output}"
        assert took < 60, f"{case.label}: flowyml {' '.join(args)} took {took:.1f}s (a hang?)"  # generous: machines get loaded


def test_the_fuzz_covered_every_defect() -> None:
    """The strategy draws every kind of defect in a fuzz-sized sample, at least 200 configs in all.

    Drawn here, not read from the fuzz's run: in any test order (pytest -p randomly) this test checks
    the same thing (it used to skip when it ran before the fuzz). When the fuzz ran first, its own
    draws must cover every kind too.
    """
    drawn: dict[str, int] = {}

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])
    @given(case=cases())
    def draw(case: Case) -> None:
        drawn[case.label.split(":")[0]] = drawn.get(case.label.split(":")[0], 0) + 1

    draw()
    assert sum(drawn.values()) >= 200
    assert len(drawn) == 31, sorted(drawn)
    if SEEN:
        assert len(SEEN) == 31, sorted(SEEN)


SAMPLE = [
    Case("type", _file("    orchestrator: { type: null }\n" + STORE).encode(), "stack"),
    Case("string-option", _file(ORCH + "    artifact_store: { type: local, path: ['a'] }\n").encode(), "options"),
    Case("count", _file("    orchestrator: { type: local, max_parallel_steps: -1 }\n" + STORE).encode(), "options"),
    Case("reference", _file(ORCH + "    artifact_store: { type: local, path: '${1BAD}' }\n").encode(), "stack"),
    Case("latin-1", _file(ORCH + STORE).replace("./target-store", "./café").encode("latin-1"), "document"),
    Case("deep-nesting", _file(ORCH + "    artifact_store: { type: local, path: " + "[" * 5000 + "]" * 5000 + " }\n").encode(), "document"),
]


@pytest.mark.parametrize("case", SAMPLE, ids=[c.label for c in SAMPLE])
def test_a_sample_on_the_real_executable(project, case: Case) -> None:
    (project.path / "flowyml.yaml").write_bytes(case.content)
    project.write("p.py", PIPELINE)
    for args in COMMANDS:
        done = project.cli(*args, timeout=120)  # a hang fails; a machine busy with other work must not
        problem = _expectation_met(case, args, done.returncode, done.stdout + done.stderr)
        assert problem is None, f"{case.label}: flowyml {' '.join(args)}: {problem}\n{done.stdout}{done.stderr}"
