"""The artifact types a step declares: Model, Dataset, Metrics, Parameters.

The type of a step's output decides where the active stack routes it. These
classes only describe the value; serialization and routing live elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, ClassVar, TypeVar

from flowyml.core.frameworks import check_framework, detect_framework
from flowyml.core.values import check_metric_values, check_parameter_values
from flowyml.errors import ArtifactValueError
from flowyml.naming import check_name

A = TypeVar("A", bound="Artifact")
_NOTHING: Any = object()


def _optional_mapping(value: Any, what: str) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ArtifactValueError(f"{what} must be a mapping (a dict), got {type(value).__name__}")
    return dict(value)


class Artifact:
    """Base class of the typed artifacts. ``data`` is the wrapped value."""

    type_name: ClassVar[str] = "Artifact"
    #: Attributes (besides name and metadata) recorded by describe() and set back by restore().
    _described: ClassVar[tuple[str, ...]] = ()

    data: Any
    name: str | None
    metadata: dict[str, Any]

    def __init__(self, data: Any, name: str | None = None, metadata: Mapping[str, Any] | None = None) -> None:
        self.data = data
        self.name = None if name is None else check_name(name, f"{self.type_name} name")
        self.metadata = _optional_mapping(metadata, f"{self.type_name} metadata") or {}

    @classmethod
    def restore(cls: type[A], data: Any, described: Mapping[str, Any]) -> A:
        """The artifact as it was stored (``described`` is what describe() returned), without checking it again.

        Values were checked when they were created; an artifact stored by an
        older release, under older rules, still loads.
        """
        obj = cls.__new__(cls)
        obj.data = data
        obj.name = described.get("name")
        obj.metadata = dict(described.get("metadata") or {})
        for attr in cls._described:
            setattr(obj, attr, described.get(attr))
        return obj

    def describe(self) -> dict[str, Any]:
        """JSON-ready attributes recorded beside the stored data."""
        return {"name": self.name, "metadata": self.metadata}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, data={type(self.data).__name__})"


class Model(Artifact):
    """A trained model, with what a registry or deployer needs to know about it."""

    type_name = "Model"
    _described = ("version", "framework", "serving_config", "input_schema", "output_schema")

    def __init__(
        self,
        data: Any,
        name: str | None = None,
        version: str | None = None,
        framework: str | None = None,
        serving_config: Mapping[str, Any] | None = None,
        input_schema: Mapping[str, Any] | None = None,
        output_schema: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        if data is None:
            raise ArtifactValueError(
                "Model(data=None): a Model needs the model object",
                hint="pass the trained model: Model(data=clf, ...)",
            )
        super().__init__(data, name=name, metadata=metadata)
        if isinstance(version, int) and not isinstance(version, bool):
            version = str(version)  # documented: version=2 becomes "2"
        self.version = None if version is None else check_name(version, "Model version")
        self.framework = detect_framework(data) if framework is None else check_framework(framework)
        self.serving_config = _optional_mapping(serving_config, "Model serving_config") or None
        self.input_schema = _optional_mapping(input_schema, "Model input_schema") or None
        self.output_schema = _optional_mapping(output_schema, "Model output_schema") or None

    @property
    def metrics(self) -> dict[str, Any]:
        """The metrics carried in ``metadata["metrics"]`` (used for conditional deployment)."""
        value = self.metadata.get("metrics")
        return dict(value) if isinstance(value, Mapping) else {}

    def describe(self) -> dict[str, Any]:
        return {
            **super().describe(),
            "version": self.version,
            "framework": self.framework,
            "serving_config": self.serving_config,
            "input_schema": self.input_schema,
            "output_schema": self.output_schema,
        }

    def __repr__(self) -> str:
        return (
            f"Model(name={self.name!r}, version={self.version!r}, framework={self.framework!r}, "
            f"data={type(self.data).__name__})"
        )


class Dataset(Artifact):
    """A data set. ``format`` is detected from the data when not given."""

    type_name = "Dataset"
    _described = ("format", "schema", "statistics")

    def __init__(
        self,
        data: Any,
        name: str | None = None,
        format: str | None = None,
        schema: Mapping[str, Any] | None = None,
        statistics: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(data, name=name, metadata=metadata)
        #: True when the caller chose the format (then it is enforced when storing).
        self.format_given = format is not None
        self.format = format or detect_format(data)
        self.schema = dict(schema) if schema is not None else infer_schema(data)
        self.statistics = dict(statistics) if statistics is not None else infer_statistics(data)

    @classmethod
    def restore(cls, data: Any, described: Mapping[str, Any]) -> Dataset:
        obj = super().restore(data, described)
        obj.format_given = obj.format is not None
        if obj.format is None:
            obj.format = detect_format(data)
        return obj

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "format": self.format, "schema": self.schema, "statistics": self.statistics}

    def __repr__(self) -> str:
        return f"Dataset(name={self.name!r}, format={self.format!r}, data={type(self.data).__name__})"


class _MappingArtifact(Artifact, Mapping[str, Any]):
    """An artifact that is a read-only mapping of names to values."""

    def __init__(self, values: Mapping[str, Any] = _NOTHING, name: str | None = None, metadata: Mapping[str, Any] | None = None) -> None:
        if values is _NOTHING:
            values = {}
        if not isinstance(values, Mapping):
            raise ArtifactValueError(
                f"{self.type_name}() takes a mapping of names to values, got {type(values).__name__}",
                hint=f'e.g. {self.type_name}({{"accuracy": 0.95}})' if self.type_name == "Metrics" else f'e.g. {self.type_name}({{"learning_rate": 0.001}})',
            )
        super().__init__(self._checked(dict(values)), name=name, metadata=metadata)

    def _checked(self, values: dict[str, Any]) -> dict[str, Any]:
        return values

    @classmethod
    def restore(cls: type[A], data: Any, described: Mapping[str, Any]) -> A:
        return super().restore(dict(data) if isinstance(data, Mapping) else data, described)

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, _MappingArtifact):
            return type(self) is type(other) and self.data == other.data and self.describe() == other.describe()
        if isinstance(other, Mapping):
            return dict(self.data) == dict(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.data!r})"


class Metrics(_MappingArtifact):
    """Evaluation metrics; logged to the experiment tracker when the stack routes them there."""

    type_name = "Metrics"
    _described = ("step",)

    def __init__(
        self,
        values: Mapping[str, Any] = _NOTHING,
        name: str | None = None,
        step: int | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(values, name=name, metadata=metadata)
        if step is not None and (isinstance(step, bool) or not isinstance(step, int) or step < 0):
            raise ArtifactValueError(f"Metrics step must be a non-negative integer, got {step!r}")
        self.step = step

    def _checked(self, values: dict[str, Any]) -> dict[str, Any]:
        check_metric_values(values)
        return values

    def at_step(self, step: int) -> Metrics:
        """A copy of these metrics recorded at training step ``step``."""
        if isinstance(step, bool) or not isinstance(step, int) or step < 0:
            raise ArtifactValueError(f"Metrics.at_step() takes a non-negative integer, got {step!r}")
        return Metrics(self.data, name=self.name, step=step, metadata=self.metadata)

    def with_metadata(self, **metadata: Any) -> Metrics:
        """A copy of these metrics with ``metadata`` added (kept as tags by trackers)."""
        return Metrics(self.data, name=self.name, step=self.step, metadata={**self.metadata, **metadata})

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "step": self.step}

    def __repr__(self) -> str:
        extra = f", step={self.step}" if self.step is not None else ""
        return f"Metrics({self.data!r}{extra})"


class Parameters(_MappingArtifact):
    """Hyperparameters; logged to the experiment tracker when the stack routes them there."""

    type_name = "Parameters"

    def _checked(self, values: dict[str, Any]) -> dict[str, Any]:
        return check_parameter_values(values)


ARTIFACT_TYPES: dict[str, type[Artifact]] = {
    cls.type_name: cls for cls in (Model, Dataset, Metrics, Parameters)
}


def detect_format(data: Any) -> str:
    """The storage format a Dataset's data gets when none is given."""
    module = type(data).__module__.split(".", 1)[0]
    cls = type(data).__name__
    if (module == "pandas" and cls == "DataFrame") or (module == "polars" and cls == "DataFrame"):
        return "parquet"
    if module == "pyarrow" and cls == "Table":
        return "parquet"
    if module == "numpy" and cls == "ndarray":
        return "npy"
    if isinstance(data, str):
        return "text"
    if isinstance(data, bytes | bytearray):
        return "binary"
    if isinstance(data, dict | list | int | float | bool) or data is None:
        return "json"
    return "pickle"


def infer_schema(data: Any) -> dict[str, Any] | None:
    """Column names and types when they are cheap to read off the data."""
    module = type(data).__module__.split(".", 1)[0]
    cls = type(data).__name__
    if module == "pandas" and cls == "DataFrame":
        return {str(col): str(dtype) for col, dtype in data.dtypes.items()}
    if module == "polars" and cls == "DataFrame":
        return {str(col): str(dtype) for col, dtype in data.schema.items()}
    if module == "pyarrow" and cls == "Table":
        return {field.name: str(field.type) for field in data.schema}
    if module == "numpy" and cls == "ndarray":
        return {"dtype": str(data.dtype), "shape": list(data.shape)}
    return None


def infer_statistics(data: Any) -> dict[str, Any] | None:
    """Row and column counts when they are cheap to read off the data."""
    module = type(data).__module__.split(".", 1)[0]
    cls = type(data).__name__
    if cls in ("DataFrame", "Table") and module in ("pandas", "polars", "pyarrow"):
        rows, cols = data.shape
        return {"num_rows": int(rows), "num_columns": int(cols)}
    if module == "numpy" and cls == "ndarray":
        return {"size": int(data.size)}
    if isinstance(data, list | tuple | dict):
        return {"length": len(data)}
    return None
