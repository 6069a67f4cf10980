"""Importing and configuring google-cloud-aiplatform, on first use only."""

from __future__ import annotations

import threading
from typing import Any

from flowyml_vertex.options import VertexConnection

_lock = threading.Lock()


def aiplatform_for(options: VertexConnection) -> Any:
    """The ``google.cloud.aiplatform`` module, initialised with the options that are set.

    Options left unset keep what the environment (or an earlier
    ``aiplatform.init``) configured. An ``http://`` endpoint (a local fake or
    proxy) is spoken to over REST, as gRPC always uses TLS.
    """
    from google.cloud import aiplatform

    settings: dict[str, Any] = {}
    if options.project:
        settings["project"] = options.project
    if options.location:
        settings["location"] = options.location
    if options.credentials_file:
        from google.oauth2 import service_account

        settings["credentials"] = service_account.Credentials.from_service_account_file(
            options.credentials_file, scopes=["https://www.googleapis.com/auth/cloud-platform"]
        )
    if options.api_endpoint:
        settings["api_endpoint"] = options.api_endpoint
        if options.api_endpoint.startswith("http://"):
            settings["api_transport"] = "rest"
    if settings:
        with _lock:
            aiplatform.init(**settings)
    return aiplatform


def current_project_location(aiplatform: Any) -> tuple[str, str]:
    config = aiplatform.initializer.global_config
    return str(config.project), str(config.location)
