"""From a parsed flowyml.yaml to the typed project (flowyml.config.schema.build_project), through load_project.

Each test writes a small flowyml.yaml to a temporary folder and reads it in process: which section
ends up where, with which YAML path, line and file, and what a wrong one is called. The steps:
and metadata: sections' own checks are tested in tests/test_step_settings_sections.py and
tests/test_metadata_setting_section.py; these check that the project passes each its part of the file.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from flowyml.config.loader import load_project
from flowyml.config.metadata_setting import MetadataSetting
from flowyml.config.schema import ProjectConfig
from flowyml.core.settings import Origin
from flowyml.errors import ConfigError
from flowyml.plugins.kinds import Kind

SECTIONS = """\
steps:
  fit:
    retries: 2
    kube: { node_pool: big }
metadata:
  url: ${HISTORY_URL}
stacks:
  a:
    orchestrator: { type: kube }
  b:
    orchestrator: { type: local }
    steps:
      fit:
        timeout: 60
        kube: { node_pool: small }
"""


def load(tmp_path: Path, text: str) -> tuple[ProjectConfig, str]:
    path = tmp_path / "flowyml.yaml"
    path.write_text(text, encoding="utf-8")
    return load_project(tmp_path), str(path)


def refused(tmp_path: Path, text: str) -> tuple[ConfigError, str]:
    path = tmp_path / "flowyml.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_project(tmp_path)
    return info.value, str(path)


def test_the_top_level_steps_are_kept_with_their_paths_lines_and_file(tmp_path: Path) -> None:
    """``kube:`` is a section because a stack of the file uses a kube orchestrator."""
    project, file = load(tmp_path, SECTIONS)
    fit = project.steps["fit"]
    assert list(project.steps) == ["fit"]
    assert (fit.key, fit.path, fit.line, fit.values, fit.resources, fit.sections) == (
        "fit", "steps.fit", 2, {"retries": 2}, {}, {"kube": {"node_pool": "big"}}
    )
    assert fit.origins == {
        "retries": Origin(path="steps.fit.retries", line=3, file=file),
        "kube.node_pool": Origin(path="steps.fit.kube.node_pool", line=4, file=file),
    }


def test_a_stack_s_steps_may_use_the_section_of_another_stack_s_orchestrator(tmp_path: Path) -> None:
    project, file = load(tmp_path, SECTIONS)
    fit = project.stack("b").steps["fit"]
    assert list(project.stack("b").steps) == ["fit"] and project.stack("a").steps == {}
    assert (fit.path, fit.line, fit.values, fit.sections) == ("stacks.b.steps.fit", 13, {"timeout": 60}, {"kube": {"node_pool": "small"}})
    assert fit.origins == {
        "timeout": Origin(path="stacks.b.steps.fit.timeout", line=14, file=file),
        "kube.node_pool": Origin(path="stacks.b.steps.fit.kube.node_pool", line=15, file=file),
    }


def test_the_metadata_section_is_kept_unresolved_with_its_line_and_file(tmp_path: Path) -> None:
    project, file = load(tmp_path, SECTIONS)
    assert project.metadata == MetadataSetting("${HISTORY_URL}", 6, file)


def test_without_a_metadata_section_the_setting_still_names_the_file(tmp_path: Path) -> None:
    project, file = load(tmp_path, "stacks:\n  local: {}\n")
    assert project.metadata == MetadataSetting(None, None, file)
    assert project.steps == {} and project.stack("local").steps == {}


def test_a_wrong_metadata_section_fails_the_file_at_its_line(tmp_path: Path) -> None:
    error, file = refused(tmp_path, "stacks: {}\nmetadata:\n  url: 5\n")
    assert (error.path, error.line, error.file) == ("metadata.url", 3, file)
    assert error.message == f"{file}:3 metadata.url: metadata.url must be a database URL (text), got a number (5)"


def test_wrong_top_level_steps_fail_the_file_at_their_line(tmp_path: Path) -> None:
    error, file = refused(tmp_path, "stacks: {}\nsteps: [fit]\n")
    assert (error.path, error.line, error.file) == ("steps", 2, file)
    assert error.message == f"{file}:2 steps: steps must map step names to their settings, got a list"


def test_wrong_steps_of_a_stack_make_that_stack_invalid_with_their_line(tmp_path: Path) -> None:
    project, file = load(tmp_path, "stacks:\n  ok: {}\n  bad:\n    steps:\n      fit: { gpu: 1 }\n")
    assert list(project.stacks) == ["ok"]
    error = project.invalid["bad"]
    assert (error.path, error.line, error.file) == ("stacks.bad.steps.fit.gpu", 5, file)
    assert error.message == f"{file}:5 stacks.bad.steps.fit.gpu: unknown step setting 'gpu'"


def test_an_active_stack_in_a_file_without_stacks_says_there_are_none(tmp_path: Path) -> None:
    error, file = refused(tmp_path, "active_stack: gpu\n")
    assert (error.path, error.line) == ("active_stack", 1)
    assert error.message == f"{file}:1 active_stack: active_stack names 'gpu', which is not defined; stacks: (none)"


def test_a_literal_dollar_before_a_reference_is_no_malformed_reference(tmp_path: Path) -> None:
    """``$${A}{`` is a ``$``, the reference ``${A}`` and a ``{``: the file holds no malformed ``${``."""
    project, _ = load(tmp_path, 'stacks:\n  local:\n    orchestrator: { type: local, label: "$${A}{" }\n')
    assert project.stack("local").component(Kind.ORCHESTRATOR).options == {"label": "$${A}{"}


def test_a_duplicate_inside_a_stacks_section_written_twice_fails_the_whole_file(tmp_path: Path) -> None:
    """The first ``stacks:`` is replaced by the second, so its stack ``a`` owns no duplicate: the file is refused."""
    text = "stacks:\n  a:\n    orchestrator: { type: local }\n    orchestrator: { type: other }\nstacks:\n  b: {}\n"
    error, file = refused(tmp_path, text)
    assert (error.path, error.line, error.file) == ("stacks.a.orchestrator", 4, file)
    assert error.message == f"{file}:4 stacks.a.orchestrator: 'orchestrator' is written twice: lines 3 and 4"
