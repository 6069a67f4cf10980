"""Fixtures for tests that check the metadata store on both engines (import them into the test module).

``url``: a SQLite file in the test's folder, or a fresh database of the session's PostgreSQL cluster
(tests/standins/postgres.py); ``store``: a :class:`MetadataStore` opened on it.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from flowyml.metadata.store import MetadataStore


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'shared' / 'metadata.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def store(url: str, tmp_path: Path) -> Iterator[MetadataStore]:
    opened = MetadataStore(url, project_dir=tmp_path)
    yield opened
    opened.close()


def free_port() -> int:
    """A TCP port of 127.0.0.1 nothing listens on (at the time of asking)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
