"""Finding pipelines by name: ``file.py``, ``file.py:name``, ``package.module``, ``package.module:name``.

The same text identifies a pipeline on the command line (``flowyml run``)
and inside a remote step's container (``flowyml step run``).
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import sys
from pathlib import Path
from typing import Any

from flowyml.core.pipeline import FunctionPipeline, Pipeline
from flowyml.errors import PipelineError


def is_pipeline(value: Any) -> bool:
    return isinstance(value, FunctionPipeline | Pipeline)


def _import_file(path: Path) -> Any:
    path = path.resolve()
    if not path.is_file():
        raise PipelineError(f"no such file: {path}", hint="give a path to a .py file, or module:attribute")
    name = f"flowyml_target_{path.stem}_{abs(hash(str(path))) % 10**8}"
    if name in sys.modules:
        return sys.modules[name]
    folder = str(path.parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise PipelineError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception:
        del sys.modules[name]
        raise
    return module


def _import(target: str) -> Any:
    if target.endswith(".py") or "/" in target or Path(target).suffix == ".py":
        return _import_file(Path(target))
    try:
        return importlib.import_module(target)
    except ModuleNotFoundError as exc:
        if Path(target + ".py").is_file():
            return _import_file(Path(target + ".py"))
        raise PipelineError(f"cannot import {target!r}: {exc}", hint="give a file path (pipeline.py) or an importable module") from exc


def defined_pipelines(module: Any) -> dict[str, Any]:
    """Pipelines defined at the top level of ``module`` (not ones it imported)."""
    found = {}
    for name, value in vars(module).items():
        if not is_pipeline(value) or name.startswith("_"):
            continue
        home = value.fn.__module__ if isinstance(value, FunctionPipeline) else getattr(value, "module_name", None)
        if home in (None, module.__name__):
            found[name] = value
    return found


def split_target(target: str) -> tuple[str, str]:
    """``file.py:name`` -> (``file.py``, ``name``); no ``:name`` gives an empty name."""
    base, _, attr = target.rpartition(":") if ":" in target.replace(":\\", "") else (target, "", "")
    if not base:
        base, attr = target, ""
    return base, attr


def pick_pipeline(module: Any, base: str, attr: str) -> Any:
    """The pipeline ``attr`` of ``module``, or its only pipeline when ``attr`` is empty."""
    if attr:
        value = getattr(module, attr, None)
        if not is_pipeline(value):
            available = ", ".join(defined_pipelines(module)) or "none"
            raise PipelineError(f"{base} has no pipeline named {attr!r}", hint=f"pipelines defined there: {available}")
        return value
    pipelines = defined_pipelines(module)
    if not pipelines:
        raise PipelineError(f"{base} defines no pipeline", hint="decorate a function with @pipeline, or create a Pipeline(...) at module level")
    if len(pipelines) > 1:
        raise PipelineError(
            f"{base} defines several pipelines: {', '.join(pipelines)}",
            hint=f"pick one: {base}:{next(iter(pipelines))}",
        )
    return next(iter(pipelines.values()))


def load_target(target: str) -> Any:
    """Import the pipeline ``target`` names; a target holding several pipelines needs ``:name``."""
    base, attr = split_target(target)
    return pick_pipeline(_import(base), base, attr)


def target_of(pipeline: Any, project_dir: Path) -> str | None:
    """How a remote step finds ``pipeline`` again (``file.py:name`` or ``module:name``), if it can."""
    module_name = pipeline.fn.__module__ if isinstance(pipeline, FunctionPipeline) else getattr(pipeline, "module_name", None)
    module = sys.modules.get(module_name or "")
    if module is None:
        return None
    names = [n for n, v in vars(module).items() if v is pipeline]
    if not names:
        return None
    file = getattr(module, "__file__", None)
    if module_name == "__main__" or (module_name or "").startswith("flowyml_target_"):
        if not file:
            return None
        path = Path(file).resolve()
        with contextlib.suppress(ValueError):
            path = path.relative_to(project_dir.resolve())
        return f"{path.as_posix()}:{names[0]}"
    return f"{module_name}:{names[0]}"


def pipeline_file(pipeline: Any) -> Path | None:
    """The source file that defines ``pipeline``, when there is one."""
    if isinstance(pipeline, FunctionPipeline):
        file = getattr(getattr(pipeline.fn, "__code__", None), "co_filename", None)
    else:
        file = getattr(sys.modules.get(getattr(pipeline, "module_name", None) or ""), "__file__", None)
    if not file or file.startswith("<"):
        return None
    path = Path(file)
    return path.resolve() if path.is_file() else None


def project_start(pipeline: Any) -> Path | None:
    """Where to look for flowyml.yaml (upwards) for ``pipeline``: its file's folder when one is found from there, else None (the working directory).

    ``flowyml run examples/quickstart/pipeline.py`` from another folder thus
    uses the example's flowyml.yaml and writes beside it.
    """
    from flowyml.config.source import find_config

    file = pipeline_file(pipeline)
    if file is None or find_config(file.parent) is None:
        return None
    return file.parent
