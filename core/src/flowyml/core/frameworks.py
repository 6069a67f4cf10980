"""Detect an ML framework from an object's class, without importing any framework."""

from __future__ import annotations

from typing import Any

# Top-level module name -> framework name recorded on a Model.
_FRAMEWORKS: dict[str, str] = {
    "sklearn": "sklearn",
    "xgboost": "xgboost",
    "lightgbm": "lightgbm",
    "catboost": "catboost",
    "torch": "pytorch",
    "pytorch_lightning": "pytorch",
    "lightning": "pytorch",
    "tensorflow": "tensorflow",
    "keras": "keras",
    "tf_keras": "keras",
    "onnx": "onnx",
    "onnxruntime": "onnx",
    "transformers": "transformers",
    "statsmodels": "statsmodels",
    "jax": "jax",
    "flax": "jax",
}


def detect_framework(obj: Any) -> str | None:
    """Return the framework an object belongs to, or None.

    Looks at the modules of the object's class and its bases, so a user's own
    ``torch.nn.Module`` subclass is recognised too. Never imports anything.
    """
    for klass in type(obj).__mro__:
        root = (klass.__module__ or "").split(".", 1)[0]
        framework = _FRAMEWORKS.get(root)
        if framework is not None:
            return framework
    return None


def known_frameworks() -> list[str]:
    """Framework names a Model may declare: the detected ones, and those installed serializers declare."""
    names = set(_FRAMEWORKS.values())
    from flowyml.serialization.registry import get_registry

    for serializer in get_registry().serializers():
        names.update(serializer.frameworks)
    return sorted(names)


def check_framework(framework: Any) -> str:
    """``framework`` when a Model may declare it; an error listing the known frameworks otherwise."""
    from flowyml.errors import ArtifactValueError

    if not isinstance(framework, str):
        raise ArtifactValueError(f"Model framework must be a string, got {type(framework).__name__}")
    if framework in _KNOWN or framework in known_frameworks():
        return framework
    raise ArtifactValueError(
        f"unknown Model framework {framework!r}; known frameworks: {', '.join(known_frameworks())}",
        hint="omit framework= to detect it from the model object, or install the plugin whose serializer declares it",
    )


_KNOWN = frozenset(_FRAMEWORKS.values())
