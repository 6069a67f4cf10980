"""Path templates, exactly: what each placeholder renders to and every way a template is refused."""

from __future__ import annotations

import pytest

from flowyml.errors import PathTemplateError
from flowyml.routing.paths import (
    DEFAULT_TEMPLATE,
    PLACEHOLDERS,
    check_template,
    normalise,
    placeholders_in,
    render,
)

VALUES = {"run_id": "r1", "step_name": "train", "artifact_name": "model", "pipeline_name": "p", "name": "fraud", "version": "1.0"}


def test_every_placeholder_renders_its_own_value() -> None:
    assert render("/".join("{" + p + "}" for p in PLACEHOLDERS), VALUES) == "r1/train/model/p/fraud/1.0"
    assert DEFAULT_TEMPLATE == "{pipeline_name}/{run_id}/{step_name}/{name}"
    assert render(DEFAULT_TEMPLATE, VALUES) == "p/r1/train/fraud"


def test_missing_values_render_as_none_except_version() -> None:
    assert render("{run_id}/{name}", {"run_id": "r1"}) == "r1/none"
    assert render("{run_id}/{name}", {"run_id": "r1", "name": ""}) == "r1/none"
    with pytest.raises(PathTemplateError, match=r"uses \{version\}, but 'fraud' has no version") as info:
        render("{name}/{version}", {**VALUES, "version": None})
    assert "path template '{name}/{version}'" in info.value.message
    with pytest.raises(PathTemplateError, match="'this model' has no version"):
        render("{version}", {"version": ""})
    assert render("{name}", {**VALUES, "version": None}) == "fraud"  # unused: no error


def test_values_cannot_add_segments_or_climb() -> None:
    assert render("{name}/x", {**VALUES, "name": "a/b\\c"}) == "a_b_c/x"
    assert render("{name}/x", {**VALUES, "name": "."}) == "_/x"
    assert render("{name}/x", {**VALUES, "name": ".."}) == "_/x"
    assert render("{name}/x", {**VALUES, "name": "..."}) == ".../x"
    assert render("{name}", {**VALUES, "name": 7}) == "7"


def test_normalise_drops_empty_and_dot_segments() -> None:
    assert normalise("a//b/./c/", "t") == "a/b/c"
    assert normalise("a\\b\\c", "t") == "a/b/c"
    assert normalise("./a", "t") == "a"


@pytest.mark.parametrize("rendered", ["/abs", "\\abs", "C:/x", "c:x"])
def test_absolute_paths_are_refused(rendered: str) -> None:
    with pytest.raises(PathTemplateError, match="renders an absolute path") as info:
        normalise(rendered, "T", "stacks.s: ")
    assert info.value.message == f"stacks.s: path template 'T' renders an absolute path ({rendered!r})"


def test_a_one_letter_path_is_not_a_drive() -> None:
    assert normalise("c", "t") == "c"
    assert normalise("ab:c", "t") == "ab:c"  # a colon further in is no drive
    with pytest.raises(PathTemplateError):
        normalise("c:", "t")


@pytest.mark.parametrize("rendered", ["..", "a/../b", "a/..", "..\\a"])
def test_climbing_out_is_refused(rendered: str) -> None:
    with pytest.raises(PathTemplateError) as info:
        normalise(rendered, "T")
    assert info.value.message == f"path {rendered!r} (from template 'T') would leave the artifact store's root"


@pytest.mark.parametrize("rendered", ["", ".", "./", "././"])
def test_empty_paths_are_refused(rendered: str) -> None:
    with pytest.raises(PathTemplateError) as info:
        normalise(rendered, "T", "w: ")
    assert info.value.message == "w: path template 'T' renders an empty path"


def test_check_template_names_the_unknown_placeholder_and_where() -> None:
    with pytest.raises(PathTemplateError) as info:
        check_template("{run_id}/{stage}", "stacks.s.Model")
    assert info.value.message == "stacks.s.Model: unknown placeholder {stage} in path template '{run_id}/{stage}'"
    assert "{run_id}" in info.value.hint and "{version}" in info.value.hint
    with pytest.raises(PathTemplateError) as info:
        check_template("/{run_id}", "w")
    assert info.value.message.startswith("w: path template '/{run_id}' renders an absolute path")
    with pytest.raises(PathTemplateError) as info:
        check_template("{run_id}/..")
    assert info.value.message.startswith("path '")
    check_template("{{literal}}/{run_id}")  # a literal brace is fine
    check_template("{run_id}")


def test_placeholders_in_lists_fields_and_refuses_malformed_templates() -> None:
    assert placeholders_in("{a}/x/{b}{{c}}") == ["a", "b"]
    assert placeholders_in("plain") == []
    with pytest.raises(PathTemplateError, match="is malformed") as info:
        placeholders_in("{run_id")
    assert info.value.message.startswith("path template '{run_id' is malformed: ")
    with pytest.raises(PathTemplateError, match="is malformed"):
        placeholders_in("run}")


def test_a_template_that_cannot_be_rendered_is_a_clear_error() -> None:
    with pytest.raises(PathTemplateError, match=r"cannot be rendered") as info:
        render("{nope}", VALUES)
    assert info.value.message.startswith("path template '{nope}' cannot be rendered: ")
    with pytest.raises(PathTemplateError, match="cannot be rendered"):
        render("{0}", VALUES)
    with pytest.raises(PathTemplateError, match="cannot be rendered"):
        render("{name!z}", VALUES)


def test_render_errors_name_the_template() -> None:
    with pytest.raises(PathTemplateError) as info:
        render("{run_id}/..", VALUES)
    assert info.value.message == "path 'r1/..' (from template '{run_id}/..') would leave the artifact store's root"
    with pytest.raises(PathTemplateError) as info:
        render("{name}/{version}", {"name": "m"})
    assert info.value.message == (
        "path template '{name}/{version}' uses {version}, but 'm' has no version: the registry numbers it only after the model is stored"
    )
