"""Keeping secrets out of everything FlowyML prints, logs or records.

Three kinds of value are secret:

* the value of an option whose name marks it secret (a part of the name is
  ``password``, ``passwd``, ``token``, ``secret``, ``key``, ``credential(s)``
  or ``private``: ``api_key``, ``clientSecret``, ``db_password``);
* the password of a URL written ``scheme://user:password@host``;
* every value that came from a ``${VAR}`` reference.

When a stack builds its components it registers the secret values of its
options (:func:`register`); until the stack is closed :func:`redact` replaces
each of them, and every URL password whatever its origin, with ``***``.
Messages are redacted once, where they leave a component and where errors are
recorded (step and run errors, route events, ``stack check``), and every log
record is redacted as it is created, at any level. Values shorter than
:data:`MIN_SECRET_LENGTH` characters are not registered: masking every ``1``
or ``on`` in every message would hide more than it protects.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any

MASK = "***"
MIN_SECRET_LENGTH = 3
#: Shortest ``${VAR}`` value (in an option not named as secret) that is registered.
MIN_REFERENCE_LENGTH = 4

_SECRET_WORDS = ("password", "passwd", "pwd", "token", "secret", "key", "credential", "credentials", "private")
_NAME_PARTS = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
#: ``scheme://user:password@`` (the user part may be empty).
URL_CREDENTIALS = re.compile(r"(?P<head>\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s/@:'\"]*:)(?P<password>[^\s/@'\"]+)(?P<at>@)")
_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}\n'\"]*))?\}")

_lock = threading.Lock()
_registered: dict[int, frozenset[str]] = {}
_tokens = itertools.count(1)
_active: tuple[str, ...] = ()  # longest first
_factory_installed = False


def is_secret_name(name: object) -> bool:
    """Does this option name mark its value as secret?"""
    parts = [p.lower() for p in _NAME_PARTS.findall(str(name))]
    return any(part in _SECRET_WORDS or part.endswith(("password", "token", "secret", "apikey")) for part in parts)


def redact(text: str) -> str:
    """``text`` with URL passwords and every registered secret replaced by ``***``."""
    if not text:
        return text
    if "://" in text and "@" in text:
        text = URL_CREDENTIALS.sub(lambda m: m.group("head") + MASK + m.group("at"), text)
    for secret in _active:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def redact_value(value: Any) -> Any:
    """Strings, and strings inside dicts/lists/tuples, redacted; anything else unchanged."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redact_value(v) for v in value)
    return value


def redact_exception(exc: BaseException) -> BaseException:
    """Redact ``exc``'s message in place, and its causes' (a FlowymlError's message and hint, string args).

    Returns ``exc``, so ``raise redact_exception(exc)`` reads naturally.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        _redact_one(current)
        current = current.__cause__ or current.__context__
    return exc


def _redact_one(exc: BaseException) -> None:
    if not (_active or _has_url_secret(str(exc))):
        return
    from flowyml.errors import FlowymlError

    if isinstance(exc, FlowymlError):
        exc.message = redact(exc.message)
        if exc.hint:
            exc.hint = redact(exc.hint)
    with contextlib.suppress(AttributeError, TypeError):  # an exception type with read-only args
        exc.args = tuple(redact(a) if isinstance(a, str) else a for a in exc.args)
    if isinstance(exc, OSError):
        for attr in ("strerror", "filename", "filename2"):
            value = getattr(exc, attr, None)
            if isinstance(value, str):
                setattr(exc, attr, redact(value))


def _has_url_secret(text: str) -> bool:
    return "://" in text and URL_CREDENTIALS.search(text) is not None


# -- which values are secret -------------------------------------------------------------------


def secrets_of(options: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> set[str]:
    """The secret values of a component's options as written (before ``${VAR}`` resolution)."""
    env = os.environ if environ is None else environ
    found: set[str] = set()

    def visit(value: Any, secret: bool) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                visit(item, secret or is_secret_name(key))
            return
        if isinstance(value, list | tuple):
            for item in value:
                visit(item, secret)
            return
        if value is None or isinstance(value, bool):
            return
        text = str(value)
        for match in _REFERENCE.finditer(text):
            name, default = match.group(1), match.group(2)
            got = env.get(name)
            for candidate in (got, default):
                if candidate and (secret or len(candidate) >= MIN_REFERENCE_LENGTH):
                    found.add(candidate)
                    found.update(_url_passwords(candidate))
        found.update(_url_passwords(text))
        if secret and not _REFERENCE.fullmatch(text):
            found.add(text)

    visit(dict(options), False)
    return {s for s in found if len(s) >= MIN_SECRET_LENGTH and s != MASK}


def _url_passwords(text: str) -> list[str]:
    return [m.group("password") for m in URL_CREDENTIALS.finditer(text)] if "://" in text else []


# -- the registry ------------------------------------------------------------------------------


def register(values: Iterable[str]) -> int:
    """Start redacting ``values``; returns a token for :func:`release`."""
    global _active
    values = frozenset(v for v in values if isinstance(v, str) and len(v) >= MIN_SECRET_LENGTH)
    install_log_redaction()
    with _lock:
        token = next(_tokens)
        _registered[token] = values
        _active = _union()
    return token


def release(token: int | None) -> None:
    """Stop redacting the values registered under ``token`` (twice is harmless)."""
    global _active
    if token is None:
        return
    with _lock:
        if _registered.pop(token, None) is not None:
            _active = _union()


def _union() -> tuple[str, ...]:
    merged: set[str] = set()
    for values in _registered.values():
        merged |= values
    return tuple(sorted(merged, key=len, reverse=True))


def active_secrets() -> tuple[str, ...]:
    """The values being redacted now (for tests)."""
    return _active


# -- logging -----------------------------------------------------------------------------------


def install_log_redaction() -> None:
    """Wrap the log record factory once, so every record is redacted as it is made (any logger, any level)."""
    global _factory_installed
    with _lock:
        if _factory_installed:
            return
        previous = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            _redact_record(record)
            return record

        logging.setLogRecordFactory(factory)
        _factory_installed = True


def _redact_record(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # a malformed record: leave it to logging's own error handling
        return
    cleaned = redact(message)
    if cleaned != message:
        record.msg, record.args = cleaned, None
    if _active and record.exc_info and record.exc_info[1] is not None:
        import traceback

        text = "".join(traceback.format_exception(*record.exc_info))
        cleaned_exc = redact(text)
        if cleaned_exc != text:
            record.exc_text = cleaned_exc.rstrip("\n")
