"""The ``@step`` decorator."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, overload

from flowyml.core import building
from flowyml.naming import check_name

if TYPE_CHECKING:
    from flowyml.core.settings import Resources, StepSettings

F = TypeVar("F", bound=Callable[..., Any])


class Step:
    """A function registered as a pipeline step.

    Called inside a ``@pipeline`` function it records an invocation and
    returns output handles that wire the graph; called anywhere else it
    simply runs the function, so steps stay unit-testable.
    """

    def __init__(
        self,
        fn: Callable[..., Any],
        *,
        name: str | None = None,
        cache: bool = True,
        inputs: Sequence[str] | None = None,
        outputs: Sequence[str] | None = None,
        retries: int = 0,
        retry_delay: float = 0.0,
        timeout: float | None = None,
        resources: Resources | None = None,
    ) -> None:
        if not callable(fn):
            raise TypeError(f"@step decorates a function, got {fn!r}")
        self.fn = fn
        self.name = check_name(getattr(fn, "__name__", None) if name is None else name, "step name")
        self.cache = cache
        self.inputs = _names(inputs, "input name", self.name)
        self.outputs = _names(outputs, "output name", self.name)
        from flowyml.core.settings import code_settings

        #: Retries, timeout and resources as the code declares them (flowyml.yaml's ``steps:`` may override them).
        self.settings: StepSettings = code_settings(self.name, retries, retry_delay, timeout, resources)
        self.__doc__ = fn.__doc__
        self.__name__ = getattr(fn, "__name__", self.name)
        self.__qualname__ = getattr(fn, "__qualname__", self.name)
        self.__module__ = getattr(fn, "__module__", __name__)
        self.__wrapped__ = fn
        self._code_hash: str | None = None
        self._signature: Any = None
        self._hints: dict[str, Any] | None = None

    @property
    def output_names(self) -> list[str]:
        return self.outputs or ["output"]

    @property
    def signature(self) -> Any:
        if self._signature is None:
            import inspect

            self._signature = inspect.signature(self.fn)
        return self._signature

    @property
    def type_hints(self) -> dict[str, Any]:
        """Annotations resolved to objects where possible (names stay strings otherwise)."""
        if self._hints is None:
            import typing

            try:
                self._hints = typing.get_type_hints(self.fn)
            except Exception:
                self._hints = dict(getattr(self.fn, "__annotations__", {}))
        return self._hints

    def code_hash(self) -> str:
        """A hash of the step's source code (its bytecode when the source is unavailable)."""
        if self._code_hash is None:
            import hashlib
            import inspect
            import marshal

            try:
                material = inspect.getsource(self.fn).encode()
            except (OSError, TypeError):
                code = getattr(self.fn, "__code__", None)
                material = marshal.dumps(code) if code is not None else repr(self.fn).encode()
            self._code_hash = hashlib.sha256(material).hexdigest()
        return self._code_hash

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        builder = building.current_builder()
        if builder is None:
            return self.fn(*args, **kwargs)
        return builder.add_invocation(self, args, kwargs)

    def __repr__(self) -> str:
        return f"<step {self.name}>"


def _names(values: Sequence[str] | None, what: str, step: str) -> list[str] | None:
    if values is None:
        return None
    if isinstance(values, str):
        values = [values]  # outputs="model" means one output named model
    return [check_name(v, f"step {step!r}: {what}") for v in values]


@overload
def step(fn: F) -> Step: ...


@overload
def step(
    fn: None = None,
    *,
    name: str | None = None,
    cache: bool = True,
    inputs: Sequence[str] | None = None,
    outputs: Sequence[str] | None = None,
    retries: int = 0,
    retry_delay: float = 0.0,
    timeout: float | None = None,
    resources: Resources | None = None,
) -> Callable[[F], Step]: ...


def step(
    fn: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    cache: bool = True,
    inputs: Sequence[str] | None = None,
    outputs: Sequence[str] | None = None,
    retries: int = 0,
    retry_delay: float = 0.0,
    timeout: float | None = None,
    resources: Resources | None = None,
) -> Any:
    """Declare a pipeline step: ``@step``, or ``@step(name=..., cache=False, inputs=[...], outputs=[...], retries=..., timeout=...)``.

    ``inputs`` and ``outputs`` name artifacts for the explicit
    :class:`~flowyml.core.pipeline.Pipeline` API: a step's inputs are filled,
    in order, from earlier steps' outputs of the same names; a step with
    several ``outputs`` returns a tuple, one value per name.

    ``retries`` (tries again after a failure, ``retry_delay`` seconds apart),
    ``timeout`` (seconds one attempt may take) and ``resources``
    (:class:`flowyml.Resources`) are the step's settings; flowyml.yaml's
    ``steps:`` section overrides them without a code change.
    """
    if fn is not None:
        return Step(fn)

    def wrap(func: Callable[..., Any]) -> Step:
        return Step(
            func, name=name, cache=cache, inputs=inputs, outputs=outputs,
            retries=retries, retry_delay=retry_delay, timeout=timeout, resources=resources,
        )

    return wrap
