"""A small, stateful fake of the Vertex AI REST API (v1) for tests.

No Vertex AI emulator exists, so this module serves just enough of the public
REST surface (``/v1/projects/P/locations/L/...``) over plain HTTP on
127.0.0.1 for the real ``google-cloud-aiplatform`` SDK to work against it,
unmodified, with ``api_transport="rest"``, ``api_endpoint="http://127.0.0.1:PORT"``
and ``AnonymousCredentials``.

Served resources (shapes follow the public REST reference):

* models: ``models:upload`` (new model, or a new version with ``parentModel``),
  get (``ID``, ``ID@VERSION``, ``ID@ALIAS``), list, ``:listVersions``,
  ``:mergeVersionAliases``, delete, ``:deleteVersion``;
* endpoints: create, get, list, ``:deployModel``, ``:undeployModel``,
  ``:predict``, delete;
* pipelineJobs: create, get (advances PENDING -> RUNNING -> SUCCEEDED on
  successive gets, or fails when told to), list, ``:cancel``, delete;
* long-running operations: returned as ``{name, metadata}``; their effect
  lands when they are polled (``GET /ui/.../operations/OP`` or ``/v1/...``),
  which answers ``{done: true, response: {"@type": ...}}``.

Everything else answers a JSON google error body (404, or 501 for a known
resource with an unsupported method) and is recorded, so a test can see what
the SDK asked for in :attr:`VertexFake.requests`.

It is also a pytest plugin (``-p standins.vertex_fake``) providing the
session fixture ``vertex_fake`` and the function fixture ``vertex_env``.
Google libraries are imported inside the fixtures only.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

JSON = dict[str, Any]
PredictHandler = Callable[[JSON, list[Any], Any], list[Any]]

_TYPE_PREFIX = "type.googleapis.com/google.cloud.aiplatform.v1."
_EMPTY_TYPE = "type.googleapis.com/google.protobuf.Empty"
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}

_PIPELINE_DONE_STATES = {
    "PIPELINE_STATE_SUCCEEDED",
    "PIPELINE_STATE_FAILED",
    "PIPELINE_STATE_CANCELLED",
}

# Canonical gRPC status names and codes used in google error bodies.
_STATUS_CODES = {
    "INVALID_ARGUMENT": 3,
    "NOT_FOUND": 5,
    "ALREADY_EXISTS": 6,
    "FAILED_PRECONDITION": 9,
    "UNIMPLEMENTED": 12,
}
_HTTP_FOR_STATUS = {
    "INVALID_ARGUMENT": 400,
    "NOT_FOUND": 404,
    "ALREADY_EXISTS": 409,
    "FAILED_PRECONDITION": 400,
    "UNIMPLEMENTED": 501,
}


def _now() -> str:
    """Return the current UTC time in the RFC 3339 ``Z`` form the API uses."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class FakeError(Exception):
    """An API error the fake answers with a google JSON error body."""

    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    @property
    def http_status(self) -> int:
        """The HTTP status code matching :attr:`status`."""
        return _HTTP_FOR_STATUS.get(self.status, 500)

    def body(self) -> JSON:
        """The ``{"error": {...}}`` body google APIs return."""
        return {
            "error": {
                "code": self.http_status,
                "message": self.message,
                "status": self.status,
            }
        }

    def rpc_status(self) -> JSON:
        """The ``google.rpc.Status`` form used in a failed operation."""
        return {"code": _STATUS_CODES.get(self.status, 2), "message": self.message}


class _NoRoute(FakeError):
    """The fake has no handler for a method and path (404, or 501 if known)."""


@dataclass
class RecordedRequest:
    """One HTTP request the fake received."""

    method: str
    path: str
    """The raw request path, still URL-encoded (``models/1%401``)."""
    query: dict[str, str]
    body: Any
    """The decoded JSON body, or ``None`` when there was none."""
    status: int = 0
    """The HTTP status the fake answered with."""
    routed: bool = True
    """False when the fake has no handler for this method and path."""

    @property
    def decoded_path(self) -> str:
        """The path with percent-escapes decoded (``models/1@1``)."""
        return unquote(self.path)


@dataclass
class _Operation:
    """A long-running operation; ``complete`` runs when it is first polled done."""

    name: str
    metadata: JSON
    complete: Callable[[], JSON]
    response_type: str
    polls_left: int
    done: bool = False
    result: JSON = field(default_factory=dict)

    def to_json(self) -> JSON:
        """Render the ``google.longrunning.Operation`` JSON."""
        body: JSON = {"name": self.name, "metadata": self.metadata}
        if self.done:
            body["done"] = True
            body.update(self.result)
        return body

    def finish(self) -> None:
        """Apply the operation's effect and store its response or error."""
        if self.done:
            return
        self.done = True
        try:
            response = self.complete()
        except FakeError as err:
            self.result = {"error": err.rpc_status()}
            return
        self.result = {"response": {"@type": self.response_type, **response}}


class VertexFake:
    """State and HTTP server of the fake Vertex AI API.

    Resource state is plain JSON (REST field names) so tests can assert on it:
    ``models[model_id][version_id]``, ``endpoints[endpoint_id]``,
    ``pipeline_jobs[job_id]``.
    """

    def __init__(self, project: str = "fake-project", location: str = "us-central1") -> None:
        self.project = project
        self.location = location
        self._lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.requests: list[RecordedRequest] = []
        self.models: dict[str, dict[str, JSON]] = {}
        self.endpoints: dict[str, JSON] = {}
        self.pipeline_jobs: dict[str, JSON] = {}
        self.operations: dict[str, _Operation] = {}
        self.blocked_hosts: list[str] = []
        self.reset()

    # ------------------------------------------------------------------ setup
    def reset(self) -> None:
        """Forget all resources, requests and test knobs."""
        with self._lock:
            self.requests.clear()
            self.models.clear()
            self.endpoints.clear()
            self.pipeline_jobs.clear()
            self.operations.clear()
            self.blocked_hosts.clear()
            self._ids = itertools.count(1)
            self.operation_polls_before_done = 0
            """How many polls of an operation answer ``done: false`` first."""
            self.pipeline_progression: list[str] = [
                "PIPELINE_STATE_RUNNING",
                "PIPELINE_STATE_SUCCEEDED",
            ]
            """States a pipeline job walks through, one per GET after create."""
            self.pipeline_failures: dict[str | None, str] = {}
            self.predict_handler: PredictHandler | None = None
            self._job_gets: dict[str, int] = {}

    def start(self) -> VertexFake:
        """Serve on a free 127.0.0.1 port in a daemon thread."""
        handler = type("_BoundHandler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="vertex-fake", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    @property
    def port(self) -> int:
        """The port the server listens on."""
        assert self._server is not None, "fake not started"
        return int(self._server.server_address[1])

    @property
    def host(self) -> str:
        """``127.0.0.1:PORT``."""
        return f"127.0.0.1:{self.port}"

    @property
    def endpoint(self) -> str:
        """``http://127.0.0.1:PORT``, usable as ``api_endpoint``."""
        return f"http://{self.host}"

    @property
    def parent(self) -> str:
        """``projects/P/locations/L`` for the fake's project and location."""
        return f"projects/{self.project}/locations/{self.location}"

    # ------------------------------------------------------------ test knobs
    def fail_pipeline(self, message: str, job_id: str | None = None) -> None:
        """Make a pipeline job (or, without ``job_id``, every new one) fail."""
        with self._lock:
            self.pipeline_failures[job_id] = message

    def set_predictions(self, predictions: list[Any] | PredictHandler) -> None:
        """Answer ``:predict`` with fixed predictions or ``f(endpoint, instances, parameters)``."""
        if callable(predictions):
            self.predict_handler = predictions
        else:
            fixed = list(predictions)
            self.predict_handler = lambda _ep, _inst, _params: copy.deepcopy(fixed)

    def complete_operations(self) -> None:
        """Finish every pending operation, as if each had been polled."""
        with self._lock:
            for op in self.operations.values():
                op.finish()

    # ------------------------------------------------------------ assertions
    def calls(self, method: str | None = None, contains: str = "") -> list[RecordedRequest]:
        """Recorded requests filtered by method and a decoded-path substring."""
        with self._lock:
            return [
                r
                for r in self.requests
                if (method is None or r.method == method) and contains in r.decoded_path
            ]

    @property
    def unhandled(self) -> list[RecordedRequest]:
        """Requests the fake has no handler for (answered 404 or 501)."""
        return [r for r in self.calls() if not r.routed]

    def model(self, model_id: str, version: str | None = None) -> JSON:
        """A model version (default version when ``version`` is None)."""
        with self._lock:
            return self._model_version(model_id, version)

    # --------------------------------------------------------------- helpers
    def _next_id(self) -> str:
        """A fresh numeric resource id, deterministic after :meth:`reset`."""
        return str(1_000_000_000_000_000_000 + next(self._ids))

    def _new_operation(
        self,
        resource_name: str,
        metadata_type: str,
        response_type: str,
        complete: Callable[[], JSON],
    ) -> JSON:
        """Register an operation under ``resource_name`` and render it."""
        name = f"{resource_name}/operations/{self._next_id()}"
        now = _now()
        metadata = {
            "@type": _TYPE_PREFIX + metadata_type,
            "genericMetadata": {"createTime": now, "updateTime": now},
        }
        op = _Operation(name, metadata, complete, response_type, self.operation_polls_before_done)
        self.operations[name.rsplit("/", 1)[1]] = op
        return op.to_json()

    def _poll_operation(self, op_id: str) -> JSON:
        """Answer an operation poll, finishing it once its polls ran out."""
        op = self.operations.get(op_id)
        if op is None:
            raise FakeError("NOT_FOUND", f"Operation {op_id} not found.")
        if op.polls_left > 0:
            op.polls_left -= 1
        else:
            op.finish()
        return op.to_json()

    # ------------------------------------------------------------------ models
    def _model_version(self, model_id: str, version: str | None) -> JSON:
        """Find a version by id or alias; the default version if none given."""
        versions = self.models.get(model_id)
        if not versions:
            raise FakeError("NOT_FOUND", f"Model {model_id} not found.")
        wanted = version or "default"
        for v in versions.values():
            if v["versionId"] == wanted or wanted in v["versionAliases"]:
                return v
        raise FakeError("NOT_FOUND", f"Model {model_id}@{wanted} not found.")

    def _upload_model(self, parent: str, body: JSON) -> JSON:
        """``POST models:upload``: a new model, or a new version of ``parentModel``."""
        spec = body.get("model") or {}
        parent_model = body.get("parentModel")
        if parent_model:
            model_id = parent_model.rsplit("/", 1)[1]
            if model_id not in self.models:
                raise FakeError("NOT_FOUND", f"Parent model {parent_model} not found.")
            version_id = str(max(int(v) for v in self.models[model_id]) + 1)
        else:
            model_id = body.get("modelId") or self._next_id()
            if model_id in self.models:
                raise FakeError("ALREADY_EXISTS", f"Model {model_id} already exists.")
            version_id = "1"
        name = f"{parent}/models/{model_id}"

        def complete() -> JSON:
            now = _now()
            model = {
                **copy.deepcopy(spec),
                "name": name,
                "versionId": version_id,
                "versionAliases": [],
                "createTime": now,
                "updateTime": now,
                "versionCreateTime": now,
                "versionUpdateTime": now,
                "etag": f"etag-{model_id}-{version_id}",
                "labels": spec.get("labels", {}),
                "supportedDeploymentResourcesTypes": ["DEDICATED_RESOURCES"],
                "supportedInputStorageFormats": ["jsonl", "csv", "bigquery"],
                "supportedOutputStorageFormats": ["jsonl", "bigquery"],
                "modelSourceInfo": {"sourceType": "CUSTOM"},
                "deployedModels": [],
            }
            versions = self.models.setdefault(model_id, {})
            if versions:
                model["createTime"] = next(iter(versions.values()))["createTime"]
            versions[version_id] = model
            aliases = list(spec.get("versionAliases", []))
            if not parent_model and "default" not in aliases:
                aliases.insert(0, "default")
            self._merge_aliases(model_id, version_id, aliases)
            return {"model": name, "modelVersionId": version_id}

        return self._new_operation(
            name,
            "UploadModelOperationMetadata",
            _TYPE_PREFIX + "UploadModelResponse",
            complete,
        )

    def _merge_aliases(self, model_id: str, version: str | None, aliases: list[str]) -> JSON:
        """``:mergeVersionAliases``: add aliases (moving them), ``-alias`` removes."""
        target = self._model_version(model_id, version)
        for alias in aliases:
            if alias.startswith("-"):
                if alias[1:] == "default":
                    raise FakeError("INVALID_ARGUMENT", "The default alias cannot be removed.")
                if alias[1:] in target["versionAliases"]:
                    target["versionAliases"].remove(alias[1:])
                continue
            for other in self.models[model_id].values():
                if alias in other["versionAliases"]:
                    other["versionAliases"].remove(alias)
            target["versionAliases"].append(alias)
        target["versionUpdateTime"] = target["updateTime"] = _now()
        return target

    def _delete_model(self, model_id: str, version: str | None, whole: bool) -> JSON:
        """``DELETE models/ID`` (whole model) or ``:deleteVersion``."""
        target = self._model_version(model_id, version)
        if whole and any(v["deployedModels"] for v in self.models[model_id].values()):
            raise FakeError("FAILED_PRECONDITION", f"Model {model_id} is deployed.")
        if not whole:
            if "default" in target["versionAliases"]:
                raise FakeError("FAILED_PRECONDITION", "Cannot delete the default version.")
            if target["deployedModels"]:
                raise FakeError("FAILED_PRECONDITION", "Model version is deployed.")

        def complete() -> JSON:
            if whole:
                self.models.pop(model_id, None)
            else:
                self.models[model_id].pop(target["versionId"], None)
            return {}

        return self._new_operation(target["name"], "DeleteOperationMetadata", _EMPTY_TYPE, complete)

    # --------------------------------------------------------------- endpoints
    def _endpoint(self, endpoint_id: str) -> JSON:
        """Find an endpoint or raise NOT_FOUND."""
        if endpoint_id not in self.endpoints:
            raise FakeError("NOT_FOUND", f"Endpoint {endpoint_id} not found.")
        return self.endpoints[endpoint_id]

    def _create_endpoint(self, parent: str, body: JSON, endpoint_id: str | None) -> JSON:
        """``POST endpoints``: the endpoint appears when the operation completes."""
        endpoint_id = endpoint_id or self._next_id()
        name = f"{parent}/endpoints/{endpoint_id}"

        def complete() -> JSON:
            now = _now()
            endpoint = {
                **copy.deepcopy(body),
                "name": name,
                "labels": body.get("labels", {}),
                "deployedModels": [],
                "trafficSplit": {},
                "createTime": now,
                "updateTime": now,
                "etag": f"etag-{endpoint_id}",
            }
            self.endpoints[endpoint_id] = endpoint
            return copy.deepcopy(endpoint)

        return self._new_operation(
            name, "CreateEndpointOperationMetadata", _TYPE_PREFIX + "Endpoint", complete
        )

    def _deploy_model(self, endpoint_id: str, body: JSON) -> JSON:
        """``:deployModel``: validate now, deploy when the operation completes."""
        endpoint = self._endpoint(endpoint_id)
        spec = copy.deepcopy(body.get("deployedModel") or {})
        model_ref = spec.get("model", "")
        match = re.fullmatch(r".*/models/([^/@]+)(?:@(.+))?", model_ref)
        if not match:
            raise FakeError("INVALID_ARGUMENT", f"Invalid model name {model_ref!r}.")
        model = self._model_version(match.group(1), match.group(2))
        if "dedicatedResources" in spec:
            dedicated = spec["dedicatedResources"]
            if not dedicated.get("machineSpec", {}).get("machineType"):
                raise FakeError("INVALID_ARGUMENT", "machineSpec.machineType is required.")
            if int(dedicated.get("minReplicaCount", 0)) < 1:
                raise FakeError("INVALID_ARGUMENT", "minReplicaCount must be >= 1.")
        deployed_id = spec.get("id") or self._next_id()
        split = dict(body.get("trafficSplit") or {})
        if not split:
            split = {"0": 100} if not endpoint["deployedModels"] else dict(endpoint["trafficSplit"])
        split = {deployed_id if k == "0" else k: int(v) for k, v in split.items()}
        if sum(split.values()) != 100:
            raise FakeError("INVALID_ARGUMENT", f"trafficSplit must sum to 100: {split}")

        def complete() -> JSON:
            now = _now()
            deployed = {
                **spec,
                "id": deployed_id,
                "model": model["name"],
                "modelVersionId": model["versionId"],
                "displayName": spec.get("displayName") or model.get("displayName", ""),
                "createTime": now,
            }
            endpoint["deployedModels"].append(deployed)
            endpoint["trafficSplit"] = split
            endpoint["updateTime"] = now
            model["deployedModels"].append(
                {"endpoint": endpoint["name"], "deployedModelId": deployed_id}
            )
            return {"deployedModel": copy.deepcopy(deployed)}

        return self._new_operation(
            endpoint["name"],
            "DeployModelOperationMetadata",
            _TYPE_PREFIX + "DeployModelResponse",
            complete,
        )

    def _undeploy_model(self, endpoint_id: str, body: JSON) -> JSON:
        """``:undeployModel``: remove a deployed model, rebalancing traffic."""
        endpoint = self._endpoint(endpoint_id)
        deployed_id = body.get("deployedModelId", "")
        deployed = next((d for d in endpoint["deployedModels"] if d["id"] == deployed_id), None)
        if deployed is None:
            raise FakeError("NOT_FOUND", f"DeployedModel {deployed_id} not found.")
        split = {k: int(v) for k, v in (body.get("trafficSplit") or {}).items()}
        if not split:
            split = {k: v for k, v in endpoint["trafficSplit"].items() if k != deployed_id}
        split.pop(deployed_id, None)
        remaining = len(endpoint["deployedModels"]) - 1
        if remaining and sum(split.values()) != 100:
            raise FakeError(
                "FAILED_PRECONDITION",
                f"Undeploying {deployed_id} leaves traffic {split} not summing to 100.",
            )

        def complete() -> JSON:
            endpoint["deployedModels"].remove(deployed)
            endpoint["trafficSplit"] = split if remaining else {}
            endpoint["updateTime"] = _now()
            match = re.fullmatch(r".*/models/([^/@]+)", deployed["model"])
            if match and match.group(1) in self.models:
                for version in self.models[match.group(1)].values():
                    version["deployedModels"] = [
                        ref
                        for ref in version["deployedModels"]
                        if ref["deployedModelId"] != deployed_id
                    ]
            return {}

        return self._new_operation(
            endpoint["name"],
            "UndeployModelOperationMetadata",
            _TYPE_PREFIX + "UndeployModelResponse",
            complete,
        )

    def _predict(self, endpoint_id: str, body: JSON) -> JSON:
        """``:predict``: answer from the deployed model with the most traffic."""
        endpoint = self._endpoint(endpoint_id)
        if not endpoint["deployedModels"]:
            raise FakeError("FAILED_PRECONDITION", f"Endpoint {endpoint_id} has no deployed model.")
        split = endpoint["trafficSplit"]
        deployed = max(endpoint["deployedModels"], key=lambda d: split.get(d["id"], 0))
        instances = list(body.get("instances") or [])
        if self.predict_handler is not None:
            predictions = self.predict_handler(endpoint, instances, body.get("parameters"))
        else:
            predictions = [0.0] * len(instances)
        return {
            "predictions": predictions,
            "deployedModelId": deployed["id"],
            "model": deployed["model"],
            "modelVersionId": deployed["modelVersionId"],
            "modelDisplayName": deployed.get("displayName", ""),
        }

    def _delete_endpoint(self, endpoint_id: str) -> JSON:
        """``DELETE endpoints/ID``: kept until the operation is polled."""
        endpoint = self._endpoint(endpoint_id)
        if endpoint["deployedModels"]:
            raise FakeError("FAILED_PRECONDITION", f"Endpoint {endpoint_id} has deployed models.")

        def complete() -> JSON:
            self.endpoints.pop(endpoint_id, None)
            return {}

        return self._new_operation(
            endpoint["name"], "DeleteOperationMetadata", _EMPTY_TYPE, complete
        )

    # ----------------------------------------------------------- pipelineJobs
    def _pipeline_job(self, job_id: str) -> JSON:
        """Find a pipeline job or raise NOT_FOUND."""
        if job_id not in self.pipeline_jobs:
            raise FakeError("NOT_FOUND", f"PipelineJob {job_id} not found.")
        return self.pipeline_jobs[job_id]

    def _create_pipeline_job(self, parent: str, body: JSON, job_id: str | None) -> JSON:
        """``POST pipelineJobs``: record the spec; the job starts PENDING."""
        if not body.get("pipelineSpec") and not body.get("templateUri"):
            raise FakeError("INVALID_ARGUMENT", "pipelineSpec or templateUri is required.")
        job_id = job_id or self._next_id()
        if job_id in self.pipeline_jobs:
            raise FakeError("ALREADY_EXISTS", f"PipelineJob {job_id} already exists.")
        now = _now()
        job = {
            **copy.deepcopy(body),
            "name": f"{parent}/pipelineJobs/{job_id}",
            "state": "PIPELINE_STATE_PENDING",
            "createTime": now,
            "updateTime": now,
            "labels": body.get("labels", {}),
        }
        self.pipeline_jobs[job_id] = job
        self._job_gets[job_id] = 0
        return job

    def _get_pipeline_job(self, job_id: str) -> JSON:
        """GET advances the job one step along :attr:`pipeline_progression`."""
        job = self._pipeline_job(job_id)
        if job["state"] in _PIPELINE_DONE_STATES:
            return job
        now = _now()
        if job["state"] == "PIPELINE_STATE_CANCELLING":
            job.update(state="PIPELINE_STATE_CANCELLED", endTime=now, updateTime=now)
            job["error"] = {"code": 1, "message": "CANCELLED"}
            return job
        step = self._job_gets[job_id]
        self._job_gets[job_id] = step + 1
        state = self.pipeline_progression[min(step, len(self.pipeline_progression) - 1)]
        failure = self.pipeline_failures.get(job_id, self.pipeline_failures.get(None))
        if failure is not None and state == "PIPELINE_STATE_SUCCEEDED":
            state = "PIPELINE_STATE_FAILED"
            job["error"] = {"code": 9, "message": failure}
        job.update(state=state, updateTime=now)
        job.setdefault("startTime", now)
        if state in _PIPELINE_DONE_STATES:
            job["endTime"] = now
        return job

    def _cancel_pipeline_job(self, job_id: str) -> JSON:
        """``:cancel``: the job goes CANCELLING, then CANCELLED on the next get."""
        job = self._pipeline_job(job_id)
        if job["state"] in _PIPELINE_DONE_STATES:
            raise FakeError("FAILED_PRECONDITION", f"PipelineJob {job_id} is already done.")
        job.update(state="PIPELINE_STATE_CANCELLING", updateTime=_now())
        return {}

    def _delete_pipeline_job(self, job_id: str) -> JSON:
        """``DELETE pipelineJobs/ID`` as an operation."""
        job = self._pipeline_job(job_id)

        def complete() -> JSON:
            self.pipeline_jobs.pop(job_id, None)
            return {}

        return self._new_operation(job["name"], "DeleteOperationMetadata", _EMPTY_TYPE, complete)

    # ----------------------------------------------------------------- routing
    def handle(self, record: RecordedRequest) -> tuple[int, JSON]:
        """Record and dispatch one request; return (HTTP status, JSON body)."""
        with self._lock:
            self.requests.append(record)
            body = record.body if isinstance(record.body, dict) else {}
            try:
                status, payload = (
                    200,
                    self._route(record.method, record.decoded_path, record.query, body),
                )
            except _NoRoute as err:
                record.routed = False
                status, payload = err.http_status, err.body()
            except FakeError as err:
                status, payload = err.http_status, err.body()
            record.status = status
            return status, payload

    def _route(self, method: str, path: str, query: dict[str, str], body: JSON) -> JSON:
        """Map a decoded path to the handler for it."""
        match = re.fullmatch(r"/(?:v1|ui)/(projects/[^/]+/locations/[^/]+)/(.+)", path)
        if not match:
            raise _NoRoute("NOT_FOUND", f"The fake has no route for {method} {path}.")
        parent, rest = match.groups()
        if method == "GET" and re.search(r"/operations/[^/:]+$", "/" + rest):
            return self._poll_operation(rest.rsplit("/", 1)[1])
        rest, _, verb = rest.partition(":")
        parts = rest.split("/")
        key = (method, parts[0], len(parts), verb)
        resource_id = parts[1] if len(parts) > 1 else ""
        model_id, _, version = resource_id.partition("@")
        routes: dict[tuple[str, str, int, str], Callable[[], JSON]] = {
            ("POST", "models", 1, "upload"): lambda: self._upload_model(parent, body),
            ("GET", "models", 1, ""): lambda: self._list(
                [self._model_version(m, None) for m in self.models], "models", query
            ),
            ("GET", "models", 2, ""): lambda: self._model_version(model_id, version or None),
            ("GET", "models", 2, "listVersions"): lambda: self._list(
                list(self._versions(model_id)), "models", query
            ),
            ("POST", "models", 2, "mergeVersionAliases"): lambda: self._merge_aliases(
                model_id, version or None, list(body.get("versionAliases", []))
            ),
            ("DELETE", "models", 2, ""): lambda: self._delete_model(
                model_id, version or None, True
            ),
            ("DELETE", "models", 2, "deleteVersion"): lambda: self._delete_model(
                model_id, version or None, False
            ),
            ("POST", "endpoints", 1, ""): lambda: self._create_endpoint(
                parent, body, query.get("endpointId")
            ),
            ("GET", "endpoints", 1, ""): lambda: self._list(
                list(self.endpoints.values()), "endpoints", query
            ),
            ("GET", "endpoints", 2, ""): lambda: self._endpoint(resource_id),
            ("DELETE", "endpoints", 2, ""): lambda: self._delete_endpoint(resource_id),
            ("POST", "endpoints", 2, "deployModel"): lambda: self._deploy_model(resource_id, body),
            ("POST", "endpoints", 2, "undeployModel"): lambda: self._undeploy_model(
                resource_id, body
            ),
            ("POST", "endpoints", 2, "predict"): lambda: self._predict(resource_id, body),
            ("POST", "pipelineJobs", 1, ""): lambda: self._create_pipeline_job(
                parent, body, query.get("pipelineJobId")
            ),
            ("GET", "pipelineJobs", 1, ""): lambda: self._list(
                list(self.pipeline_jobs.values()), "pipelineJobs", query
            ),
            ("GET", "pipelineJobs", 2, ""): lambda: self._get_pipeline_job(resource_id),
            ("POST", "pipelineJobs", 2, "cancel"): lambda: self._cancel_pipeline_job(resource_id),
            ("DELETE", "pipelineJobs", 2, ""): lambda: self._delete_pipeline_job(resource_id),
        }
        if key in routes:
            return copy.deepcopy(routes[key]())
        if parts[0] in {"models", "endpoints", "pipelineJobs"}:
            raise _NoRoute("UNIMPLEMENTED", f"The fake does not implement {method} {path}.")
        raise _NoRoute("NOT_FOUND", f"The fake has no route for {method} {path}.")

    def _versions(self, model_id: str) -> Iterator[JSON]:
        """All versions of a model, oldest first."""
        if model_id not in self.models:
            raise FakeError("NOT_FOUND", f"Model {model_id} not found.")
        return iter(self.models[model_id].values())

    @staticmethod
    def _list(items: list[JSON], key: str, query: dict[str, str]) -> JSON:
        """A list response (one page), applying a simple ``filter``."""
        wanted = _parse_filter(query.get("filter", ""))
        return {key: [item for item in items if _matches(item, wanted)]}


def _parse_filter(text: str) -> list[tuple[str, str]]:
    """Parse ``display_name="x" AND labels.k="v"`` into (field path, value) pairs.

    Only equality terms joined by AND are understood; anything else is an error
    so a test notices the SDK sent a filter the fake cannot honour.
    """
    terms: list[tuple[str, str]] = []
    for term in filter(None, (t.strip() for t in re.split(r"\s+AND\s+", text.strip()))):
        match = re.fullmatch(r'([\w.]+)\s*=\s*"?([^"]*)"?', term)
        if not match:
            raise FakeError("INVALID_ARGUMENT", f"The fake cannot evaluate filter {text!r}.")
        terms.append((match.group(1), match.group(2)))
    return terms


def _matches(item: JSON, terms: list[tuple[str, str]]) -> bool:
    """Whether a resource satisfies every ``field = value`` term."""
    for path, value in terms:
        head, *tail = path.split(".")
        camel = re.sub(r"_(\w)", lambda m: m.group(1).upper(), head)
        current: Any = item.get(camel)
        for part in tail:
            current = current.get(part) if isinstance(current, dict) else None
        if str(current) != value:
            return False
    return True


class _Handler(BaseHTTPRequestHandler):
    """HTTP glue: record the request, dispatch to the fake, write JSON."""

    fake: VertexFake
    protocol_version = "HTTP/1.1"

    def _serve(self) -> None:
        """Handle any method."""
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        record = RecordedRequest(self.command, url.path, query, body)
        status, payload = self.fake.handle(record)
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_DELETE = do_PATCH = do_PUT = _serve

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet; requests are recorded instead."""


# --------------------------------------------------------------- pytest plugin
def _guard_getaddrinfo(fake: VertexFake, real: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap ``socket.getaddrinfo`` to refuse (and record) non-loopback hosts."""

    def guarded(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name not in _LOOPBACK:
            fake.blocked_hosts.append(name)
            raise socket.gaierror(socket.EAI_NONAME, f"vertex_env blocks {name}")
        return real(host, *args, **kwargs)

    return guarded


def _blocked_project_number(fake: VertexFake) -> Callable[..., str]:
    """Refuse (and record) the SDK's Cloud Resource Manager lookup, as the DNS guard refuses other hosts.

    ``PipelineJob.submit`` checks who owns an existing pipeline-root bucket by asking Resource Manager,
    over gRPC, for the project number. gRPC resolves names itself (the guard above never sees it) and
    api-core retries the failure for 60 s before the SDK logs it and submits anyway: a minute of network
    attempts per submission. Failing it at once keeps every test offline and leaves the SDK's own
    behaviour (log, carry on) as it is.
    """

    def blocked(project_id: str, credentials: Any = None) -> str:
        from google.api_core.exceptions import ServiceUnavailable

        fake.blocked_hosts.append("cloudresourcemanager.googleapis.com")
        raise ServiceUnavailable(f"vertex_env blocks cloudresourcemanager.googleapis.com (project {project_id})")

    return blocked


@pytest.fixture(scope="session")
def vertex_fake() -> Iterator[VertexFake]:
    """The fake Vertex AI server on a free 127.0.0.1 port, for the session.

    Also points google-auth's metadata-server probes at the fake (so they are
    recorded and answered 404, never reaching a real metadata server) and
    sets ``NO_GCE_CHECK=true``; google-auth reads these at import time, so
    this fixture must run before google.auth is first imported.
    """
    fake = VertexFake().start()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NO_GCE_CHECK", "true")
        mp.setenv("GCE_METADATA_HOST", fake.host)
        mp.setenv("GCE_METADATA_IP", fake.host)
        try:
            yield fake
        finally:
            fake.stop()


@pytest.fixture
def vertex_env(vertex_fake: VertexFake, monkeypatch: pytest.MonkeyPatch) -> Iterator[VertexFake]:
    """Reset the fake and ``aiplatform.init`` the real SDK against it.

    ``STORAGE_EMULATOR_HOST`` points google-cloud-storage at the fake too
    (``PipelineJob.submit`` probes the pipeline-root bucket); the fake answers
    404 there. DNS lookups of non-loopback hosts fail fast and are recorded in
    ``vertex_fake.blocked_hosts``.
    """
    vertex_fake.reset()
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", vertex_fake.endpoint)
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", vertex_fake.project)
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    monkeypatch.setattr(socket, "getaddrinfo", _guard_getaddrinfo(vertex_fake, socket.getaddrinfo))
    aiplatform = pytest.importorskip(
        "google.cloud.aiplatform", reason="installed by the vertex nox session"
    )
    from google.auth.credentials import AnonymousCredentials
    from google.cloud.aiplatform.utils import resource_manager_utils

    monkeypatch.setattr(resource_manager_utils, "get_project_number", _blocked_project_number(vertex_fake))
    aiplatform.init(
        project=vertex_fake.project,
        location=vertex_fake.location,
        api_endpoint=vertex_fake.endpoint,
        api_transport="rest",
        credentials=AnonymousCredentials(),
    )
    try:
        yield vertex_fake
    finally:
        # Forget project, endpoint and credentials so later tests start clean.
        aiplatform.initializer.global_config.__init__()
