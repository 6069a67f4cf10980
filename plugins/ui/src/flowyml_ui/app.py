"""The dashboard's ASGI app: its routes (stable URLs), static files and access control."""

from __future__ import annotations

import secrets
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from flowyml_ui import artifact_pages, json_pages, model_pages, run_pages, stack_pages
from flowyml_ui.security import TokenMiddleware
from flowyml_ui.web import json_response, render

__all__ = ["create_app"]

_STATIC = Path(__file__).parent / "static"


async def _not_found(request: Request, exc: Exception) -> Response:
    if request.url.path.endswith(".json"):  # a JSON twin's URL that matches no route
        return json_response({"error": f"nothing at {request.url.path}", "hint": None, "status": 404}, status_code=404)
    return render(request, "error.html", status_code=404, title="Not found", code=404, message=f"nothing at {request.url.path}", hint=None)


def create_app(root: Path, token: str | None = None) -> Starlette:
    """The dashboard of the project in ``root``; with ``token``, every request must carry it."""
    routes = [
        Route("/", run_pages.runs_page),
        # the JSON twins first: "/runs/ID.json" would otherwise be the page of a run "ID.json"
        Route("/runs.json", json_pages.runs_json),
        Route("/runs/{run_id}.json", json_pages.run_json),
        Route("/artifacts/{artifact_id}.json", json_pages.artifact_json),
        Route("/models/{name}.json", json_pages.model_json),
        Route("/runs/{run_id}", run_pages.run_page),
        Route("/runs/{run_id}/status", run_pages.run_status),
        Route("/runs/{run_id}/metrics", run_pages.metrics_page),
        Route("/runs/{run_id}/steps/{step}", run_pages.step_page),
        Route("/compare", run_pages.compare_page),
        Route("/artifacts/{artifact_id}", artifact_pages.artifact_page),
        Route("/artifacts/{artifact_id}/download", artifact_pages.download),
        Route("/models", model_pages.models_page),
        Route("/models/{name}", model_pages.model_page),
        Route("/models/{name}/{version}/{action}", model_pages.model_action, methods=["POST"]),
        Route("/endpoints/{endpoint}/undeploy", model_pages.undeploy_action, methods=["POST"]),
        Route("/stacks", stack_pages.stacks_page),
        Mount("/static", StaticFiles(directory=_STATIC), name="static"),
    ]
    middleware = [Middleware(TokenMiddleware, token=token)] if token else []
    app = Starlette(routes=routes, middleware=middleware, exception_handlers={404: _not_found})
    app.state.root = root
    app.state.csrf = secrets.token_urlsafe(32)
    return app
