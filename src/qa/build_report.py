"""What one index build did: documents added, changed, removed and skipped, and the counts."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from qa.ingest import Duplicate, Note, Skipped

__all__ = ["BuildReport"]


@dataclass
class BuildReport:
    """What `build_index` did."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    passages: int = 0
    embedded: int = 0
    resumed: int = 0  # passages whose vectors an interrupted build had already saved
    seconds: float = 0.0
    snapshot: Path | None = None
    full_rebuild_reason: str | None = None
    duplicates: list[Duplicate] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)

    @property
    def up_to_date(self) -> bool:
        return self.snapshot is None

    def summary(self) -> str:
        if self.up_to_date:
            head = f"index is up to date: {len(self.unchanged)} documents, {self.passages} passages"
        else:
            head = (
                f"indexed {len(self.added) + len(self.changed) + len(self.unchanged)} documents, "
                f"{self.passages} passages ({self.embedded} embedded) in {self.seconds:.1f}s"
            )
            if self.resumed:
                head += f"; {self.resumed} passages resumed from an interrupted build"
        lines = [head]
        if self.full_rebuild_reason:
            lines.append(f"  full rebuild: {self.full_rebuild_reason}")
        for what, names in (("added", self.added), ("changed", self.changed), ("removed", self.removed)):
            if names:
                lines.append(
                    f"  {what} ({len(names)}): " + ", ".join(names[:10]) + (" ..." if len(names) > 10 else "")
                )
        for s in self.skipped:
            lines.append(f"  skipped {s.path}: {s.reason}")
        for d in self.duplicates:
            lines.append(f"  skipped {d.path}: duplicate of {d.same_as} (identical text)")
        for n in self.notes:
            lines.append(f"  note {n.path}: {n.message}")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {
            "added": self.added,
            "changed": self.changed,
            "removed": self.removed,
            "unchanged": len(self.unchanged),
            "skipped": [{"path": s.path, "reason": s.reason} for s in self.skipped],
            "passages": self.passages,
            "embedded": self.embedded,
            "resumed": self.resumed,
            "seconds": round(self.seconds, 3),
            "snapshot": str(self.snapshot) if self.snapshot else None,
            "full_rebuild_reason": self.full_rebuild_reason,
            "duplicates": [{"path": d.path, "same_as": d.same_as} for d in self.duplicates],
            "notes": [{"path": n.path, "message": n.message} for n in self.notes],
        }
