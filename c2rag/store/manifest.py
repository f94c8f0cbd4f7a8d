"""The index manifest: what an index was built from, stored inside the Chroma collection.

The manifest lives in the collection's metadata (as one JSON value plus a few readable flat
keys), so an index on a Chroma server describes itself to any client. It records the model
fingerprint and dimension, the chunker version, the commit indexed for each branch, and a
``generation`` string that changes with every completed update (the lexical index is tagged
with it to tell whether it is in step).

Write order: before an update touches any record it records the branch and target under
``pending``; the indexed commits move (and ``pending`` is cleared) only in the final manifest
write, after every record and the lexical index are written. A run that dies in between
leaves the previous commits in place and a ``pending`` note that makes the next run reconcile
that branch fully.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from typing import Any

__all__ = [
    "MANIFEST_FORMAT",
    "BranchState",
    "Calibration",
    "ChannelCalibration",
    "Manifest",
    "new_generation",
    "utc_now",
]

MANIFEST_FORMAT = 1
_KEY = "c2rag:manifest"


def utc_now() -> str:
    """Current UTC time as an ISO-8601 string (seconds)."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def new_generation(previous: str | None) -> str:
    """A generation string that no earlier write of this or any other index used."""
    counter = int(previous.split("-", 1)[0]) + 1 if previous else 1
    return f"{counter}-{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class BranchState:
    """What is indexed for one branch label."""

    commit: str
    """Full sha of the indexed commit."""
    worktree_paths: tuple[str, ...] = ()
    """Paths whose records came from the working tree overlay (not from ``commit``)."""
    indexed_at: str = ""


@dataclass(frozen=True)
class ChannelCalibration:
    """How well the dense and the lexical channel find one language's documented functions
    in the index (their first sentence as the question, the function without it as the
    answer; see :mod:`c2rag.calibrate`)."""

    queries: int
    dense_mrr: float
    """MRR@10 of the dense channel."""
    lexical_mrr: float
    """MRR@10 of BM25."""

    @property
    def lexical_ratio(self) -> float:
        """BM25's MRR@10 over dense's: how far BM25 can be trusted beside the embedding."""
        return self.lexical_mrr / max(self.dense_mrr, 1e-6)


@dataclass(frozen=True)
class Calibration:
    """The channels measured per language on one index; adaptive fusion sets the lexical
    floor of a candidate from its language's measurement."""

    languages: dict[str, ChannelCalibration]
    chunks: int = 0
    """Chunks in the index when it was measured (measured again when that moves by half)."""

    @property
    def ratios(self) -> dict[str, float]:
        """Per language, BM25's MRR@10 over dense's (what fusion sets its floors from)."""
        return {language: m.lexical_ratio for language, m in self.languages.items()}

    def describe(self) -> str:
        """``python 0.62 / 0.45 (40 functions), …``: dense / BM25 MRR@10 per language."""
        return ", ".join(
            f"{language} {m.dense_mrr:.2f} / {m.lexical_mrr:.2f} ({m.queries} functions)"
            for language, m in sorted(self.languages.items())
        )

    def outdated(self, chunks: int) -> bool:
        """Whether an index of ``chunks`` chunks has changed too much for this measurement."""
        return not self.chunks or abs(chunks - self.chunks) > self.chunks / 2

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Calibration:
        fields = set(ChannelCalibration.__dataclass_fields__)
        languages = {
            str(language): ChannelCalibration(**{k: v for k, v in m.items() if k in fields})
            for language, m in dict(data.get("languages") or {}).items()
        }
        return cls(languages, int(data.get("chunks") or 0))


@dataclass(frozen=True)
class Manifest:
    """Description of an index; immutable, replaced as a whole on every write."""

    fingerprint: str
    """Embedder fingerprint (model id + revision, pooling, document prompt)."""
    dim: int
    model_name: str
    chunker_version: str
    model_ref: str = ""
    """Hub id or absolute path the model can be loaded from again (when known)."""
    branches: dict[str, BranchState] = field(default_factory=dict)
    generation: str | None = None
    pending: dict[str, str] = field(default_factory=dict)
    """Branch → commit of an update that started and has not finished."""
    created_at: str = field(default_factory=utc_now)
    updated_at: str = field(default_factory=utc_now)
    format: int = MANIFEST_FORMAT
    calibration: Calibration | None = None
    """The channels measured on this index per language (``None``: not measured yet; a
    language without enough documented functions is left out, and fusion keeps its default
    lexical floor for it)."""

    @property
    def complete(self) -> bool:
        """Whether at least one update finished (an index exists to read)."""
        return bool(self.branches)

    def with_pending(self, branch: str, commit: str) -> Manifest:
        """A copy noting that an update of ``branch`` to ``commit`` has begun."""
        return replace(self, pending={**self.pending, branch: commit}, updated_at=utc_now())

    def with_branch(self, branch: str, state: BranchState, *, drop: bool = False) -> Manifest:
        """A copy with ``branch`` indexed at ``state``, its pending note cleared and a new
        generation; ``drop=True`` forgets every other branch (after a rebuild)."""
        branches = {} if drop else dict(self.branches)
        branches[branch] = state
        pending = {} if drop else {k: v for k, v in self.pending.items() if k != branch}
        return replace(
            self,
            branches=branches,
            pending=pending,
            generation=new_generation(self.generation),
            updated_at=utc_now(),
        )

    def to_metadata(self) -> dict[str, Any]:
        """Flat collection metadata: the JSON manifest plus readable copies of key fields."""
        data = asdict(self)
        return {
            _KEY: json.dumps(data, sort_keys=True),
            "c2rag:model": self.model_name,
            "c2rag:dim": self.dim,
            "c2rag:generation": self.generation or "",
        }

    @classmethod
    def from_metadata(cls, metadata: Mapping[str, Any] | None) -> Manifest | None:
        """The manifest stored in collection metadata, or ``None`` when there is none."""
        raw = (metadata or {}).get(_KEY)
        if not raw:
            return None
        data = json.loads(raw)
        data["branches"] = {
            name: BranchState(
                commit=state["commit"],
                worktree_paths=tuple(state.get("worktree_paths", ())),
                indexed_at=state.get("indexed_at", ""),
            )
            for name, state in data.get("branches", {}).items()
        }
        calibration = data.get("calibration")
        data["calibration"] = (
            Calibration.from_dict(calibration) if isinstance(calibration, dict) else None
        )
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})
