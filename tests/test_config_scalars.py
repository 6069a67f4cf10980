"""How flowyml.yaml's scalars become values: tags, dates, quoting, and the messages for tags it refuses.

The YAML reader (flowyml.config.yaml_reader) builds scalars itself from the parser's events; these
tests pin each of its decisions on one-line documents, in process, so mutation testing runs them
per mutant in milliseconds.
"""

from __future__ import annotations

import pytest
from support.yaml_errors import refused

from flowyml.config.yaml_reader import read_yaml


def value(text: str) -> object:
    return read_yaml(f"key: {text}\n", file="flowyml.yaml").data["key"]


@pytest.mark.parametrize(
    ("written", "parsed"),
    [
        ("!!str 12", "12"),  # an explicit tag wins over what the text looks like
        ("!!str true", "true"),
        ("!!int '12'", 12),  # ...also on a quoted scalar
        ("!!float 3", 3.0),
        ("! hello", "hello"),  # the non-specific tag `!` is no tag: the plain scalar is resolved as usual
        ("'12'", "12"),
        ("12", 12),
        ("2020-01-01", "2020-01-01"),  # a date stays the text written: options take strings, not datetimes
        ("2001-12-14t21:59:43.10-05:00", "2001-12-14t21:59:43.10-05:00"),
    ],
)
def test_a_scalar_is_the_value_its_tag_or_its_text_says(written: str, parsed: object) -> None:
    got = value(written)
    assert got == parsed and type(got) is type(parsed)


@pytest.mark.parametrize("tag", ["!custom", "!!timestamp", "!!binary"])
def test_a_tag_flowyml_does_not_read_is_refused_with_its_line_and_a_hint(tag: str) -> None:
    """``!!timestamp`` and ``!!binary`` are tags PyYAML's safe loader would construct (a datetime, bytes)."""
    error = refused(f"stacks:\n  local:\n    orchestrator: {tag} 2020-01-01\n")
    shown = tag if tag.startswith("!c") else "tag:yaml.org,2002:" + tag[2:]
    assert str(error) == (
        f"flowyml.yaml:3: the YAML tag {shown} is not supported in flowyml.yaml\n"
        "  hint: remove the tag: write plain values"
    )
    assert (error.line, error.file, error.hint) == (3, "flowyml.yaml", "remove the tag: write plain values")


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("!!int abc", "invalid int value 'abc': invalid literal for int() with base 10: 'abc'"),
        ("!!float x1", "invalid float value 'x1': could not convert string to float: 'x1'"),
        ("!!bool maybe", "invalid bool value 'maybe': write true or false"),
        ('!!int ""', "invalid int value ''"),  # PyYAML read its first character: an IndexError traceback before
        ('!!float ""', "invalid float value ''"),
        ('!!bool ""', "invalid bool value '': write true or false"),
    ],
)
def test_a_value_its_tag_cannot_read_is_refused_with_the_type_and_its_line(written: str, message: str) -> None:
    error = refused(f"stacks:\n  local: {written}\n")
    assert str(error) == f"flowyml.yaml:2: {message}"
    assert (error.line, error.file, error.hint) == (2, "flowyml.yaml", None)


def test_without_restore_a_string_that_looks_like_a_reference_token_is_kept() -> None:
    """``restore`` is optional: a reader given none must not call it (the token text is just text then)."""
    assert read_yaml("a: x__flowyml_ref_0__\n", file=None).data == {"a": "x__flowyml_ref_0__"}


def test_restore_puts_references_back_into_strings_only() -> None:
    data = read_yaml("a: __flowyml_ref_0__\nb: plain\nc: 1\n", file=None, restore=lambda text: text.replace("__flowyml_ref_0__", "${A}")).data
    assert data == {"a": "${A}", "b": "plain", "c": 1}
