"""Reusable artifact-store building blocks for backends."""

from flowyml.stores.fsspec_store import FsspecArtifactStore

__all__ = ["FsspecArtifactStore"]
