"""Loading a pipeline file for planning without importing its heavy libraries.

``flowyml route plan pipeline.py`` needs the pipeline's steps, their outputs
and return annotations, never the data or training libraries the steps use.
:func:`plan_pipeline` executes the file with every import of a third-party
module (not flowyml, not the standard library, not already imported) bound to
a stand-in *name* instead of the module, builds the graph, and checks that
the build never called one of those stand-ins (a step imported from another
module, a decorator from a library). When it did, or when anything fails on
the way, the file is imported for real, exactly as ``flowyml run`` would.
"""

from __future__ import annotations

import ast
import sys
import types
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["ImportedName", "file_project_start", "light_build", "plan_pipeline"]


class ImportedName:
    """What a skipped import binds: attribute access, calls and indexing give more of these."""

    calls = 0

    def __init__(self, dotted: str) -> None:
        self._dotted = dotted

    def __getattr__(self, name: str) -> ImportedName:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return ImportedName(f"{self._dotted}.{name}")

    def __call__(self, *args: Any, **kwargs: Any) -> ImportedName:
        ImportedName.calls += 1
        return ImportedName(f"{self._dotted}()")

    def __getitem__(self, key: Any) -> ImportedName:
        return ImportedName(f"{self._dotted}[...]")

    def __repr__(self) -> str:
        return f"<not imported: {self._dotted}>"


def _skipped(module: str) -> bool:
    root = module.split(".", 1)[0]
    return not (root == "flowyml" or root.startswith("flowyml_") or root in sys.stdlib_module_names or root in sys.modules)


class _SkipImports(ast.NodeTransformer):
    """Top-level ``import x`` / ``from x import y`` of skipped modules become assignments of stand-ins."""

    def visit_Import(self, node: ast.Import) -> Any:
        kept, bound = [], []
        for alias in node.names:
            if _skipped(alias.name):
                name = alias.asname or alias.name.split(".", 1)[0]
                bound.append((name, alias.name if alias.asname else alias.name.split(".", 1)[0]))
            else:
                kept.append(alias)
        out: list[ast.stmt] = [ast.Import(names=kept)] if kept else []
        out += [_bind(name, dotted) for name, dotted in bound]
        return out

    def visit_ImportFrom(self, node: ast.ImportFrom) -> Any:
        if node.level or not node.module or not _skipped(node.module):
            return node
        return [_bind(a.asname or a.name, f"{node.module}.{a.name}") for a in node.names if a.name != "*"]

    def visit_FunctionDef(self, node: ast.FunctionDef) -> Any:
        return node  # imports inside functions run only when the step runs

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]


def _bind(name: str, dotted: str) -> ast.stmt:
    call = ast.Call(func=ast.Name("__flowyml_imported__", ast.Load()), args=[ast.Constant(dotted)], keywords=[])
    return ast.Assign(targets=[ast.Name(name, ast.Store())], value=call, lineno=0)


def _load_light(path: Path) -> types.ModuleType:
    tree = _SkipImports().visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
    ast.fix_missing_locations(tree)
    name = f"flowyml_plan_{path.stem}_{abs(hash(str(path))) % 10**8}"
    module = types.ModuleType(name)
    module.__file__ = str(path)
    module.__dict__["__flowyml_imported__"] = ImportedName
    sys.modules[name] = module
    try:
        exec(compile(tree, str(path), "exec"), module.__dict__)  # the user's own pipeline file, as an import would
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def light_build(target: str, params: Mapping[str, Any]) -> Any | None:
    """The graph of file target ``target`` built without its heavy imports, or None when that is not possible."""
    from flowyml.runner.targets import pick_pipeline, split_target

    base, attr = split_target(target)
    path = Path(base)
    if path.suffix != ".py" or not path.is_file():
        return None
    try:
        module = _load_light(path.resolve())
        pipeline = pick_pipeline(module, base, attr)
        before = ImportedName.calls
        graph = pipeline.build(dict(params))
    except Exception:
        return None  # the real import below gives the real error, if any
    if ImportedName.calls != before or any(isinstance(n.step.fn, ImportedName) for n in graph.nodes.values()):
        return None
    return graph


def plan_pipeline(target: str, params: Mapping[str, Any]) -> tuple[Any, bool]:
    """``(graph, light)``: the pipeline's graph, and whether it was built without importing its libraries."""
    graph = light_build(target, params)
    if graph is not None:
        return graph, True
    from flowyml.runner.targets import load_target

    return load_target(target).build(dict(params)), False


def file_project_start(target: str) -> Path | None:
    """For a file target, its folder when a flowyml.yaml is found from there (as ``flowyml run`` finds it), else None."""
    from flowyml.config.source import find_config
    from flowyml.runner.targets import split_target

    base, _ = split_target(target)
    path = Path(base)
    if path.suffix != ".py" or not path.is_file():
        return None
    folder = path.resolve().parent
    return folder if find_config(folder) is not None else None
