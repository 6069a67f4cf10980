"""Starting a run without orchestrating it, for orchestrator tests."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flowyml.runner.engine import RunSession


def start_run(pipeline: Any, *, stack: str | None = None, params: Mapping[str, Any] | None = None, target: str | None = None) -> RunSession:
    """Begin a run exactly as ``pipeline.run()`` does, and stop before the orchestrator.

    ``session.run`` is the :class:`~flowyml.runner.orchestration.OrchestratedRun`
    an orchestrator receives; drive it (or parts of your orchestrator) in the
    test, then call ``session.finish()`` to get the :class:`PipelineRun`::

        session = start_run(my_pipeline, stack="remote", target="pipelines.py:my_pipeline")
        orchestrator.submit(session.run)
        ...
        result = session.finish()
    """
    session = RunSession(pipeline, params=params, stack=stack, target=target)
    if not session.start_tracker():
        raise RuntimeError(f"the tracker of stack {session.stack.name!r} could not start: {session.error}")
    return session
