"""Reading flowyml.yaml's bytes: text that is not UTF-8, a document that is not a mapping, no file at all.

In process, through flowyml.config.source.load_source and flowyml.config.loader.load_project (the CLI
tests of the same messages in tests/reliability/test_config_reading.py run `flowyml` in a subprocess,
which mutation testing cannot use).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from flowyml.config.loader import load_project
from flowyml.config.source import ConfigSource, load_source
from flowyml.errors import ConfigError


def refused(path: Path) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_source(path)
    return info.value


def test_a_latin1_byte_is_named_with_its_offset_line_and_file(tmp_path: Path) -> None:
    """The bad byte is on line 2 (after a leading blank line), with two more lines after it."""
    path = tmp_path / "flowyml.yaml"
    path.write_bytes(b"\n# caf\xe9\nstacks: {}\nactive_stack: local\n")
    error = refused(path)
    assert str(error) == (
        f"{path}:2: the file is not UTF-8 text: byte 0xe9 at offset 6 cannot be decoded\n"
        "  hint: save flowyml.yaml as UTF-8 (it may be Latin-1 or a binary file)"
    )
    assert (error.file, error.line, error.path) == (str(path), 2, None)


def test_the_line_of_a_bad_byte_counts_the_newlines_before_it_only(tmp_path: Path) -> None:
    path = tmp_path / "flowyml.yaml"
    path.write_bytes(b"stacks:\n  local: {}\n# \xff\n\n\n\n")
    error = refused(path)
    assert (error.line, error.file) == (3, str(path))
    assert "byte 0xff at offset 22 cannot be decoded" in error.message


@pytest.mark.parametrize("bom", [b"\xff\xfe", b"\xfe\xff"], ids=["little-endian", "big-endian"])
def test_a_utf16_file_is_recognised_by_its_byte_order_mark(tmp_path: Path, bom: bytes) -> None:
    path = tmp_path / "flowyml.yaml"
    path.write_bytes(bom + "stacks: {}\n".encode("utf-16-le" if bom == b"\xff\xfe" else "utf-16-be"))
    error = refused(path)
    assert str(error) == (
        f"{path}:1: the file is not UTF-8 text: byte 0x{bom[:1].hex()} at offset 0 cannot be decoded\n"
        "  hint: save flowyml.yaml as UTF-8 (it looks like UTF-16)"
    )


def test_a_utf8_byte_order_mark_is_not_part_of_the_text(tmp_path: Path) -> None:
    path = tmp_path / "flowyml.yaml"
    path.write_bytes(b"\xef\xbb\xbfactive_stack: local\nstacks: {local: {}}\n")
    assert load_source(path).data == {"active_stack": "local", "stacks": {"local": {}}}


@pytest.mark.parametrize(("text", "kind"), [("- local\n- gpu\n", "list"), ("just text\n", "text")])
def test_a_document_that_is_not_a_mapping_is_refused_at_line_one_of_the_file(tmp_path: Path, text: str, kind: str) -> None:
    path = tmp_path / "flowyml.yaml"
    path.write_text(text, encoding="utf-8")
    error = refused(path)
    assert str(error) == f"{path}:1: the top level must be a mapping (stacks:, active_stack:)"
    assert (error.file, error.line) == (str(path), 1)


def test_no_file_is_an_empty_source_without_lines() -> None:
    source = load_source(None)
    assert source == ConfigSource(None, {}, {})
    assert (source.data, source.lines, source.file, source.line("stacks")) == ({}, {}, None, None)


def test_load_project_reads_the_file_of_the_folder_it_is_given_not_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FLOWYML_CONFIG", raising=False)
    (tmp_path / "here").mkdir()
    (tmp_path / "here" / "flowyml.yaml").write_text("stacks:\n  cwd: {}\n", encoding="utf-8")
    project_dir = tmp_path / "elsewhere" / "sub"
    project_dir.mkdir(parents=True)
    (tmp_path / "elsewhere" / "flowyml.yaml").write_text("stacks:\n  given: {}\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path / "here")
    project = load_project(project_dir)
    assert project.names == ("given",)
    assert project.file == tmp_path / "elsewhere" / "flowyml.yaml"
