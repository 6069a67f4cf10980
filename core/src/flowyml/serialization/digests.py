"""The hash algorithms an artifact's files are recorded under.

A manifest names each file's hash by its algorithm: ``{"sha256": HEX, "size": N}``
or ``{"blake3": HEX, "size": N}``, exactly one of the two. sha256 is what artifacts
written by earlier releases record, and what the JSON, text and CSV serializers
(and any serializer that does not set ``hash_algorithm``) record; the built-in
streaming serializers (Parquet, ``.npy``, ``bytes``, pickle) record BLAKE3,
small values packed in memory included, which this machine hashes about twice as fast as sha256 with SHA-NI
(0.19 s against 0.35 s for 500 MB), so that hashing a large value while it is
written takes no longer than the write itself (#16 item 2). Both are 256-bit
cryptographic hashes; a reader checks a file with the algorithm its entry
names, and the content hash covers the algorithm (see
:func:`flowyml.serialization.integrity.canonical_form`), so an entry cannot be
switched to the other algorithm without the run record noticing.

A serializer's ``save`` may return, per file, a sha256 hex digest (plain hex,
as before) or ``"blake3:" + HEX`` (:attr:`HashingFile.file_hash`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

#: The algorithms a manifest entry may name, in the order they are looked for.
ALGORITHMS = ("sha256", "blake3")
#: What the built-in serializers hash large files with.
STREAMING = "blake3"


def new(algorithm: str) -> Any:
    """A fresh hash object of ``algorithm`` (``update()``, ``hexdigest()``); blake3 is imported here, on first use."""
    if algorithm == "sha256":
        return hashlib.sha256()
    if algorithm == "blake3":
        from blake3 import blake3

        return blake3()
    raise ValueError(f"unknown file hash algorithm {algorithm!r} (known: {', '.join(ALGORITHMS)})")


def of_file(path: Path, algorithm: str) -> str:
    """The hex digest of the file at ``path``."""
    with open(path, "rb", buffering=0) as fh:
        return str(hashlib.file_digest(fh, lambda: new(algorithm)).hexdigest())


def of_bytes(data: bytes, algorithm: str) -> str:
    """The hex digest of ``data`` (a file encoded in memory)."""
    digest = new(algorithm)
    digest.update(data)
    return str(digest.hexdigest())


def entry(file_hash: str) -> dict[str, str]:
    """The manifest fields for a hash as a serializer returns it: plain hex is sha256, ``ALG:HEX`` names its algorithm."""
    algorithm, sep, hexdigest = file_hash.partition(":")
    if not sep:
        algorithm, hexdigest = "sha256", file_hash
    elif algorithm not in ALGORITHMS:
        raise ValueError(f"unknown file hash algorithm {algorithm!r} in {file_hash!r} (known: {', '.join(ALGORITHMS)})")
    if len(hexdigest) != 64 or hexdigest.strip("0123456789abcdef"):
        raise ValueError(f"file hash {file_hash!r} is not a {algorithm} digest (64 lowercase hex digits)")
    return {algorithm: hexdigest}


def recorded(info: Mapping[str, Any]) -> tuple[str, str] | None:
    """``(algorithm, hex)`` of a manifest file entry, or ``None`` unless it names exactly one known algorithm as text."""
    found = [(name, info[name]) for name in ALGORITHMS if name in info]
    if len(found) != 1 or not isinstance(found[0][1], str):
        return None
    return found[0]


def canonical(info: Mapping[str, Any]) -> str:
    """How an entry's hash enters the content hash: sha256 as bare hex (what earlier releases recorded), others as ``ALG:HEX``."""
    found = recorded(info)
    if found is None:
        return str(info.get("sha256"))
    algorithm, hexdigest = found
    return hexdigest if algorithm == "sha256" else f"{algorithm}:{hexdigest}"
