"""Where the metadata lives: the ``metadata.url`` of flowyml.yaml, parsed and shown without its password.

``sqlite:///relative/path.db`` (relative to the project folder),
``sqlite:////absolute/path.db``, or ``postgresql://user:password@host:port/db``
(``postgresql+psycopg://`` too). No URL is the embedded default,
``.flowyml/metadata.db`` in the project. This module imports no database
library: it is used while the configuration is checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from flowyml.redaction import MASK

__all__ = ["DEFAULT_FILE", "EMBEDDED", "DatabaseURL", "UrlProblem", "parse_database_url"]

#: The embedded default, relative to the project folder.
DEFAULT_FILE = Path(".flowyml") / "metadata.db"
#: The URL that names the embedded default (what no ``metadata:`` section means).
EMBEDDED = ""
_POSTGRES_SCHEMES = ("postgresql", "postgresql+psycopg", "postgres")
POSTGRES_PORT = 5432


class UrlProblem(ValueError):
    """A ``metadata.url`` that is not a database URL FlowyML can open (the message says why)."""


@dataclass(frozen=True)
class DatabaseURL:
    """A parsed metadata database location."""

    dialect: str  # "sqlite" | "postgresql"
    #: The SQLite file (absolute), or None for PostgreSQL.
    path: Path | None = None
    host: str = ""
    port: int = POSTGRES_PORT
    user: str = ""
    password: str = ""
    database: str = ""
    #: Query parameters written after ``?`` (passed to the driver: ``sslmode=require``).
    query: tuple[tuple[str, str], ...] = ()

    @property
    def display(self) -> str:
        """The URL as shown to people: the password replaced by ``***``."""
        if self.path is not None:
            return f"sqlite:///{self.path}"
        auth = ""
        if self.user or self.password:
            auth = self.user + (f":{MASK}" if self.password else "") + "@"
        query = "?" + "&".join(f"{k}={v}" for k, v in self.query) if self.query else ""
        return f"postgresql://{auth}{self.host}:{self.port}/{self.database}{query}"

    @property
    def where(self) -> str:
        """``host:port/database`` or the file: what an error about reaching it names."""
        if self.path is not None:
            return str(self.path)
        return f"{self.host}:{self.port}/{self.database}"

    def __str__(self) -> str:  # never the password, whoever formats it
        return self.display


def parse_database_url(text: str | None, project_dir: Path) -> DatabaseURL:
    """The location ``text`` names (None or "" is the embedded default); :class:`UrlProblem` when it is not one."""
    if not text:
        return DatabaseURL("sqlite", path=(project_dir / DEFAULT_FILE).resolve())
    if "://" not in text:
        raise UrlProblem("is not a URL: write sqlite:///PATH or postgresql://USER:PASSWORD@HOST:PORT/DATABASE")
    scheme, rest = text.split("://", 1)
    scheme = scheme.lower()
    if scheme == "sqlite":
        if not rest.startswith("/") or rest == "/":
            raise UrlProblem("a sqlite URL names a file: sqlite:///relative/path.db or sqlite:////absolute/path.db")
        file = Path(unquote(rest[1:].split("?", 1)[0]))
        return DatabaseURL("sqlite", path=(file if file.is_absolute() else project_dir / file).resolve())
    if scheme in _POSTGRES_SCHEMES:
        return _postgres(text)
    raise UrlProblem(f"unsupported database {scheme!r}: FlowyML keeps metadata in sqlite or postgresql")


def _postgres(text: str) -> DatabaseURL:
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise UrlProblem(f"is not a valid postgresql URL ({exc})") from None
    if not parts.hostname:
        raise UrlProblem("a postgresql URL needs a host: postgresql://USER:PASSWORD@HOST:PORT/DATABASE")
    database = unquote(parts.path.lstrip("/"))
    if not database:
        raise UrlProblem("a postgresql URL needs a database name after the host: postgresql://USER@HOST:PORT/DATABASE")
    query = tuple(tuple(item.split("=", 1)) if "=" in item else (item, "") for item in parts.query.split("&") if item)
    return DatabaseURL(
        "postgresql",
        host=parts.hostname,
        port=port or POSTGRES_PORT,
        user=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        database=database,
        query=query,  # type: ignore[arg-type]
    )
