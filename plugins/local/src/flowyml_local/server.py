"""A small HTTP prediction server for one model version (started by the local model deployer).

    python -m flowyml_local.server --artifact DIR --ready-file FILE [--port 0]

``GET /health`` answers ``{"status": "ok", ...}``; ``POST /predict`` takes
``{"instances": [...]}`` and answers ``{"predictions": [...]}``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from flowyml.core.artifacts import Model
from flowyml.errors import FlowymlError
from flowyml.serialization.artifact_io import Expected, read_artifact
from flowyml_local.input_schema import schema_problem


def _jsonable(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def make_handler(model: Model, info: dict[str, Any]) -> type[BaseHTTPRequestHandler]:
    predictor = model.data

    class Handler(BaseHTTPRequestHandler):
        server_version = "flowyml-local"

        def _send(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path in ("/health", "/"):
                self._send(200, {"status": "ok", **info})
            else:
                self._send(404, {"error": f"no route {self.path}; use GET /health or POST /predict"})

        def do_POST(self) -> None:
            if self.path != "/predict":
                self._send(404, {"error": f"no route {self.path}; use POST /predict"})
                return
            try:
                length = int(self.headers.get("Content-Length") or 0)
                payload = json.loads(self.rfile.read(length) or b"{}")
                instances = payload["instances"]
            except (ValueError, KeyError, TypeError):
                self._send(400, {"error": 'send JSON {"instances": [[...], ...]}'})
                return
            problem = schema_problem(model.input_schema, instances)
            if problem is not None:
                self._send(422, problem)
                return
            try:
                if instances and isinstance(instances[0], dict):
                    import pandas as pd

                    instances = pd.DataFrame(instances)
                predictions = predictor.predict(instances)
            except Exception as exc:
                self._send(422, {"error": f"{type(exc).__name__}: {exc}"})
                return
            self._send(200, {"predictions": _jsonable(predictions)})

        def log_message(self, format: str, *args: Any) -> None:
            sys.stderr.write(f"{self.address_string()} - {format % args}\n")

    return Handler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flowyml_local.server")
    parser.add_argument("--artifact", required=True, help="local folder of the stored model artifact")
    parser.add_argument("--content-hash", default=None)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--ready-file", required=True)
    parser.add_argument("--name", default="")
    parser.add_argument("--version", default="")
    args = parser.parse_args(argv)
    try:
        # Verified against the content hash the registry recorded before anything is deserialized;
        # without one only formats that cannot run code are read.
        value = read_artifact(Path(args.artifact), expected_hash=Expected(content_hash=args.content_hash, label=f"model {args.name!r} version {args.version}"))
    except FlowymlError as exc:
        print(f"flowyml: cannot serve {args.artifact}: {exc}", file=sys.stderr)
        return 2
    model = value if isinstance(value, Model) else Model(value)
    if not hasattr(model.data, "predict"):
        print(f"the model ({type(model.data).__name__}) has no predict() method", file=sys.stderr)
        return 2
    info = {"model": args.name, "version": args.version, "framework": model.framework}
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(model, info))
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    ready = Path(args.ready_file)
    tmp = ready.with_suffix(".tmp")
    tmp.write_text(json.dumps({"port": server.server_address[1], "pid": os.getpid()}))
    os.replace(tmp, ready)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
