"""``${VAR}`` references in flowyml.yaml: protected before parsing, resolved only for the stack used."""

from __future__ import annotations

import pytest

from flowyml.config.interpolation import malformed_reference, protect, references, resolve, restore
from flowyml.errors import InterpolationError


def res(value, env, path="stacks.s.orchestrator", lines=None):
    return resolve(value, stack="s", path=path, lines=lines or {}, file="flowyml.yaml", environ=env)


def test_protect_and_restore_round_trip_every_reference() -> None:
    text = "a: { project: ${GCP_PROJECT}, port: ${PORT:-80} }\nb: [x${A}y, ${B}]\n"
    protected, refs = protect(text)
    assert refs == ["${GCP_PROJECT}", "${PORT:-80}", "${A}", "${B}"]
    assert "${" not in protected and "__flowyml_ref_0__" in protected and "__flowyml_ref_3__" in protected
    parsed = {"a": {"project": "__flowyml_ref_0__", "port": "__flowyml_ref_1__"}, "b": ["x__flowyml_ref_2__y", "__flowyml_ref_3__"], "__flowyml_ref_0__": 1, "n": 5}
    assert restore(parsed, refs) == {"a": {"project": "${GCP_PROJECT}", "port": "${PORT:-80}"}, "b": ["x${A}y", "${B}"], "${GCP_PROJECT}": 1, "n": 5}


def test_protect_leaves_other_dollars_alone() -> None:
    protected, refs = protect("price: $5 and ${1BAD} and ${}")
    assert refs == [] and protected == "price: $5 and ${1BAD} and ${}"


def test_references_finds_names_in_nested_values() -> None:
    assert references({"a": "${X}", "b": ["${Y:-1}", {"c": "p${Z}q"}], "d": 3, "e": None}) == ["X", "Y", "Z"]
    assert references("no refs") == [] and references(7) == []


def test_a_whole_reference_takes_the_yaml_type() -> None:
    env = {"PORT": "8080", "ON": "true", "RATE": "0.5", "NAME": "svc", "LIST": "[1, 2]"}
    assert res("${PORT}", env) == 8080
    assert res("${ON}", env) is True
    assert res("${RATE}", env) == 0.5
    assert res("${NAME}", env) == "svc"
    assert res("${LIST}", env) == "[1, 2]"  # only scalars are typed
    assert res("${PORT}x", env) == "8080x"  # inside a longer string: text


def test_a_whole_reference_that_is_not_valid_yaml_stays_text() -> None:
    assert res("${V}", {"V": "a: b: c"}) == "a: b: c"
    assert res("${V}", {"V": "[unclosed"}) == "[unclosed"


def test_defaults_apply_when_unset_or_empty() -> None:
    assert res("${PORT:-9000}", {}) == 9000
    assert res("${PORT:-9000}", {"PORT": ""}) == 9000  # empty counts as unset when there is a default
    assert res("${PORT:-9000}", {"PORT": "1"}) == 1
    assert res("${EMPTY}", {"EMPTY": ""}) == ""  # set but empty, no default: empty
    assert res("${X:-}", {}) == ""
    assert res("a${X:-b}c${Y:-d}", {"Y": "e"}) == "abce"


def test_nested_options_are_resolved_with_their_paths() -> None:
    value = {"project": "${P}", "labels": ["${L:-x}", "plain"], "n": 3, "deep": {"k": "${P}-1"}}
    assert res(value, {"P": "proj"}) == {"project": "proj", "labels": ["x", "plain"], "n": 3, "deep": {"k": "proj-1"}}


def test_an_unset_variable_names_itself_the_stack_the_path_and_the_line() -> None:
    lines = {"stacks.s.orchestrator.labels[1]": 12}
    with pytest.raises(InterpolationError) as info:
        res({"labels": ["ok", "${MISSING_VAR}"]}, {}, lines=lines)
    err = info.value
    assert err.message == "flowyml.yaml:12 stacks.s.orchestrator.labels[1]: environment variable MISSING_VAR is not set (used by stack 's')"
    with pytest.raises(InterpolationError, match="environment variable DEEP is not set") as info:
        res({"a": {"b": "${DEEP}"}}, {}, lines={"stacks.s.orchestrator.a.b": 4})
    assert "stacks.s.orchestrator.a.b" in str(info.value) and "flowyml.yaml:4" in str(info.value)


def test_values_without_references_are_returned_as_they_are() -> None:
    for value in (None, 3, 2.5, True, "plain", "$HOME", ["a"], {}):
        assert res(value, {}) == value


def test_the_process_environment_is_the_default(monkeypatch) -> None:
    monkeypatch.setenv("FLOWYML_TEST_INTERP", "from-env")
    assert resolve("${FLOWYML_TEST_INTERP}", stack="s", path="p", lines={}, file=None) == "from-env"


# -- finding and parsing flowyml.yaml ------------------------------------------------------------

def test_parse_text_records_the_line_of_every_key_and_item() -> None:
    from flowyml.config.source import parse_text

    text = "stacks:\n  s:\n    orchestrator: { type: local, project: ${P} }\n    tags:\n      - a\n      - ${T}\nactive_stack: s\n"
    data, lines = parse_text(text, file="f.yaml")
    assert data == {"stacks": {"s": {"orchestrator": {"type": "local", "project": "${P}"}, "tags": ["a", "${T}"]}}, "active_stack": "s"}
    assert lines == {
        "stacks": 1, "stacks.s": 2, "stacks.s.orchestrator": 3, "stacks.s.orchestrator.type": 3,
        "stacks.s.orchestrator.project": 3, "stacks.s.tags": 4, "stacks.s.tags[0]": 5, "stacks.s.tags[1]": 6, "active_stack": 7,
    }


def test_parse_text_errors_name_the_line() -> None:
    from flowyml.config.source import parse_text
    from flowyml.errors import ConfigError

    with pytest.raises(ConfigError, match="invalid YAML") as info:
        parse_text("stacks:\n  s:\n    orchestrator: { type: local\n", file="f.yaml")
    assert info.value.line == 4 and info.value.file == "f.yaml"
    with pytest.raises(ConfigError, match="the top level must be a mapping") as info:
        parse_text("- a\n- b\n", file="f.yaml")
    assert info.value.line == 1
    assert parse_text("", file="f.yaml") == ({}, {})
    assert parse_text("# only a comment\n") == ({}, {})


def test_find_config_walks_up_and_honours_the_env_var(tmp_path, monkeypatch) -> None:
    from flowyml.config.source import find_config
    from flowyml.errors import ConfigError

    (tmp_path / "flowyml.yml").write_text("stacks: {}\n")
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    assert find_config(deep) == (tmp_path / "flowyml.yml").resolve()
    (tmp_path / "a" / "flowyml.yaml").write_text("stacks: {}\n")
    assert find_config(deep) == (tmp_path / "a" / "flowyml.yaml").resolve()  # the nearest wins
    other = tmp_path / "elsewhere.yaml"
    other.write_text("stacks: {}\n")
    monkeypatch.setenv("FLOWYML_CONFIG", str(other))
    assert find_config(deep) == other.resolve()
    monkeypatch.setenv("FLOWYML_CONFIG", str(tmp_path / "missing.yaml"))
    with pytest.raises(ConfigError, match="FLOWYML_CONFIG points at .*missing.yaml, which is not a file"):
        find_config(deep)
    monkeypatch.delenv("FLOWYML_CONFIG")
    assert find_config(tmp_path.parent) is None or find_config(tmp_path.parent) != (tmp_path / "flowyml.yml").resolve()


@pytest.mark.parametrize(
    ("text", "quoted"),
    [
        ("${", "${"),
        ("${}", "${}"),
        ("${} and more", "${}"),
        ("x${y", "${y"),
        ("${A B}", "${A B}"),
        ("${OK} ${1BAD}", "${1BAD}"),  # a valid reference before it is skipped
        ("${1BAD ${OK}", "${1BAD "),  # ...and one inside it is not shown
        ("${1A} ${2B}", "${1A}"),  # the first bad one
        ("a}${1BAD}", "${1BAD}"),  # a `}` before it does not end it
        ("${1BAD} x}", "${1BAD}"),  # it ends at its own `}`
        ("${" + "-" * 37 + "}", "${" + "-" * 37 + "}"),  # 40 characters: shown whole
        ("${" + "-" * 38 + "}", "${----------"),  # 41: cut to 12
        ("${ unterminated and long", "${ untermina"),
        ("$${A}{", None),  # a literal `$` before a valid reference and a `{` after it: nothing malformed
        ("$${A}{ ${1BAD}", "${1BAD}"),  # ...even next to a malformed one
        ("${A}${", "${"),  # a stray `${` right after a valid one
        ("no reference", None),
        ("${OK} and ${OK:-default}", None),
    ],
)
def test_malformed_reference_quotes_the_first_bad_reference(text: str, quoted: str | None) -> None:
    """What the "malformed reference" error quotes: the bad ``${...}`` itself, cut at 12 characters when long or unterminated."""
    assert malformed_reference(text) == quoted


def test_list_items_are_resolved_from_the_given_environment(monkeypatch) -> None:
    monkeypatch.delenv("ONLY_GIVEN", raising=False)
    assert res({"hosts": ["${ONLY_GIVEN}", "b"]}, {"ONLY_GIVEN": "a"}) == {"hosts": ["a", "b"]}
