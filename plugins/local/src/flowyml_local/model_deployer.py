"""The local model deployer: serves a model over HTTP on 127.0.0.1 in a background process."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

import flowyml
from flowyml.errors import DeploymentError
from flowyml.naming import check_name
from flowyml.plugins.component import Component
from flowyml.plugins.types import Deployment, ModelVersion
from flowyml.stacks.options import at_least, port_number


@attrs.frozen
class LocalModelDeployerOptions:
    #: Port of the first endpoint, 1-65535 (not set: any free port).
    port: int | None = attrs.field(default=None, validator=port_number)
    #: Seconds to wait for a server to answer.
    startup_timeout: float = attrs.field(default=60.0, validator=at_least(0.001))


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop_process(pid: int, timeout: float = 10.0) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done:
                return
        except ChildProcessError:
            if not _alive(pid):
                return
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


class LocalModelDeployer(Component):
    kind = "model_deployer"
    Options = LocalModelDeployerOptions

    @property
    def state_dir(self) -> Path:
        path = self.context.project_dir / ".flowyml" / "servers"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def describe(self) -> str:
        return "local HTTP model servers on 127.0.0.1"

    def _start(self, model: ModelVersion, endpoint_name: str, port: int) -> tuple[int, str]:
        artifact = Path(model.uri)
        if not artifact.is_dir():
            raise DeploymentError(
                f"the local model deployer serves models from a local artifact store; {model.uri} is not a local folder",
                hint="use a stack whose artifact_store is local, or a cloud model deployer",
            )
        token = uuid.uuid4().hex[:8]
        ready = self.state_dir / f"{endpoint_name}-{token}.ready"
        log_path = self.state_dir / f"{endpoint_name}-{token}.log"
        cmd = [
            sys.executable, "-m", "flowyml_local.server",
            "--artifact", str(artifact), "--ready-file", str(ready), "--port", str(port),
            "--name", model.name, "--version", model.version,
        ]
        if model.content_hash:
            cmd += ["--content-hash", model.content_hash]
        with open(log_path, "ab") as log:
            proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + self.options.startup_timeout
        while not ready.exists():
            if proc.poll() is not None:
                tail = log_path.read_text(errors="replace")[-2000:]
                raise DeploymentError(
                    f"the model server for {model.name} version {model.version} exited with status {proc.returncode}:\n{tail}",
                    hint=f"full log: {log_path}",
                )
            if time.monotonic() > deadline:
                stop_process(proc.pid)
                raise DeploymentError(
                    f"the model server for {model.name} did not start within {self.options.startup_timeout:g}s",
                    hint=f"see its log: {log_path}",
                )
            time.sleep(0.05)
        info = json.loads(ready.read_text())
        ready.unlink(missing_ok=True)
        return proc.pid, f"http://127.0.0.1:{info['port']}"

    @flowyml.hookimpl
    def flowyml_model_deployer_deploy(
        self, model: ModelVersion, endpoint_name: str, config: Mapping[str, Any]
    ) -> Deployment:
        check_name(endpoint_name, "endpoint name", error=DeploymentError)  # it names the server's log file
        db = self.context.metadata
        old = db.deployment(endpoint_name)
        port = int(config.get("port", self.options.port) or 0)
        if old and _alive(old["pid"]) and port and old["url"].endswith(f":{port}"):
            port = 0  # the old server holds the port until the new one answers
        pid, url = self._start(model, endpoint_name, port)
        deployment = Deployment(
            endpoint_name=endpoint_name,
            model_name=model.name,
            model_version=model.version,
            status="serving",
            url=url,
            details={"pid": pid, "predict": f"{url}/predict"},
            backend_status="running",
        )
        db.put_deployment(endpoint_name, model.name, model.version, "running", url, pid, deployment.to_dict())
        if old and old["pid"] != pid and _alive(old["pid"]):
            stop_process(old["pid"])  # the new server answers already: no gap in service
        return deployment

    @flowyml.hookimpl
    def flowyml_model_deployer_undeploy(self, endpoint_name: str) -> bool:
        db = self.context.metadata
        row = db.deployment(endpoint_name)
        if row is None:
            return False
        if _alive(row["pid"]):
            stop_process(row["pid"])
        db.delete_deployment(endpoint_name)
        return True

    @flowyml.hookimpl
    def flowyml_model_deployer_list(self) -> list[Deployment]:
        out = []
        for row in self.context.metadata.deployments():
            alive = _alive(row["pid"])
            out.append(
                Deployment(
                    row["endpoint_name"], row["model_name"], row["model_version"], "serving" if alive else "stopped",
                    row["url"], {"pid": row["pid"]}, backend_status="running" if alive else "exited",
                )
            )
        return out
