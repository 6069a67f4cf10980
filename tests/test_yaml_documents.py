"""flowyml.yaml is one YAML document whose keys are plain names: what the reader refuses, and where."""

from __future__ import annotations

import pytest
from support.yaml_errors import refused

from flowyml.config.yaml_reader import read_yaml


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("stacks:\n  local: {}\n---\nstacks:\n  gcp: {}\n", 3),
        ("---\nactive_stack: local\n---\n", 3),
        ("a: 1\n\n\n--- \nb: 2\n", 4),
    ],
)
def test_a_second_document_is_refused_at_its_line(text: str, line: int) -> None:
    """Bug caught: a second `---` silently dropped (or its stacks merged over the first) instead of refused."""
    error = refused(text)
    assert (error.line, error.file) == (line, "flowyml.yaml")
    assert error.message == f"flowyml.yaml:{line}: flowyml.yaml holds more than one YAML document (a second `---`)"
    assert error.hint == "keep one document: remove the `---` line and merge the stacks"


def test_one_document_with_or_without_a_start_marker_is_read() -> None:
    assert read_yaml("---\na: 1\n", file=None).data == {"a": 1}
    assert read_yaml("a: [1, {b: 2}]\n", file=None).data == {"a": [1, {"b": 2}]}


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("stacks:\n  ? {a: 1}\n  : x\n", 2),
        ("stacks:\n  ? [a, b]\n  : x\n", 2),
        ("top:\n  inner:\n    ? - a\n    : x\n", 3),
        ("{? {a: 1} : x}\n", 1),
    ],
)
def test_a_mapping_or_list_as_a_key_is_refused(text: str, line: int) -> None:
    """Bug caught: a collection used as a key taken in (kept under a placeholder key) instead of refused."""
    error = refused(text)
    assert (error.line, error.file) == (line, "flowyml.yaml")
    assert error.message == f"flowyml.yaml:{line}: a mapping or list cannot be a key"
    assert error.hint == "keys in flowyml.yaml are plain names"
