"""The ``metadata:`` section of flowyml.yaml, checked and resolved without opening a database.

Fast tests of flowyml.config.metadata_setting: what each mistake is called and
where it points, how ``${VAR}`` references resolve, that a password never shows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from flowyml.config.metadata_setting import MetadataSetting, build_metadata_setting
from flowyml.errors import ConfigError, InterpolationError

LINES = {"metadata": 2, "metadata.url": 3, "metadata.uri": 4}
EXAMPLE = "e.g. metadata: { url: ${FLOWYML_METADATA_URL} } or metadata: { url: postgresql://user@host:5432/flowyml }"


def build(raw: Any) -> MetadataSetting:
    return build_metadata_setting(raw, LINES.get, "flowyml.yaml")


def refused(raw: Any) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        build(raw)
    return caught.value


def test_no_section_and_no_url_are_the_embedded_database(tmp_path: Path) -> None:
    assert build(None) == MetadataSetting(url=None, line=None, file="flowyml.yaml")
    assert build({}) == MetadataSetting(url=None, line=3, file="flowyml.yaml")
    assert build({"url": None}).resolve(tmp_path).path == (tmp_path / ".flowyml" / "metadata.db").resolve()


def test_a_section_that_is_not_a_mapping_is_refused_with_an_example() -> None:
    error = refused("postgresql://h/db")
    assert (error.path, error.line, error.file, error.hint) == ("metadata", 2, "flowyml.yaml", EXAMPLE)
    assert error.message.endswith("metadata must be a mapping with a `url:`, got 'postgresql://h/db'")


def test_an_unknown_key_is_refused_at_its_line() -> None:
    error = refused({"url": "sqlite:///m.db", "uri": "x"})
    assert (error.path, error.line, error.hint) == ("metadata.uri", 4, "the metadata section takes `url:` only")
    assert error.message.endswith("unknown metadata key 'uri'")


def test_a_url_that_is_not_text_is_refused() -> None:
    error = refused({"url": 5432})
    assert (error.path, error.line, error.hint) == ("metadata.url", 3, EXAMPLE)
    assert error.message.endswith("metadata.url must be a database URL (text), got a number (5432)")


def test_a_malformed_reference_is_refused() -> None:
    error = refused({"url": "postgresql://${USER@host/db"})
    assert (error.path, error.hint) == ("metadata.url", "write ${NAME} or ${NAME:-default}")
    assert error.message.endswith("malformed reference '${USER@host/'")


def test_a_literal_url_is_checked_when_the_file_is_read_without_its_password() -> None:
    error = refused({"url": "mysql://me:s3cret@host/db"})
    assert (error.path, error.line, error.file, error.hint) == ("metadata.url", 3, "flowyml.yaml", EXAMPLE)
    assert "s3cret" not in str(error) and "metadata.url 'mysql://me:***@host/db'" in error.message
    kept = build({"url": "sqlite:///history.db"})
    assert (kept.url, kept.line, kept.file) == ("sqlite:///history.db", 3, "flowyml.yaml")


def test_a_url_with_references_is_checked_when_it_is_resolved(tmp_path: Path) -> None:
    setting = build({"url": "${DB_URL}"})  # not resolved while the file is read
    assert setting.url == "${DB_URL}"
    url = setting.resolve(tmp_path, {"DB_URL": "postgresql://me:pw@db.example:6543/runs"})
    assert (url.dialect, url.host, url.port, url.user, url.password, url.database) == ("postgresql", "db.example", 6543, "me", "pw", "runs")
    assert build({"url": "sqlite:///${NAME:-fallback}.db"}).resolve(tmp_path, {}).path == (tmp_path / "fallback.db").resolve()
    assert build({"url": "${DB_URL:-}"}).resolve(tmp_path, {}).path == (tmp_path / ".flowyml" / "metadata.db").resolve()
    with pytest.raises(ConfigError) as caught:
        build({"url": "${DB_URL}"}).resolve(tmp_path, {"DB_URL": "oracle://u:topsecret@h/db"})
    assert "topsecret" not in str(caught.value) and caught.value.path == "metadata.url" and caught.value.line == 3


def test_an_unset_variable_says_which_and_how_to_fall_back(tmp_path: Path) -> None:
    with pytest.raises(InterpolationError) as caught:
        build({"url": "postgresql://${PGUSER:-me}@${PGHOST}/db"}).resolve(tmp_path, {})
    error = caught.value
    assert (error.path, error.line, error.file) == ("metadata.url", 3, "flowyml.yaml")
    assert error.message.endswith("environment variable PGHOST is not set (used by metadata.url)")
    assert error.hint == (
        "export PGHOST=postgresql://USER:PASSWORD@HOST:PORT/DATABASE, or write ${PGHOST:-} in flowyml.yaml "
        "to fall back to the embedded database"
    )


def test_without_an_environment_given_the_process_environment_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWYML_TEST_DB_URL", "sqlite:///from-process.db")
    assert build({"url": "${FLOWYML_TEST_DB_URL}"}).resolve(tmp_path).path == (tmp_path / "from-process.db").resolve()


def test_metadata_url_of_reads_the_given_project_with_the_given_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from support.projects import project_with_metadata_url

    from flowyml.config.metadata_setting import metadata_url_of

    project = project_with_metadata_url(tmp_path / "project", "${FLOWYML_TEST_DB_URL}")
    monkeypatch.chdir(tmp_path)  # not the project: the project's file is read, not the working folder's
    monkeypatch.setenv("FLOWYML_TEST_DB_URL", "sqlite:///from-process.db")
    given = metadata_url_of(project, {"FLOWYML_TEST_DB_URL": "sqlite:///given.db"})
    assert given.path == (project / "given.db").resolve()
    assert metadata_url_of(project).path == (project / "from-process.db").resolve()
