"""Names that become paths cannot write outside the project folder and the store roots.

A fuzz over every name a user declares (Model name and version, endpoint
name, step, output, pipeline and artifact names): each either is refused
where it is declared with a clear error, or works; and in both cases no file
or folder carrying the fuzz marker appears outside the project folder.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowyml import Dataset, Model, Pipeline, pipeline, step
from flowyml.errors import DeploymentError, FlowymlError, InvalidNameError, RoutingError
from flowyml.naming import MAX_NAME_LENGTH, check_name, name_problem

#: Every fuzzed name carries it, so whatever a name creates can be found. The hyphen keeps it out of
#: every name ``tempfile`` makes (letters, digits, ``_``): the search below also looks in the shared
#: /tmp, and removes what it finds there; a bare "fzq" once matched pip's /tmp/tmpntfe7fzq.whl while
#: another part of the suite was building a wheel, and deleted it.
MARK = "fzq-mark"

HOSTILE = [
    "..", ".", "../" + MARK, "../../" + MARK, "../../../../../../../../tmp/" + MARK, "/tmp/" + MARK, "/" + MARK,
    "..\\" + MARK, "C:" + MARK, "a/../../" + MARK, MARK + "\0x", MARK + "\n", MARK + "\x1b[31m", MARK + "\u202e",
    " " + MARK, MARK + "/", "~/" + MARK, MARK * 30, MARK + "\u2028",
]

names = st.one_of(
    st.sampled_from(HOSTILE),
    st.builds(lambda a, b: a + MARK + b, st.text(max_size=12), st.text(max_size=12)),
    st.builds(lambda a, b: a + MARK + b, st.sampled_from(["", "../", "/", "..", "\\", "./"]), st.text(alphabet="./\\\0\n abc", max_size=8)),
)

FUZZ = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

STACK = """
stacks:
  local:
    orchestrator: {{ type: local }}
    artifact_store: {{ type: local, path: ./artifacts }}
    model_registry: {{ type: local }}
    model_deployer: {{ type: local, startup_timeout: 30 }}
    artifact_routing:
      Model: {{ register: true, path: "{{pipeline_name}}/{{name}}/{{version}}/{{run_id}}" }}
      Dataset: {{ path: "{{pipeline_name}}/{{run_id}}/{{name}}" }}
{extra}active_stack: local
"""


class Sandbox:
    """A project deep inside tmp_path: '../' from it stays inside tmp_path, where it can be seen."""

    def __init__(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.root = tmp_path
        self.count = 0
        self.monkeypatch = monkeypatch
        self.project = tmp_path

    def new_project(self, extra: str = "") -> Path:
        self.count += 1
        self.project = self.root / "a" / "b" / "c" / f"project{self.count}"
        self.project.mkdir(parents=True)
        (self.project / "flowyml.yaml").write_text(STACK.format(extra=extra), encoding="utf-8")
        self.monkeypatch.chdir(self.project)
        return self.project

    def escaped(self) -> list[str]:
        """Paths carrying the marker outside every project folder (tmp_path, its ancestors, /tmp, home)."""
        found = []
        for folder, dirs, files in os.walk(self.root):
            if Path(folder).name.startswith("project") and Path(folder).parent.name == "c":
                dirs[:] = []  # inside a project: allowed
                continue
            found += [os.path.join(folder, n) for n in dirs + files if MARK in n]
        for folder in {*self.root.parents, Path("/tmp"), Path.home()}:
            try:
                found += [str(folder / n) for n in os.listdir(folder) if MARK in n]
            except OSError:
                pass
        for path in found:  # reported by the failing assertion; not left behind
            if os.path.isfile(path) and not os.path.islink(path):
                os.unlink(path)
        return found


def test_the_marker_cannot_be_part_of_a_temporary_files_name() -> None:
    alphabet = set(tempfile._RandomNameSequence.characters)
    assert set(MARK) - alphabet, f"{MARK!r} could appear in a name tempfile makes, and be removed from /tmp by escaped()"
    assert len((MARK * 30).encode()) > MAX_NAME_LENGTH  # the long hostile name still tests the length limit


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    return Sandbox(tmp_path, monkeypatch)


def declare_or_refuse(declare: Callable[[], Any]) -> Any:
    """Run ``declare``; a refusal must be a FlowymlError naming why (never another exception)."""
    try:
        return declare()
    except InvalidNameError as exc:
        assert "cannot be used" in str(exc) and exc.hint
        return None


def run_ok_or_refused(sandbox: Sandbox, make_pipeline: Callable[[], Any]) -> None:
    sandbox.new_project()
    built = declare_or_refuse(make_pipeline)
    if built is not None:
        run = built.run()
        assert run.success, run.error
    assert sandbox.escaped() == []


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(name=names)
def test_model_names(sandbox: Sandbox, name: str) -> None:
    """Stored, registered, then deployed: the endpoint defaults to the model's name."""
    from flowyml.models import deploy_model

    def make():
        model = Model({"w": 1}, name=name, version="1")  # no predict(): its server exits at once

        @step
        def train() -> Model:
            return model

        @pipeline
        def p() -> None:
            train()

        return p

    run_ok_or_refused(sandbox, make)
    if name_problem(name) is None:
        with pytest.raises(DeploymentError, match="has no predict"):
            deploy_model(name, "1")
    assert sandbox.escaped() == []


@FUZZ
@given(version=names)
def test_model_versions(sandbox: Sandbox, version: str) -> None:
    def make():
        model = Model({"w": 1}, name="m", version=version)

        @step
        def train() -> Model:
            return model

        @pipeline
        def p() -> None:
            train()

        return p

    run_ok_or_refused(sandbox, make)


@FUZZ
@given(name=names)
def test_step_names(sandbox: Sandbox, name: str) -> None:
    def make():
        @step(name=name)
        def produce() -> Model:
            return Model({"w": 1}, name="m", version="1")

        @pipeline
        def p() -> None:
            produce()

        return p

    run_ok_or_refused(sandbox, make)


@FUZZ
@given(name=names)
def test_output_names(sandbox: Sandbox, name: str) -> None:
    def make():
        @step(outputs=[name, "other"])
        def produce():
            return Dataset([1]), Dataset([2])

        return Pipeline("outputs").add_step(produce)

    run_ok_or_refused(sandbox, make)


@FUZZ
@given(name=names)
def test_pipeline_names(sandbox: Sandbox, name: str) -> None:
    def make():
        @step
        def produce() -> Model:
            return Model({"w": 1}, name="m", version="1")

        @pipeline(name=name)
        def p() -> None:
            produce()

        return p

    run_ok_or_refused(sandbox, make)


@FUZZ
@given(name=names)
def test_artifact_names(sandbox: Sandbox, name: str) -> None:
    def make():
        data = Dataset([1, 2], name=name)

        @step
        def produce() -> Dataset:
            return data

        @pipeline
        def p() -> None:
            produce()

        return p

    run_ok_or_refused(sandbox, make)


def yaml_quoted(text: str) -> str:
    """A YAML double-quoted scalar holding exactly ``text`` (printable ASCII as is, the rest escaped)."""
    out = []
    for char in text:
        code = ord(char)
        if 0x20 <= code < 0x7F and char not in '"\\':
            out.append(char)
        elif code <= 0xFFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    return '"' + "".join(out) + '"'


@FUZZ
@given(name=names)
def test_endpoint_names_in_yaml(sandbox: Sandbox, name: str) -> None:
    sandbox.new_project()
    config = (sandbox.project / "flowyml.yaml").read_text()
    rule = f'      Model: {{ register: true, deploy: true, deploy_condition: manual, endpoint_name: {yaml_quoted(name)} }}\n'
    lines = [line for line in config.splitlines(keepends=True) if not line.startswith("      Model:")]
    at = next(i for i, line in enumerate(lines) if "Dataset:" in line)
    (sandbox.project / "flowyml.yaml").write_text("".join([*lines[:at], rule, *lines[at:]]))

    @step
    def train() -> Model:
        return Model({"w": 1}, name="m", version="1")

    @pipeline
    def p() -> None:
        train()

    run = None
    try:
        run = p.run()
    except RoutingError as exc:
        assert name_problem(name) is not None
        assert "endpoint_name" in str(exc) and "flowyml.yaml:" in str(exc) and "cannot be used" in str(exc)
    if run is not None:
        assert name_problem(name) is None and run.success, run.error
    assert sandbox.escaped() == []


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(name=names)
def test_endpoint_names_at_deploy(sandbox: Sandbox, name: str) -> None:
    """`flowyml model deploy --endpoint NAME`: the local deployer names its log file after the endpoint."""
    from flowyml.models import deploy_model

    sandbox.new_project()

    @step
    def train() -> Model:
        return Model({"w": 1}, name="m", version="1")  # no predict(): its server exits at once

    @pipeline
    def p() -> None:
        train()

    assert p.run().success
    with pytest.raises(DeploymentError) as info:
        deploy_model("m", "1", endpoint=name)
    if name_problem(name) is not None:
        assert "endpoint name" in str(info.value) and "cannot be used" in str(info.value)
    else:
        assert "has no predict() method" in str(info.value)
    assert sandbox.escaped() == []


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_names_are_refused_with_the_reason(name: str) -> None:
    with pytest.raises(InvalidNameError, match="cannot be used: it (contains|is|starts)|names a folder") as info:
        check_name(name, "model name")
    assert info.value.hint and isinstance(info.value, FlowymlError)


@pytest.mark.parametrize("name", ["fraud_detector", "1.0.0", "train-model", "v2.1+cpu", "Modèle été", "<lambda>", "a b"])
def test_ordinary_names_are_accepted(name: str) -> None:
    assert check_name(name, "model name") == name
