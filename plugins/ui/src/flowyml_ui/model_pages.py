"""The model registry of a stack: versions, where they are served, and Approve / Deploy / Undeploy.

The buttons call :mod:`flowyml.models`, the code ``flowyml model approve``,
``deploy`` and ``undeploy`` run. Each is a POST carrying this server's CSRF
token, answered first by a confirmation page; only the confirmed POST acts.
"""

from __future__ import annotations

from urllib.parse import parse_qs, quote

import attrs
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from flowyml import Client
from flowyml.errors import FlowymlError
from flowyml.plugins.types import Deployment, ModelVersion
from flowyml_ui.security import csrf_ok
from flowyml_ui.web import NotFound, check_name, page, render

ACTIONS = ("approve", "deploy")


def _stack(request: Request) -> str | None:
    name = request.query_params.get("stack") or None
    return check_name(name, "stack") if name else None


@page
def models_page(request: Request, client: Client) -> Response:
    stack = _stack(request)
    versions = client.list_models(stack=stack)
    names: dict[str, list[str]] = {}
    for v in versions:
        names.setdefault(v.name, []).append(f"{v.version} ({v.status})")
    return render(request, "models.html", title="Models", names=names, stack=stack or "")


def _serving(client: Client, stack: str | None) -> dict[tuple[str, str], list[Deployment]]:
    found: dict[tuple[str, str], list[Deployment]] = client.models.serving(stack, project_dir=client.project_dir)
    return found


@attrs.frozen
class ModelView:
    """What a model's page shows (and its JSON twin gives): its versions, newest first, and where they are served."""

    name: str
    stack: str | None
    versions: list[ModelVersion]
    serving: dict[tuple[str, str], list[Deployment]]
    #: Why serving is unknown (the deployer could not be asked).
    serving_problem: str | None


def model_view(request: Request, client: Client) -> ModelView:
    name = check_name(request.path_params["name"], "model")
    stack = _stack(request)
    versions = client.list_models(name, stack=stack)
    if not versions:
        raise NotFound(f"model {name!r} has no version in the registry of stack {stack or '(active)'}")
    try:
        serving, serving_problem = _serving(client, stack), None
    except FlowymlError as exc:
        serving, serving_problem = {}, exc.message
    return ModelView(name, stack, list(reversed(versions)), serving, serving_problem)


@page
def model_page(request: Request, client: Client) -> Response:
    view = model_view(request, client)
    return render(
        request,
        "model.html",
        title=f"Model {view.name}",
        name=view.name,
        stack=view.stack or "",
        versions=view.versions,
        serving=view.serving,
        serving_problem=view.serving_problem,
        done=request.query_params.get("done"),
        json_url=f"/models/{quote(view.name, safe='')}.json" + (f"?stack={quote(view.stack)}" if view.stack else ""),
    )


async def _form(request: Request) -> dict[str, str]:
    body = (await request.body()).decode("utf-8", "replace")
    return {k: v[-1] for k, v in parse_qs(body, keep_blank_values=True).items()}


def _back(name: str, stack: str | None, done: str) -> RedirectResponse:
    query = f"?done={quote(done)}" + (f"&stack={quote(stack)}" if stack else "")
    return RedirectResponse(f"/models/{quote(name, safe='')}{query}", status_code=303)


async def model_action(request: Request) -> Response:
    """POST /models/NAME/VERSION/approve|deploy: confirm, then act through flowyml.models."""
    form = await _form(request)
    return await _act(request, form, request.path_params["action"])


async def undeploy_action(request: Request) -> Response:
    """POST /endpoints/ENDPOINT/undeploy: confirm, then act through flowyml.models."""
    form = await _form(request)
    return await _act(request, form, "undeploy")


async def _act(request: Request, form: dict[str, str], action: str) -> Response:
    from starlette.concurrency import run_in_threadpool

    def work(req: Request, client: Client) -> Response:
        return _do(req, client, form, action)

    work.__name__ = f"model_{action}"
    return await run_in_threadpool(page(work), request)


def _do(request: Request, client: Client, form: dict[str, str], action: str) -> Response:
    if not csrf_ok(request, form.get("csrf")):
        return render(request, "error.html", status_code=403, title="Refused", code=403, message="this form is not from this dashboard (bad or missing CSRF token)", hint="reload the page and try again")
    stack = check_name(form["stack"], "stack") if form.get("stack") else None
    if action == "undeploy":
        endpoint = check_name(request.path_params["endpoint"], "endpoint")
        name = check_name(form.get("model", ""), "model")
        what = f"Undeploy endpoint {endpoint}"
    else:
        if action not in ACTIONS:
            raise NotFound(f"no action {action!r} (approve, deploy)")
        name = check_name(request.path_params["name"], "model")
        version = check_name(request.path_params["version"], "version")
        endpoint = ""
        what = f"{action.capitalize()} {name} version {version}"
    if form.get("confirmed") != "yes":
        return render(request, "confirm.html", title="Confirm", what=what, action=request.url.path, stack=stack or "", model=name)
    models = client.models
    if action == "approve":
        _approved, deployment = models.approve_model(name, version, stack, project_dir=client.project_dir)
        done = f"approved {name} {version}" + (f"; deployed at {deployment.url or deployment.endpoint_name}" if deployment else "")
    elif action == "deploy":
        deployment = models.deploy_model(name, version, stack=stack, project_dir=client.project_dir)
        done = f"deployed {name} {version} at {deployment.url or deployment.endpoint_name}"
    else:
        stopped = models.undeploy_model(endpoint, stack, project_dir=client.project_dir)
        done = f"undeployed {endpoint}" if stopped else f"nothing was deployed at {endpoint}"
    return _back(name, stack, done)
