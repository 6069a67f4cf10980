"""What an orchestrator receives: the step graph and a way to execute each step."""

from __future__ import annotations

import functools
import hashlib
import json
import time
import traceback
from collections.abc import Callable
from typing import Any

import attrs

from flowyml.core.artifacts import ARTIFACT_TYPES, Artifact, Metrics, Parameters
from flowyml.core.graph import Constant, OutputRef, PipelineGraph, StepNode
from flowyml.core.returns import check_return
from flowyml.core.settings import StepSettings
from flowyml.errors import PipelineError
from flowyml.metadata.announcer import StepAnnouncer
from flowyml.metadata.store import MetadataStore
from flowyml.plugins.events import StepFinished
from flowyml.plugins.kinds import Kind
from flowyml.plugins.types import RunInfo
from flowyml.redaction import redact, redact_exception
from flowyml.runner import cache_index, interrupts, records
from flowyml.runner.attempts import Attempt, call_with_timeout, run_attempts
from flowyml.runner.cache_hits import CacheHit, find_hit
from flowyml.runner.loading import read_stored
from flowyml.runner.result import StepRun, StoredArtifact
from flowyml.runner.routes import RouteExecutor
from flowyml.stacks.stack import Stack


def _artifact_class(annotation: Any) -> type[Artifact] | None:
    if isinstance(annotation, type) and issubclass(annotation, Artifact):
        return annotation
    if isinstance(annotation, str):
        return ARTIFACT_TYPES.get(annotation.rsplit(".", 1)[-1])
    return None


def coerce(value: Any, annotation: Any) -> Any:
    """Wrap a plain value in the artifact type its annotation declares (``-> Model`` gives a Model)."""
    cls = _artifact_class(annotation)
    if cls is None or isinstance(value, cls):
        return value
    if isinstance(value, Artifact):
        return value
    if cls in (Metrics, Parameters):
        return cls(value)
    return cls(value)


def _output_annotations(annotation: Any, count: int) -> list[Any]:
    """One annotation per output: ``-> Model`` for one output, ``-> tuple[Dataset, Dataset]`` for several."""
    if count == 1:
        return [annotation]
    import typing

    args = list(typing.get_args(annotation)) if typing.get_origin(annotation) is tuple else []
    if len(args) == count and Ellipsis not in args:
        return args
    return [None] * count


def _canonical(value: Any) -> str:
    try:
        return json.dumps(value, sort_keys=True, default=repr)
    except (TypeError, ValueError):
        return repr(value)


class OrchestratedRun:
    """One pipeline run as an orchestrator sees it.

    ``execute_step(name)`` runs a step in this process: it finds the
    records of the step's inputs, consults the cache (keyed by their content
    hashes), and only when the step runs loads its inputs, calls the function,
    stores and routes each output; it records everything. It never raises for a failing step:
    it returns a failed :class:`StepRun`; the orchestrator then skips the
    step's dependents with ``skip_step``.
    """

    def __init__(
        self,
        graph: PipelineGraph,
        stack: Stack,
        metadata: MetadataStore,
        info: RunInfo,
        routes: RouteExecutor,
        cache: bool,
        target: str | None = None,
        settings: dict[str, StepSettings] | None = None,
    ) -> None:
        #: Each step's settings (code and flowyml.yaml merged; a step missing here runs with its code's).
        self.settings = dict(settings or {})
        #: Where a remote step's attempts continue from (set by ``flowyml step run`` when the platform retries).
        self.first_attempt: dict[str, int] = {}
        self.attempts: dict[str, list[Attempt]] = {}
        #: How remote steps import the pipeline again (``file.py:name`` / ``module:name``).
        self.target = target
        self.snapshot_uri: str | None = None
        self.graph = graph
        self.stack = stack
        self.metadata = metadata
        self.info = info
        #: Writes a step `running` once it has run for a moment (stopped by the engine when the run ends).
        self.announcer = StepAnnouncer(metadata, info.run_id)
        self.routes = routes
        self.cache = cache
        self.results: dict[str, StepRun] = {}
        self.values: dict[str, Any] = {}
        self.cache_keys: dict[str, str] = {}
        #: Step name -> the run whose outputs a cached step reused.
        self.cached_from: dict[str, str] = {}
        #: Verify a cached result's outputs (manifest and bytes) before serving it; remote steps and the
        #: answers given before a remote launch do, a local run checks that they exist (reads verify them).
        self.verify_hits = False
        #: Called as ``progress(step_name, status, step_run_or_None)`` when a step starts and ends.
        self.progress: Callable[[str, str, StepRun | None], None] | None = None
        self._remaining: dict[str, int] = {}
        self._collected: set[str] = set()
        self._answered: set[str] = set()
        for node in graph.nodes.values():
            for binding in node.bindings.values():
                if isinstance(binding, OutputRef):
                    key = f"{binding.step}.{binding.output}"
                    self._remaining[key] = self._remaining.get(key, 0) + 1

    # -- what orchestrators read ----------------------------------------------------------

    @property
    def run_id(self) -> str:
        return self.info.run_id

    @property
    def pipeline_name(self) -> str:
        return self.info.pipeline_name

    @property
    def stack_name(self) -> str:
        return self.stack.name

    @property
    def steps(self) -> list[str]:
        """Step names in a dependency order."""
        return list(self.graph.order)

    @property
    def steps_to_run(self) -> list[str]:
        """The steps a remote orchestrator launches, in a dependency order: those not answered from the cache by ``prepare_remote()``."""
        return [name for name in self.graph.order if name not in self._answered]

    def upstream(self, name: str) -> list[str]:
        return self.graph.nodes[name].upstream

    def downstream(self, name: str) -> list[str]:
        return self.graph.downstream(name)

    def result(self, name: str) -> StepRun | None:
        return self.results.get(name)

    def artifact_uri(self, key: str) -> str:
        return self.stack.artifact_store.uri(key)

    def step_settings(self, name: str) -> StepSettings:
        """The settings step ``name`` runs with (retries, retry_delay, timeout, resources, orchestrator sections)."""
        return self.settings.get(name) or self.graph.nodes[name].step.settings

    # -- remote orchestrators (the records are described in flowyml.runner.records) -----------

    def prepare_remote(self) -> str:
        """Write the run snapshot to the artifact store and answer what the cache can (once, before step_command).

        Calling it again returns the same snapshot URI.
        """
        if self.snapshot_uri:
            return self.snapshot_uri
        settings = {name: self.step_settings(name) for name in self.steps}
        self.snapshot_uri = records.write_snapshot(self.stack, self.graph, self.run_id, self.target, self.cache, settings)
        if self.cache:
            self.answer_from_cache()
        return self.snapshot_uri

    def answer_from_cache(self) -> list[str]:
        """Record as ``cached`` every step the cache answers before anything is launched; return their names.

        In dependency order, a step whose inputs all come from steps answered
        so far (or from constants) has a cache key known here: the content
        hashes of those inputs are in their records. A step downstream of one
        that must run cannot be decided before it ran, so it runs (its
        container may still find its result in the cache, see
        :func:`flowyml.runner.engine.run_remote_step`). Each answered step gets
        a step record in the artifact store pointing at the reused outputs
        (nothing is copied), so that the containers of its dependents find it.
        """
        answered: list[str] = []
        verify, self.verify_hits = self.verify_hits, True
        try:
            for name in self.steps:
                node = self.graph.nodes[name]
                if not node.step.cache or name in self.results or any(u not in self._answered for u in node.upstream):
                    continue
                inputs = self._upstream_inputs(node)  # their records hold the content hashes: nothing is read
                cache_key = self._cache_key(node, inputs)
                result = self._from_cache(node, cache_key, inputs, time.time())
                if result is None:
                    continue
                self.cache_keys[name] = cache_key
                records.write_step_record(
                    self.stack, self.run_id, result, cache_key, {p: a.artifact_id for p, a in inputs.items()}, cached_from=self.cached_from[name]
                )
                self.results[name] = result
                self._answered.add(name)
                self._collected.add(name)
                self._notify(name, "cached", result)
                answered.append(name)
        finally:
            self.verify_hits = verify
        return answered

    def step_command(self, name: str) -> list[str]:
        """The command a container runs for step ``name`` (``flowyml step run ...``)."""
        if not self.snapshot_uri:
            raise PipelineError("call run.prepare_remote() before asking for step commands")
        return ["flowyml", "step", "run", "--stack", self.stack.name, "--snapshot", self.snapshot_uri, "--step", name]

    def step_env(self) -> dict[str, str]:
        """Environment variables a step's container needs besides the stack's own (secrets, credentials)."""
        return {"FLOWYML_STACK": self.stack.name, "FLOWYML_RUN_ID": self.run_id}

    def collect_remote_results(self) -> None:
        """Read the step records remote steps wrote, recording them as if the steps ran here.

        Each artifact then takes the same path as one stored here
        (:meth:`RouteExecutor.record_stored`): recorded, logged, queued for registration.
        """
        for name in self.steps:
            if name in self._collected:
                continue  # collecting again changes nothing
            record = records.read_step_record(self.stack, self.run_id, name)
            if record is None:
                if name not in self.results:
                    self.skip_step(name, "the remote orchestrator did not run this step")
                continue
            result = attrs.evolve(records.step_run_of(record), name=name, run_id=self.run_id)
            cached_from = record.get("cached_from") if result.status == "cached" else None  # the container found it in the cache
            self.metadata.record_step(
                self.run_id, name, result.status, started_at=result.started_at, ended_at=result.ended_at,
                cache_key=record.get("cache_key"), cached_from=cached_from, error=result.error,
            )
            if cached_from:
                self.cached_from[name] = cached_from
            for param, artifact_id in record.get("inputs", {}).items():
                self.metadata.record_consumption(self.run_id, name, param, artifact_id)
            for attempt in result.attempts:
                self.metadata.record_attempt(self.run_id, name, attempt.attempt, attempt.status, attempt.started_at, attempt.ended_at, attempt.error)
            for stored in result.outputs.values():
                if cached_from:
                    self.routes.record_stored(stored, "cached", step=name, cached_from=cached_from)
                else:
                    self.routes.record_stored(stored, "remote")
            self.results[name] = result
            self._collected.add(name)
            self._notify(name, result.status, result)

    # -- executing ----------------------------------------------------------------------------

    def skip_step(self, name: str, reason: str) -> StepRun:
        reason = redact(reason)
        result = StepRun(name, "skipped", error=reason, run_id=self.run_id)
        self.results[name] = result
        self.metadata.record_step(self.run_id, name, "skipped", error=reason)
        self._notify(name, "skipped", result)
        return result

    def fail_step(self, name: str, reason: str) -> StepRun:
        """Record that step ``name`` failed outside this process (a remote orchestrator saw it fail)."""
        reason = redact(reason)
        result = StepRun(name, "failed", error=reason, run_id=self.run_id)
        self.results[name] = result
        self.metadata.record_step(self.run_id, name, "failed", ended_at=time.time(), error=reason)
        self._notify(name, "failed", result)
        return result

    def execute_step(self, name: str) -> StepRun:
        node = self.graph.nodes[name]
        started = time.time()
        self.announcer.started(name, started)  # written `running` only if it is still running in a moment
        self._notify(name, "running", None)
        try:
            with self.metadata.one_transaction():  # the step's records, its own row included, committed when it ends
                result = self._execute(node, name, started)
        finally:
            self.announcer.ended(name)
        self.results[name] = result
        self._release_inputs(node)
        self._notify(name, result.status, result)
        return result

    def _execute(self, node: StepNode, name: str, started: float) -> StepRun:
        try:
            inputs = self._upstream_inputs(node)
            cache_key = self._cache_key(node, inputs)  # from the upstream records' hashes: nothing is read
            self.cache_keys[name] = cache_key
            result = self._from_cache(node, cache_key, inputs, started) if self.cache and node.step.cache else None
            if result is None:  # only a step that runs loads (and verifies) its inputs
                result = self._run_attempts(node, self._load_inputs(node, inputs), inputs, cache_key, started)
        except KeyboardInterrupt as exc:
            if interrupts.received():  # Ctrl-C: the whole run stops
                self.metadata.record_step(
                    self.run_id, name, "interrupted", started_at=started, ended_at=time.time(), error="interrupted (Ctrl-C)"
                )
                raise
            result = self._failed(name, started, exc, f"step {name!r} raised KeyboardInterrupt")
        except SystemExit as exc:
            result = self._failed(name, started, exc, f"step {name!r} called sys.exit({exc.code!r})")
        except Exception as exc:
            result = self._failed(name, started, exc, f"{type(exc).__name__}: {exc}")
        return result

    def _failed(self, name: str, started: float, exc: BaseException, error: str) -> StepRun:
        ended = time.time()
        redact_exception(exc)  # the exception reaches Python code as the failure's cause
        error = redact(error)
        trace = redact(traceback.format_exc())
        self.metadata.record_step(self.run_id, name, "failed", started_at=started, ended_at=ended, error=error + "\n" + trace)
        return StepRun(
            name, "failed", started, ended, error, exception=exc, traceback=trace, run_id=self.run_id, attempts=list(self.attempts.get(name, []))
        )

    def _notify(self, name: str, status: str, result: StepRun | None) -> None:
        if self.progress is not None:
            self.progress(name, status, result)
        if result is not None:
            self.routes.observers.step_finished(
                StepFinished(
                    self.run_id, name, result.status, result.started_at, result.ended_at, result.error,
                    {out: a.artifact_id for out, a in result.outputs.items()},
                )
            )

    def _upstream_inputs(self, node: StepNode) -> dict[str, StoredArtifact]:
        """The upstream records a step's inputs are bound to (their content hashes make the cache key)."""
        inputs: dict[str, StoredArtifact] = {}
        for param, binding in node.bindings.items():
            if isinstance(binding, Constant):
                continue
            upstream = self.results.get(binding.step)
            if upstream is None or binding.output not in upstream.outputs:
                raise PipelineError(f"step {node.name!r} needs {binding.step}.{binding.output}, which was not produced")
            inputs[param] = upstream.outputs[binding.output]
        return inputs

    def _load_inputs(self, node: StepNode, inputs: dict[str, StoredArtifact]) -> dict[str, Any]:
        """The step's arguments: constants, values still in memory, the rest read (and verified) from the store."""
        kwargs: dict[str, Any] = {}
        hints = node.step.type_hints
        for param, binding in node.bindings.items():
            if isinstance(binding, Constant):
                kwargs[param] = binding.value
                continue
            stored = inputs[param]
            if stored.artifact_id in self.values:
                value = self.values[stored.artifact_id]
            else:
                value = read_stored(self.stack, stored)
            kwargs[param] = coerce(value, hints.get(param))
        return kwargs

    def _release_inputs(self, node: StepNode) -> None:
        for binding in node.bindings.values():
            if isinstance(binding, OutputRef):
                key = f"{binding.step}.{binding.output}"
                self._remaining[key] -= 1
                if self._remaining[key] <= 0:
                    upstream = self.results.get(binding.step)
                    if upstream and binding.output in upstream.outputs:
                        self.values.pop(upstream.outputs[binding.output].artifact_id, None)

    @functools.cached_property
    def _stack_fingerprint(self) -> tuple[Any, str]:
        """What of the stack a cached result depends on: where it is stored and how it is routed."""
        store = self.stack.config.component(Kind.ARTIFACT_STORE)
        where = [store.type, _canonical(store.options)] if store else None
        return where, _canonical({k: repr(v) for k, v in self.stack.config.routing.items()})

    def _cache_key(self, node: StepNode, inputs: dict[str, StoredArtifact]) -> str:
        store, routing = self._stack_fingerprint
        parts = {
            "step": node.step.name,
            "code": node.step.code_hash(),
            "outputs": node.step.output_names,
            "constants": {p: _canonical(b.value) for p, b in node.bindings.items() if isinstance(b, Constant)},
            "inputs": {p: a.content_hash for p, a in inputs.items()},
            "store": store,
            "routing": routing,
        }
        return hashlib.sha256(_canonical(parts).encode()).hexdigest()

    def _record_inputs(self, node: StepNode, inputs: dict[str, StoredArtifact]) -> None:
        for param, stored in inputs.items():
            self.metadata.record_consumption(self.run_id, node.name, param, stored.artifact_id)

    def _from_cache(self, node: StepNode, cache_key: str, inputs: dict[str, StoredArtifact], started: float) -> StepRun | None:
        hit = find_hit(self.stack, self.metadata, cache_key, node.step.output_names, verify=self.verify_hits)
        if hit is None:
            return None
        return self._serve_cached(node, cache_key, inputs, hit, started)

    def _serve_cached(self, node: StepNode, cache_key: str, inputs: dict[str, StoredArtifact], hit: CacheHit, started: float) -> StepRun:
        outputs = hit.outputs
        self._record_inputs(node, inputs)
        for stored in outputs.values():
            if stored.artifact_type == "Model" and not self.verify_hits:  # verified against the record before the run routes it again
                self.values[stored.artifact_id] = read_stored(self.stack, stored)
            read = self.routes.record_stored(stored, "cached", step=node.name, cached_from=hit.run_id)
            if read is not None:
                self.values[stored.artifact_id] = read
        ended = time.time()
        self.cached_from[node.name] = hit.run_id
        self.metadata.record_step(self.run_id, node.name, "cached", started_at=started, ended_at=ended, cache_key=cache_key, cached_from=hit.run_id)
        return StepRun(node.name, "cached", started, ended, outputs=outputs, inputs=dict(inputs), run_id=self.run_id)

    def index_result(self, name: str) -> bool:
        """Write step ``name``'s completed result to the artifact store's cache index (remote steps do, for the next client)."""
        result = self.results.get(name)
        cache_key = self.cache_keys.get(name)
        if result is None or result.status != "completed" or not cache_key:
            return False
        return cache_index.write_entry(self.stack, cache_key, self.run_id, name, result.outputs)

    def _run_attempts(self, node: StepNode, kwargs: dict[str, Any], inputs: dict[str, StoredArtifact], cache_key: str, started: float) -> StepRun:
        """:meth:`_run`, tried again after a failure and bounded in time as the step's settings say."""
        settings = self.step_settings(node.name)
        if settings.retries == 0 and settings.timeout is None and node.name not in self.first_attempt:
            return self._run(node, kwargs, inputs, cache_key, started)  # the common case: no attempt bookkeeping
        self._record_inputs(node, inputs)
        attempts = self.attempts.setdefault(node.name, [])

        def record(attempt: Attempt) -> None:
            attempts.append(attempt)
            self.metadata.record_attempt(self.run_id, node.name, attempt.attempt, attempt.status, attempt.started_at, attempt.ended_at, attempt.error)

        result: StepRun = run_attempts(
            node.name,
            lambda: self._run(node, kwargs, inputs, cache_key, started, record_inputs=False, timeout=settings.timeout),
            retries=settings.retries,
            retry_delay=settings.retry_delay,
            record=record,
            first=self.first_attempt.get(node.name, 1),
            is_interrupt=interrupts.received,
        )
        return attrs.evolve(result, attempts=list(attempts))

    def _run(
        self,
        node: StepNode,
        kwargs: dict[str, Any],
        inputs: dict[str, StoredArtifact],
        cache_key: str,
        started: float,
        *,
        record_inputs: bool = True,
        timeout: float | None = None,
    ) -> StepRun:
        if record_inputs:
            self._record_inputs(node, inputs)
        value = node.step.fn(**kwargs) if timeout is None else call_with_timeout(node.name, node.step.fn, kwargs, timeout)
        names = node.step.output_names
        if len(names) == 1:
            values = {names[0]: value}
        else:
            if not isinstance(value, tuple | list) or len(value) != len(names):
                raise PipelineError(
                    f"step {node.name!r} declares outputs {names} but returned {type(value).__name__}",
                    hint=f"return a tuple of {len(names)} values",
                )
            values = dict(zip(names, value, strict=True))
        annotations = _output_annotations(node.step.type_hints.get("return"), len(names))
        outputs: dict[str, StoredArtifact] = {}
        for (out, out_value), annotation in zip(values.items(), annotations, strict=True):
            check_return(node.name, out if len(names) > 1 else None, out_value, annotation)
            out_value = coerce(out_value, annotation)
            stored = self.routes.store(out_value, node.name, out)
            self.values[stored.artifact_id] = out_value
            outputs[out] = stored
        ended = time.time()
        self.metadata.record_step(self.run_id, node.name, "completed", started_at=started, ended_at=ended, cache_key=cache_key)
        return StepRun(node.name, "completed", started, ended, outputs=outputs, inputs=dict(inputs), run_id=self.run_id)
