"""The stacks of flowyml.yaml (secrets masked as in ``flowyml stack show``), the active one, and a route plan."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from flowyml import Client
from flowyml.errors import FlowymlError
from flowyml_ui.web import NotFound, check_name, page, render


def _stacks(client: Client) -> tuple[list[dict[str, Any]], str, str]:
    from flowyml.cli.stack import REASONS
    from flowyml.config.loader import choose_stack_name, load_project
    from flowyml.redaction import redact
    from flowyml.stacks.describe import mask_options
    from flowyml.stacks.validation import structural_problem

    project = load_project(client.project_dir)
    choice = choose_stack_name(project)
    stacks = []
    for name in project.names or tuple(project.stacks):
        problem = structural_problem(project, name)
        entry: dict[str, Any] = {"name": name, "active": name == choice.name, "problem": problem.message if problem else None, "components": []}
        if problem is None:
            for comp in project.stacks[name].all_components():
                options = ", ".join(f"{k}={v}" for k, v in mask_options(comp.options).items())
                entry["components"].append((comp.kind.value, comp.type, redact(options)))
        stacks.append(entry)
    source = str(project.file) if project.file else "built-in default (no flowyml.yaml)"
    return stacks, REASONS.get(choice.reason, choice.reason), source


def _pipeline_file(root: Path, given: str) -> Path:
    """A pipeline file named in the URL: a .py file inside the project folder, nothing else."""
    path = (root / given).resolve()
    if path.suffix != ".py" or not path.is_file() or not path.is_relative_to(root.resolve()):
        raise NotFound(f"{given!r} is not a pipeline file (.py) inside the project folder {root}")
    return path


def _plan(client: Client, file: Path, stack: str | None) -> tuple[str, str, list[dict[str, str]]]:
    from flowyml.config.loader import load_project, resolve_stack_name
    from flowyml.routing.light_import import plan_pipeline
    from flowyml.routing.plan import plan_routes
    from flowyml.routing.validate import validate_stack
    from flowyml.stacks.validation import check_stack_options

    project = load_project(client.project_dir)
    config = project.stack(resolve_stack_name(project, stack).name)
    validate_stack(project, config)
    check_stack_options(project, config)
    built, _light = plan_pipeline(str(file), {})
    return built.name, config.name, plan_routes(built, config)


@page
def stacks_page(request: Request, client: Client) -> Response:
    stacks, reason, source = _stacks(client)
    given = request.query_params.get("pipeline") or ""
    stack = request.query_params.get("stack") or None
    plan = plan_error = None
    files = sorted(str(p.relative_to(client.project_dir)) for p in client.project_dir.glob("*.py"))
    if given:
        file = _pipeline_file(client.project_dir, given)
        try:
            plan = _plan(client, file, check_name(stack, "stack") if stack else None)
        except FlowymlError as exc:
            plan_error = exc.message + (f" (hint: {exc.hint})" if exc.hint else "")
    return render(
        request, "stacks.html", title="Stacks", stacks=stacks, reason=reason, source=source, files=files, pipeline=given, stack=stack or "", plan=plan, plan_error=plan_error
    )
