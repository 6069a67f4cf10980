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
