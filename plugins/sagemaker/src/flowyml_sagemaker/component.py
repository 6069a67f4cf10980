"""What the three SageMaker components share: option checks, a lazily built boto3 client, error translation."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from flowyml.errors import FlowymlError
from flowyml.plugins.component import Component, OptionProblem
from flowyml_sagemaker.options import problems


class SageMakerComponent(Component):
    """Base of the registry, deployer and orchestrator (boto3 is imported on the first call)."""

    #: The FlowyML error a failed SageMaker call becomes, and how messages name the component.
    error_class: ClassVar[type[FlowymlError]] = FlowymlError
    label: ClassVar[str] = "SageMaker"

    def __init__(self, options: Any, context: Any) -> None:
        super().__init__(options, context)
        self._client: Any = None

    @classmethod
    def check_options(cls, options: Any) -> Iterable[OptionProblem]:
        return problems(options)

    @property
    def sm(self) -> Any:
        """The boto3 ``sagemaker`` client, built on first use."""
        if self._client is None:
            from flowyml_sagemaker.aws import client

            self._client = client("sagemaker", self.options)
        return self._client

    def _fail(self, exc: Exception, action: str) -> FlowymlError:
        from flowyml_sagemaker.aws import error_message, fix_for

        return self.error_class(
            f"{self.label} (stack {self.context.stack_name!r}): {action} failed: {error_message(exc)}",
            hint=fix_for(exc, action),
        )

    def _call(self, action: str, method: str, **kwargs: Any) -> Any:
        try:
            return getattr(self.sm, method)(**kwargs)
        except Exception as exc:
            raise self._fail(exc, action) from exc
