"""Access token (for a non-loopback bind) and CSRF protection of the POST actions."""

from __future__ import annotations

import hmac
from urllib.parse import urlencode, urlsplit

from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp

__all__ = ["COOKIE", "TokenMiddleware", "csrf_ok", "same_origin"]

#: The cookie that carries the access token after the first visit with ``?token=``.
COOKIE = "flowyml_ui_token"


def _equal(a: str | None, b: str) -> bool:
    return a is not None and hmac.compare_digest(a.encode(), b.encode())


class TokenMiddleware(BaseHTTPMiddleware):
    """Every request must carry the token: ``?token=``, the cookie it sets, or ``Authorization: Bearer``."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        super().__init__(app)
        self.token = token

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        given = request.query_params.get("token")
        if _equal(given, self.token):
            # keep the token out of the address bar (and of shared links) from here on
            rest = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
            target = request.url.path + ("?" + urlencode(rest) if rest else "")
            response: Response = RedirectResponse(target, status_code=303)
            response.set_cookie(COOKIE, self.token, httponly=True, samesite="strict")
            return response
        bearer = request.headers.get("authorization", "")
        if _equal(request.cookies.get(COOKIE), self.token) or (bearer.startswith("Bearer ") and _equal(bearer[7:], self.token)):
            return await call_next(request)
        return PlainTextResponse(
            "401: this dashboard needs its access token: open the URL `flowyml ui` printed (…/?token=…)", status_code=401
        )


def same_origin(request: Request) -> bool:
    """A browser's POST from another site carries its Origin (or Referer): refuse those."""
    origin: str | None = request.headers.get("origin") or request.headers.get("referer")
    if not origin or origin == "null":
        return origin is None
    host: str = request.headers.get("host", "")
    return urlsplit(origin).netloc == host


def csrf_ok(request: Request, form_token: str | None) -> bool:
    """The form's CSRF token is this server's, and the request comes from this origin."""
    return _equal(form_token, request.app.state.csrf) and same_origin(request)
