"""Which Vertex prebuilt serving container serves a model of a given framework."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flowyml.errors import RegistryError

_PREDICTION = "us-docker.pkg.dev/vertex-ai/prediction"

#: Vertex AI prebuilt prediction containers (CPU), by FlowyML framework name.
PREBUILT: dict[str, str] = {
    "sklearn": f"{_PREDICTION}/sklearn-cpu.1-5:latest",
    "xgboost": f"{_PREDICTION}/xgboost-cpu.2-1:latest",
    "tensorflow": f"{_PREDICTION}/tf2-cpu.2-15:latest",
    "keras": f"{_PREDICTION}/tf2-cpu.2-15:latest",
    "pytorch": f"{_PREDICTION}/pytorch-cpu.2-4:latest",
}


def serving_image(
    framework: str | None,
    serving_config: Mapping[str, Any] | None,
    *,
    override: str | None,
    table: Mapping[str, str],
    model_name: str,
) -> str:
    """The image for a model: ``serving_config.serving_container_image``, the option, then the table."""
    config = serving_config or {}
    image = config.get("serving_container_image") or config.get("image") or override
    if image:
        return str(image)
    images = {**PREBUILT, **table}
    if framework and framework in images:
        return images[framework]
    raise RegistryError(
        f"no Vertex serving container is known for model {model_name!r} (framework {framework or 'unknown'!r})",
        hint=(
            "set serving_config={'serving_container_image': 'IMAGE'} on the Model, or serving_container_image / "
            f"serving_container_images under model_registry in flowyml.yaml (known frameworks: {', '.join(sorted(images))})"
        ),
    )
