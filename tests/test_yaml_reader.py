"""flowyml.yaml's YAML reader in process: aliases, merge keys, duplicate keys and the lines it records.

The hostile-file tests in tests/reliability/test_config_reading.py show the CLI refusing an alias
bomb; these pin the reader's own decisions (the alias limit to the value, every message with its
line, the line recorded for each key), so a change in any of them fails here in milliseconds.
"""

from __future__ import annotations

import pytest
from support.yaml_errors import refused

from flowyml.config import yaml_reader
from flowyml.config.yaml_reader import Duplicate, read_yaml

# -- aliases ---------------------------------------------------------------------------------------

#: 10 values written; the aliases add 51: *a is 4 values ([x, x, x]), *b 13 (its list and 3 x *a),
#: c's list 3 x 13.
NESTED = "a: &a [x, x, x]\nb: &b [*a, *a, *a]\nc: [*b, *b, *b]\n"


def test_aliases_may_add_exactly_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yaml_reader, "MAX_ALIAS_EXPANSION", 51)
    data = read_yaml(NESTED, file="flowyml.yaml").data
    assert data["c"] == [[["x"] * 3] * 3] * 3


def test_one_value_beyond_the_limit_is_an_alias_bomb(monkeypatch: pytest.MonkeyPatch) -> None:
    """Bugs caught: ``>=`` for ``>``; the count replaced or decreased by each alias instead of summed."""
    monkeypatch.setattr(yaml_reader, "MAX_ALIAS_EXPANSION", 50)
    error = refused(NESTED)
    assert str(error) == (
        "flowyml.yaml:3: aliases expand to more than 50 values (an alias bomb?)\n"
        "  hint: use fewer nested aliases; write the values out"
    )
    assert error.line == 3


def test_a_large_file_may_alias_twice_its_own_values(monkeypatch: pytest.MonkeyPatch) -> None:
    """5 values written (the mapping, a, v, b, the list): 10 aliases of one scalar pass, 11 do not."""
    monkeypatch.setattr(yaml_reader, "MAX_ALIAS_EXPANSION", 1)
    assert read_yaml("a: &x v\nb: [" + ", ".join(["*x"] * 10) + "]\n", file=None).data["b"] == ["v"] * 10
    error = refused("a: &x v\nb: [" + ", ".join(["*x"] * 11) + "]\n")
    assert str(error).startswith("flowyml.yaml:2: aliases expand to more than 10 values (an alias bomb?)")


def test_a_recursive_alias_names_the_anchor_and_its_line() -> None:
    error = refused("stacks:\n  a: &loop\n    orchestrator: *loop\n")
    assert str(error) == (
        "flowyml.yaml:3: recursive alias *loop: it refers to the value that contains it\n"
        "  hint: aliases may only repeat a finished value"
    )
    assert error.line == 3


def test_an_alias_before_its_anchor_is_refused_with_its_line() -> None:
    error = refused("stacks:\n  a: *later\n  b: &later { orchestrator: { type: local } }\n")
    assert str(error) == "flowyml.yaml:2: alias *later refers to no anchor &later defined before it"
    assert error.line == 2


def test_an_alias_cannot_be_a_key() -> None:
    error = refused("name: &n local\nstacks:\n  *n : {}\n")
    assert str(error) == "flowyml.yaml:3: alias *n cannot be used as a key"
    assert error.line == 3


def test_an_aliased_mapping_in_a_list_is_the_mapping_each_time() -> None:
    parsed = read_yaml("- &a {k: 1}\n- *a\n- *a\n", file=None)
    assert parsed.data == [{"k": 1}, {"k": 1}, {"k": 1}]
    assert parsed.lines == {"[0]": 1, "[0].k": 1, "[1]": 2, "[2]": 3}


# -- merge keys ------------------------------------------------------------------------------------


def test_keys_written_beside_a_merge_win_and_merged_keys_get_the_merge_line() -> None:
    parsed = read_yaml("base: &b {x: 1, y: 2}\nc:\n  <<: *b\n  y: 3\n", file=None)
    assert parsed.data["c"] == {"x": 1, "y": 3}
    assert parsed.lines == {"base": 1, "base.x": 1, "base.y": 1, "c": 2, "c.y": 4, "c.x": 3}


def test_a_merged_list_of_mappings_lets_the_first_mapping_win() -> None:
    parsed = read_yaml("c:\n  <<: [{x: 1, y: 1}, {y: 2, z: 2}]\n", file=None)
    assert parsed.data == {"c": {"x": 1, "y": 1, "z": 2}}
    assert {k: v for k, v in parsed.lines.items() if not k.startswith("c[")} == {"c": 1, "c.x": 2, "c.y": 2, "c.z": 2}


def test_merges_at_the_top_level_record_plain_key_names() -> None:
    parsed = read_yaml("x: &m {active_stack: s}\n<<: *m\n", file=None)
    assert parsed.data == {"x": {"active_stack": "s"}, "active_stack": "s"}
    assert parsed.lines == {"x": 1, "x.active_stack": 1, "active_stack": 2}


def test_an_anchored_mapping_given_to_a_merge_keeps_the_merging_path() -> None:
    parsed = read_yaml("c:\n  <<: &m {x: 1}\n  y: 2\n", file=None)
    assert parsed.data == {"c": {"x": 1, "y": 2}}
    assert parsed.lines == {"c": 1, "c.x": 2, "c.y": 3}


@pytest.mark.parametrize("merged", ["5", "[{x: 1}, 5]", "[1, 2]"])
def test_merging_something_that_is_not_a_mapping_is_refused_with_its_line(merged: str) -> None:
    error = refused(f"stacks:\n  c:\n    <<: {merged}\n")
    assert str(error) == "flowyml.yaml:3: `<<:` merges a mapping (or a list of mappings) into this one"
    assert error.line == 3


# -- paths and lines of keys -----------------------------------------------------------------------


def test_anchored_mappings_record_the_full_path_of_their_keys() -> None:
    parsed = read_yaml("base: &b\n  x: 1\nstacks:\n  s: &s\n    y: 2\n  t: [&l [1]]\n", file=None)
    assert parsed.lines == {"base": 1, "base.x": 2, "stacks": 3, "stacks.s": 4, "stacks.s.y": 5, "stacks.t": 6, "stacks.t[0]": 6, "stacks.t[0][0]": 6}


def test_a_key_written_three_times_names_each_pair_of_lines() -> None:
    parsed = read_yaml("a: 1\nb: {}\na: 2\na: 3\n", file=None)
    assert parsed.data == {"a": 3, "b": {}}
    assert parsed.duplicates == [Duplicate("a", "a", 1, 3), Duplicate("a", "a", 3, 4)]
    assert parsed.lines["a"] == 4  # the line of the value that is used


def test_a_nested_duplicate_records_its_dotted_path_and_last_line() -> None:
    parsed = read_yaml("stacks:\n  s:\n    orchestrator: {type: local}\n    orchestrator: {type: other}\n", file=None)
    assert parsed.duplicates == [Duplicate("stacks.s.orchestrator", "orchestrator", 3, 4)]
    assert parsed.lines["stacks.s.orchestrator"] == 4 and parsed.data["stacks"]["s"]["orchestrator"] == {"type": "other"}


def test_a_control_character_after_a_leading_blank_line_is_on_line_two() -> None:
    error = refused("\nstacks: \x07\n")
    assert error.line == 2 and str(error).startswith("flowyml.yaml:2: invalid YAML: control characters are not allowed")


# -- documents and text the parser refuses ---------------------------------------------------------


def test_a_second_document_after_a_scalar_document_is_refused() -> None:
    """The reader keeps reading after a document that is one scalar (tests/test_yaml_documents.py: after mappings)."""
    error = refused("just text\n---\nmore text\n")
    assert (error.line, error.message) == (2, "flowyml.yaml:2: flowyml.yaml holds more than one YAML document (a second `---`)")


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        ("stacks:\n  a: b: c\n", 2, "mapping values are not allowed in this context"),  # a problem without a context
        ("stacks:\n  - a\n  b: c\n", 3, "did not find expected '-' indicator"),
    ],
)
def test_invalid_yaml_names_the_parser_s_problem_and_line(text: str, line: int, problem: str) -> None:
    error = refused(text)
    assert str(error) == f"flowyml.yaml:{line}: invalid YAML: {problem}\n  hint: check the indentation and quoting around that line"
    assert error.line == line


def test_flow_nesting_beyond_the_parser_s_own_limit_says_so() -> None:
    """libyaml stops at its own depth while it scans ahead, before the reader sees an event."""
    error = refused("stacks: " + "[" * 2000 + "]" * 2000 + "\n")
    assert str(error) == (
        "flowyml.yaml:1: invalid YAML: nesting deeper than the parser allows (exceeded maximum nesting depth)\n"
        "  hint: check the indentation and quoting around that line"
    )


def test_a_control_character_is_on_its_own_line_whatever_follows_it() -> None:
    error = refused("a: 1\nb: \x07\nc: 3\nd: 4\n")
    assert str(error) == (
        "flowyml.yaml:2: invalid YAML: control characters are not allowed (character 8)\n"
        "  hint: remove control characters; flowyml.yaml must be plain UTF-8 text"
    )


# -- tags and keys of mappings and lists -----------------------------------------------------------


def test_mappings_and_lists_with_their_standard_tags_are_read() -> None:
    parsed = read_yaml("a: !!map {x: 1}\nb: !!seq [1]\nc: ! {y: 2}\nd: ! [3]\n", file=None)
    assert parsed.data == {"a": {"x": 1}, "b": [1], "c": {"y": 2}, "d": [3]}
    assert parsed.lines == {"a": 1, "a.x": 1, "b": 2, "b[0]": 2, "c": 3, "c.y": 3, "d": 4, "d[0]": 4}


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("!custom {orchestrator: {type: local}}", "!custom"),
        ("!!set {a, b}", "tag:yaml.org,2002:set"),
        ("!!omap [{a: 1}]", "tag:yaml.org,2002:omap"),
        ("!!seq {a: 1}", "tag:yaml.org,2002:seq"),  # a list's tag on a mapping
        ("!!map [1]", "tag:yaml.org,2002:map"),  # and a mapping's on a list
    ],
)
def test_a_tagged_mapping_or_list_is_refused_with_its_line(value: str, shown: str) -> None:
    error = refused(f"stacks:\n  local:\n    orchestrator: {value}\n")
    assert str(error) == f"flowyml.yaml:3: the YAML tag {shown} is not supported in flowyml.yaml\n  hint: remove the tag"
    assert error.line == 3


def test_nesting_is_read_to_the_limit_and_refused_one_level_deeper() -> None:
    deepest = read_yaml("[" * yaml_reader.MAX_DEPTH + "]" * yaml_reader.MAX_DEPTH + "\n", file=None).data
    for _ in range(yaml_reader.MAX_DEPTH - 1):
        (deepest,) = deepest
    assert deepest == []
    error = refused("\n" + "[" * (yaml_reader.MAX_DEPTH + 1) + "]" * (yaml_reader.MAX_DEPTH + 1) + "\n")
    assert str(error) == (
        f"flowyml.yaml:2: nesting deeper than {yaml_reader.MAX_DEPTH} levels\n"
        "  hint: flowyml.yaml needs a few levels only; this looks like a generated or hostile file"
    )
    assert error.line == 2


# -- what aliases add ------------------------------------------------------------------------------


#: 15 values written before the aliases (the mapping, 7 keys, the list of 5, v, the anchored list
#: and w, d's list), so aliases may add 30: fifteen *y (the list and w, 2 each) pass, sixteen do not.
LATE_ANCHOR = "a: [1, 2, 3, 4, 5]\nb: &x v\nc: &y [w]\nd: [{}]\n"


def test_the_values_before_an_anchored_list_count_towards_the_alias_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yaml_reader, "MAX_ALIAS_EXPANSION", 1)
    assert read_yaml(LATE_ANCHOR.format(", ".join(["*y"] * 15)), file=None).data["d"] == [["w"]] * 15
    error = refused(LATE_ANCHOR.format(", ".join(["*y"] * 16)))
    assert str(error).startswith("flowyml.yaml:4: aliases expand to more than 30 values (an alias bomb?)")


#: 10 values written; two aliases of a scalar add 2 before the anchored list (its list and x: 2
#: each), so nine *l reach the limit of 20 and ten pass it.
ALIASES_BEFORE = "a: &s v\nb: [*s, *s]\nc: &l [x]\nd: [{}]\n"


def test_an_anchored_list_weighs_its_own_values_whatever_aliases_came_before(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yaml_reader, "MAX_ALIAS_EXPANSION", 1)
    assert read_yaml(ALIASES_BEFORE.format(", ".join(["*l"] * 9)), file=None).data["d"] == [["x"]] * 9
    error = refused(ALIASES_BEFORE.format(", ".join(["*l"] * 10)))
    assert str(error).startswith("flowyml.yaml:4: aliases expand to more than 20 values (an alias bomb?)")
