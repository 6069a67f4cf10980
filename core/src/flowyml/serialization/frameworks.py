"""Framework-native model formats: written by the framework itself, loaded without pickle.

Each serializer recognises its framework by the value's module (nothing is
imported until a model of that framework is actually saved or loaded).
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from flowyml.serialization.base import Serializer, module_root


def _import_class(path: str) -> Any:
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


class XGBoostSerializer(Serializer):
    """xgboost Boosters and scikit-learn-API models (XGBClassifier, ...) as UBJSON via ``save_model``."""

    name = "xgboost"

    def can_save(self, value: Any) -> bool:
        return module_root(value) == "xgboost" and hasattr(value, "save_model") and hasattr(value, "load_model")

    def save(self, value: Any, directory: Path) -> None:
        value.save_model(str(directory / "model.ubj"))

    def load(self, directory: Path, info: dict[str, Any]) -> Any:
        python_type = str(info.get("python_type", ""))
        if not python_type.startswith("xgboost."):
            from flowyml.errors import IntegrityError

            # The class is imported and instantiated by name: only xgboost's own classes.
            raise IntegrityError(f"an xgboost artifact names the class {python_type!r}, which is not xgboost's; refusing to load it")
        model = _import_class(python_type)()
        model.load_model(str(directory / "model.ubj"))
        return model


class LightGBMSerializer(Serializer):
    """lightgbm Boosters as LightGBM's text model format."""

    name = "lightgbm"

    def can_save(self, value: Any) -> bool:
        return module_root(value) == "lightgbm" and type(value).__name__ == "Booster"

    def save(self, value: Any, directory: Path) -> None:
        value.save_model(str(directory / "model.txt"))

    def load(self, directory: Path, info: dict[str, Any]) -> Any:
        import lightgbm

        return lightgbm.Booster(model_file=str(directory / "model.txt"))


class OnnxSerializer(Serializer):
    """ONNX models (``onnx.ModelProto``) as ``model.onnx``."""

    name = "onnx"

    def can_save(self, value: Any) -> bool:
        return module_root(value) == "onnx" and type(value).__name__ == "ModelProto"

    def save(self, value: Any, directory: Path) -> None:
        import onnx

        onnx.save(value, str(directory / "model.onnx"))

    def load(self, directory: Path, info: dict[str, Any]) -> Any:
        import onnx

        return onnx.load(str(directory / "model.onnx"))


FRAMEWORK_SERIALIZERS: tuple[Serializer, ...] = (XGBoostSerializer(), LightGBMSerializer(), OnnxSerializer())
