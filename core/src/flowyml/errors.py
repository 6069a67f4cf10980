"""The errors FlowyML raises.

Every error a user can cause derives from :class:`FlowymlError` and carries a
``hint`` telling how to fix it. The CLI prints the message and the hint and
exits with status 1 instead of a traceback.
"""

from __future__ import annotations


class FlowymlError(Exception):
    """Base class of every FlowyML error."""

    def __init__(self, message: str, *, hint: str | None = None, transient: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        #: True when trying again may succeed (throttling, a dropped connection): the core retries those.
        self.transient = transient

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}\n  hint: {self.hint}"
        return self.message


class ConfigError(FlowymlError):
    """flowyml.yaml is malformed, or a value in it is wrong."""

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        file: str | None = None,
        hint: str | None = None,
    ) -> None:
        where = []
        if file:
            where.append(file + (f":{line}" if line else ""))
        elif line:
            where.append(f"line {line}")
        if path:
            where.append(path)
        prefix = f"{' '.join(where)}: " if where else ""
        super().__init__(prefix + message, hint=hint)
        self.path = path
        self.line = line
        self.file = file


class StackNotFoundError(ConfigError):
    """A stack name that flowyml.yaml does not define."""


class InterpolationError(ConfigError):
    """A ``${VAR}`` in the stack being used has no value."""


class RoutingError(FlowymlError):
    """A routing rule is invalid for the stack, or a route failed at run time."""


class PathTemplateError(RoutingError):
    """A path template uses an unknown placeholder or escapes the store."""


class PluginError(FlowymlError):
    """A backend is missing, fails to import, or misbehaves."""


class PluginNotInstalledError(PluginError):
    """No installed distribution provides the requested component type."""


class PluginLoadError(PluginError):
    """A plugin's entry point raised while being imported."""


class PluginIncompatibleError(PluginError):
    """A plugin targets another plugin API version than this core provides (see flowyml.plugins.api_version)."""


class ArtifactError(FlowymlError):
    """An artifact cannot be stored, found or loaded."""


class ArtifactValueError(ArtifactError, ValueError):
    """An artifact type was given a value it cannot hold (``Model(data=None)``, a metric that is not a number)."""


class InvalidNameError(FlowymlError, ValueError):
    """A name that becomes part of a path is empty, too long, or holds ``..``, a separator, NUL or a control character."""


class SerializationError(ArtifactError):
    """No serializer can write or read a value."""


class IntegrityError(ArtifactError):
    """An artifact no longer matches what its run recorded (its bytes, or how they are to be read)."""


class StoreError(ArtifactError):
    """An artifact store failed (unreachable, access denied, no such bucket)."""


class PipelineError(FlowymlError):
    """A pipeline is defined wrongly (cycle, missing input, bad step)."""


class StepFailedError(FlowymlError):
    """A step raised; the original exception is chained as ``__cause__``."""


class RunNotFoundError(FlowymlError):
    """No run with that id in the metadata store."""


class RegistryError(FlowymlError):
    """The model registry refused an operation."""


class ModelNotFoundError(RegistryError):
    """No such model or model version in the registry."""


class DeploymentError(FlowymlError):
    """A model deployer failed to deploy or undeploy."""


class TrackerError(FlowymlError):
    """An experiment tracker could not log."""


class MetadataError(FlowymlError):
    """The metadata database cannot be opened (for example, it was written by a newer FlowyML)."""


class RunInterrupted(KeyboardInterrupt):
    """A run stopped by Ctrl-C (SIGINT); it is recorded ``interrupted``.

    A ``KeyboardInterrupt`` (not a :class:`FlowymlError`), so code that stops on
    Ctrl-C still does; ``run_id`` names the run that was interrupted.
    """

    def __init__(self, run_id: str) -> None:
        super().__init__(f"run {run_id} interrupted")
        self.run_id = run_id
