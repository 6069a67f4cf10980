"""Vertex naming rules: labels, version aliases and the aliases that carry a version's status."""

from __future__ import annotations

import re

#: Label on every resource FlowyML creates (filterable: ``labels.managed_by="flowyml"``).
MANAGED = ("managed_by", "flowyml")

_LABEL_BAD = re.compile(r"[^a-z0-9_-]+")
_ALIAS_BAD = re.compile(r"[^a-zA-Z0-9-]+")


def label_value(value: object) -> str:
    """A label value (lowercase letters, digits, ``_``, ``-``; at most 63 characters)."""
    return _LABEL_BAD.sub("_", str(value).lower())[:63]


def version_alias(version: str) -> str | None:
    """The alias naming a FlowyML version (``1.0.0`` -> ``v1-0-0``), or None when it cannot be one."""
    slug = _ALIAS_BAD.sub("-", version).strip("-")
    if not slug:
        return None
    alias = f"v{slug}" if not slug[0].isalpha() else slug
    if alias in ("default",) or len(alias) > 128 or re.fullmatch(r"\d+", alias):
        return None
    return alias


def status_alias(status: str, version_id: str) -> str:
    """The alias marking a version's approval status (``pending_approval`` on version 3 -> ``pending-approval-3``).

    Aliases are unique within a model, so each one names its Vertex version.
    """
    return f"{status.replace('_', '-')}-{version_id}"


def status_from_aliases(aliases: list[str], version_id: str, statuses: tuple[str, ...]) -> str:
    for status in statuses:
        if status_alias(status, version_id) in aliases:
            return status
    return "registered"


def filter_expr(**terms: str) -> str:
    """A Vertex list filter: ``display_name="x" AND labels.managed_by="flowyml"``."""
    return " AND ".join(f'{key.replace("__", ".")}="{value}"' for key, value in terms.items())
