"""Turning step outputs into files and back.

A serializer writes one kind of value into a directory and reads it back.
The built-in ones (Parquet, .npy, JSON, text, bytes, pickle as the last
resort) are registered by :mod:`flowyml.serialization.builtin`; third parties
add theirs through the ``flowyml_register_serializers`` hook.
"""

from flowyml.serialization.base import Serializer

__all__ = ["Serializer"]
