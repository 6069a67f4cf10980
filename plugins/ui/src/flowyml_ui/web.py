"""What every page shares: templates (autoescaped), the page wrapper that turns errors into pages, id checks."""

from __future__ import annotations

import functools
import logging
import re
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import quote

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from flowyml.errors import FlowymlError, ModelNotFoundError, RunNotFoundError
from flowyml.naming import name_problem

log = logging.getLogger("flowyml.ui")

__all__ = ["NotFound", "check_id", "check_name", "json_page", "json_response", "json_twin", "page", "render"]

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


class NotFound(Exception):
    """Nothing at this URL: shown as the 404 page."""


def check_id(value: str, what: str) -> str:
    """A run or artifact id from a URL: letters, digits, '.', '_', '-' only (else 404)."""
    if not _ID.fullmatch(value):
        raise NotFound(f"{what} {value!r} is not a valid id")
    return value


def check_name(value: str, what: str) -> str:
    """A step or model name from a URL, by the core's name rule (no '/', '..', control characters)."""
    problem = name_problem(value)
    if problem is not None:
        raise NotFound(f"{what} {value!r} is not a valid name: {problem}")
    return value


def _when(ts: float | None) -> str:
    return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S") if ts else "-"


def _duration(start: float | None, end: float | None) -> str:
    if not start:
        return "-"
    seconds = (end or time.time()) - start
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 120:
        return f"{seconds:.1f} s"
    return f"{seconds / 60:.1f} min"


def _size(n: int | None) -> str:
    if n is None:
        return "-"
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return str(n)


def _path(value: Any) -> str:
    """A value as one URL path segment (a name with '<' or '?' in it stays one segment)."""
    return quote(str(value), safe="")


_env = jinja2.Environment(
    loader=jinja2.PackageLoader("flowyml_ui", "templates"),
    autoescape=True,  # every value is HTML-escaped, in every template, whatever its extension
    undefined=jinja2.StrictUndefined,
)
_env.filters.update(when=_when, size=_size, path=_path)
_env.globals.update(duration=_duration)


def json_twin(request: Request, path: str) -> str:
    """The URL of the JSON twin at ``path`` with the page's query (the filters, ``?stack=``)."""
    return path + (f"?{request.url.query}" if request.url.query else "")


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """The page ``template`` filled with ``context`` (plus the CSRF token and the project folder)."""
    state = request.app.state
    html = _env.get_template(template).render(
        request=request, csrf=state.csrf, project=str(state.root), title=context.pop("title", "FlowyML"), **context
    )
    return HTMLResponse(html, status_code=status_code)


def _error_page(request: Request, status: int, message: str, hint: str | None = None) -> Response:
    return render(request, "error.html", status_code=status, title="Not found" if status == 404 else "Error", code=status, message=message, hint=hint)


def _error_json(request: Request, status: int, message: str, hint: str | None = None) -> Response:
    return json_response({"error": message, "hint": hint, "status": status}, status_code=status)


def json_response(data: Any, status_code: int = 200) -> Response:
    """``data`` as JSON, secrets masked (see :func:`flowyml_ui.masking.public`)."""
    import json

    from flowyml_ui.masking import public

    body = json.dumps(public(data), indent=1, ensure_ascii=False, allow_nan=False)
    return Response(body, status_code=status_code, media_type="application/json")


_NOT_FOUND = (NotFound, RunNotFoundError, ModelNotFoundError)
ErrorResponder = Callable[[Request, int, str, "str | None"], Response]


def _guarded(handler: Callable[..., Response], error: ErrorResponder) -> Callable[[Request], Response]:
    @functools.wraps(handler)
    def wrapped(request: Request) -> Response:
        from flowyml import Client

        try:
            client = Client(request.app.state.root)
        except FlowymlError as exc:
            return error(request, 500, exc.message, exc.hint)
        try:
            return handler(request, client)
        except _NOT_FOUND as exc:
            message = exc.message if isinstance(exc, FlowymlError) else str(exc)
            return error(request, 404, message, getattr(exc, "hint", None))
        except FlowymlError as exc:
            return error(request, 500, exc.message, exc.hint)
        except Exception as exc:  # a page must not take the server down; the log has the traceback
            log.exception("page %s failed", request.url.path)
            return error(request, 500, f"{type(exc).__name__}: {exc}", "the server log has the traceback")
        finally:
            client.close()

    return wrapped


def page(handler: Callable[..., Response]) -> Callable[[Request], Response]:
    """A sync page handler given (request, client); its errors become an error page, never a traceback.

    An unknown id is the 404 page; any other failure (a store that cannot be
    read, a broken flowyml.yaml) is shown as a 500 page with the error's
    message, and the server keeps serving. Starlette runs it in a thread.
    """
    return _guarded(handler, _error_page)


def json_page(handler: Callable[..., Response]) -> Callable[[Request], Response]:
    """Like :func:`page`, for a JSON twin: the same 404 and 500 rules, the error as ``{"error", "hint", "status"}``."""
    return _guarded(handler, _error_json)
