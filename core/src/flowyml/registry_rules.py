"""The model registry rules, enforced once by the core for every registry backend.

- **Versions are never overwritten.** Registering a version that exists with
  the same content hash returns the existing version; with a different
  content hash it is refused. Without a version, a model whose content is
  registered already is returned instead of being registered twice, so a
  retried registration is idempotent.
- **Statuses** are one of :data:`flowyml.plugins.types.MODEL_STATUSES` and move
  only along :data:`TRANSITIONS`; setting the status a version has already is a no-op.

A backend gets these rules by subclassing :class:`ModelRegistryComponent` and
implementing three small methods (list, create, apply a status); the core
implements the ``register`` and ``set_status`` hooks around them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from flowyml.errors import ModelNotFoundError, RegistryError
from flowyml.plugins.component import Component
from flowyml.plugins.markers import hookimpl
from flowyml.plugins.types import MODEL_STATUSES, ModelVersion

__all__ = ["TRANSITIONS", "ModelRegistryComponent", "check_status", "check_transition", "existing_version", "next_number"]

#: The statuses each status may move to. ``registered`` is only ever a starting point.
TRANSITIONS: dict[str, frozenset[str]] = {
    "registered": frozenset({"pending_approval", "approved", "rejected", "archived"}),
    "pending_approval": frozenset({"approved", "rejected", "archived"}),
    "approved": frozenset({"rejected", "archived"}),
    "rejected": frozenset({"pending_approval", "approved", "archived"}),
    "archived": frozenset({"pending_approval", "approved"}),
}


def check_status(status: str) -> None:
    """Refuse a status outside :data:`MODEL_STATUSES`."""
    if status not in MODEL_STATUSES:
        raise RegistryError(f"unknown model status {status!r}", hint=f"use one of {', '.join(MODEL_STATUSES)}")


def check_transition(current: ModelVersion, status: str) -> None:
    """Refuse moving ``current`` to ``status`` when :data:`TRANSITIONS` does not allow it (same status is allowed)."""
    check_status(status)
    if status == current.status:
        return
    allowed = TRANSITIONS.get(current.status, frozenset())
    if status not in allowed:
        choices = ", ".join(sorted(allowed)) or "nothing"
        raise RegistryError(
            f"model {current.name!r} version {current.version} is {current.status}; it cannot become {status}",
            hint=f"a {current.status} version can become: {choices}",
        )


def existing_version(model: ModelVersion, existing: Iterable[ModelVersion], where: str) -> ModelVersion | None:
    """The registered version to return instead of registering ``model`` again, or None to register it.

    Raises :class:`RegistryError` when ``model.version`` is taken by different content.
    """
    versions = list(existing)
    if model.version:
        for found in versions:
            if found.version == model.version:
                if found.content_hash == model.content_hash:
                    return found
                ident = f", {found.registry_id}" if found.registry_id else ""
                raise RegistryError(
                    f"model {model.name!r} version {model.version} is already registered with different content in "
                    f"{where} (from run {found.run_id}{ident}); versions are never overwritten",
                    hint="give the new model another version, or omit version= to number it automatically",
                )
        return None
    if model.content_hash:
        return next((found for found in versions if found.content_hash == model.content_hash), None)
    return None


def next_number(existing: Iterable[ModelVersion]) -> str:
    """The next automatic version number: one more than the highest numeric version (``"1"`` for the first)."""
    numeric = [int(v.version) for v in existing if v.version.isdigit()]
    return str(max(numeric, default=0) + 1)


class ModelRegistryComponent(Component):
    """Base class of model registry backends: the core's rules around three backend methods.

    Implement :meth:`versions`, :meth:`create_version` and :meth:`apply_status`
    (and the ``get`` and ``list`` hooks); ``register`` and ``set_status`` are
    implemented here and enforce the rules of this module.
    """

    kind = "model_registry"

    # -- what a backend provides ----------------------------------------------------------

    def versions(self, name: str) -> Sequence[ModelVersion]:
        """Every registered version of model ``name``, oldest first (empty when there is none)."""
        raise NotImplementedError

    def create_version(self, model: ModelVersion, existing: Sequence[ModelVersion]) -> ModelVersion:
        """Register ``model`` (the rules have passed; ``existing`` are its model's versions).

        ``model.version`` is empty when the registry must number it (see
        :func:`next_number`); ``model.status`` is ``registered`` or ``pending_approval``.
        """
        raise NotImplementedError

    def apply_status(self, current: ModelVersion, status: str) -> ModelVersion:
        """Record ``status`` for ``current`` (an allowed change to another status) and return the updated version."""
        raise NotImplementedError

    # -- the hooks, with the rules -------------------------------------------------------

    @hookimpl
    def flowyml_model_registry_register(self, model: ModelVersion) -> ModelVersion:
        check_status(model.status)
        existing = list(self.versions(model.name))
        found = existing_version(model, existing, self.describe())
        if found is not None:
            return found
        return self.create_version(model, existing)

    @hookimpl
    def flowyml_model_registry_set_status(self, name: str, version: str, status: str) -> ModelVersion:
        check_status(status)
        current = next((v for v in self.versions(name) if v.version == str(version)), None)
        if current is None:
            raise ModelNotFoundError(
                f"model {name!r} version {version} is not in the {self.describe()}",
                hint="list versions with: flowyml model list",
            )
        check_transition(current, status)
        if current.status == status:
            return current
        return self.apply_status(current, status)
