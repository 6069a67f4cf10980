"""docs/development.md lists every mutant tools/mutation/equivalent.txt excludes from the mutation score."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_equivalent_mutant_is_in_the_docs_with_its_reason() -> None:
    """Bug caught: a mutant excluded from the score without the reason a reader of the docs can check."""
    docs = (ROOT / "docs" / "development.md").read_text(encoding="utf-8")
    rows = {}
    for line in docs.splitlines():
        if line.startswith("| `flowyml."):
            cells = [c.strip() for c in line.strip("|").split("|")]
            rows[cells[0].strip("`")] = cells[1]
    listed = {}
    for line in (ROOT / "tools" / "mutation" / "equivalent.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, reason = line.partition("#")
            listed[name.strip()] = reason.strip()
    assert listed, "equivalent.txt lists no mutant"
    missing = sorted(set(listed) - set(rows))
    assert not missing, f"in tools/mutation/equivalent.txt but not in docs/development.md's table: {missing}"
    stale = sorted(set(rows) - set(listed))
    assert not stale, f"in docs/development.md's table but no longer in tools/mutation/equivalent.txt: {stale}"
    unexplained = sorted(name for name, reason in listed.items() if not reason or not rows[name])
    assert not unexplained, f"equivalent mutants without a reason: {unexplained}"
