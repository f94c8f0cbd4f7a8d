"""The signature view: a symbol's name (also spelled as words), signature and docstring,
embedded apart and blended into the vector stored for each of its chunks.

A chunk's embedding spreads over every token of its body, so the few tokens that say what
the code is for (``pass_context``, ``def get_environ_proxies(url, no_proxy)``, the first
docstring sentence) weigh little against a loop's worth of local names. Embedding them on
their own and storing ``normalize(code + weight · view)`` puts that weight back. Measured with
the MiniLM fallback (``benchmarks/retrieval_quality.py``; the weight was chosen on the tuning
group only): four of five held-out docstring→function sets gain 0.02–0.035 MRR@10 through
the hybrid and one loses 0.019, CoSQA's web queries stay level, and the held-out urllib3
conversations lose 0.07 in a session (``docs/concepts/retrieval.md`` has the figures). One
vector per chunk is kept, so storage, filters, branch flags and the search path are
unchanged; the cost is one short extra text per symbol (parts of a split function share it).

Module remainders, windows and docs pages get no view: their vector is the text's alone,
exactly as before.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from c2rag.types import text_hash

__all__ = ["DEFAULT_SIGNATURE_WEIGHT", "SignatureView", "VectorRecipe", "blend"]

DEFAULT_SIGNATURE_WEIGHT = 0.5
"""Chosen by ``benchmarks/signature_view_sweep.py`` on the tuning group (CoSQA 0–249, click,
jinja2, joblib, tornado) with the MiniLM fallback; see ``docs/concepts/retrieval.md``."""

_KINDS = frozenset({"function", "method", "class"})
_VERSION = "2"  # 2: the name spelled as words on a first line
_SUMMARY_CHARS = 300
_NAME_PART = re.compile(r"[.:]+")
_CAMEL = re.compile(r"([a-z0-9])([A-Z])")


@dataclass(frozen=True)
class VectorRecipe:
    """How the stored vector of one record is made.

    Attributes:
        key: Hash the stored vector is cached and looked up under: ``text_hash`` when the
            record has no view, else a hash of both texts and the weight.
        text_hash: Content hash of the chunk text.
        text: The chunk text.
        view_hash: Content hash of the view text, empty without a view.
        view: The view text, empty without a view.
        weight: The view's weight in the blend.
    """

    key: str
    text_hash: str
    text: str
    view_hash: str = ""
    view: str = ""
    weight: float = 0.0

    @property
    def blended(self) -> bool:
        """Whether the stored vector blends a view into the text's vector."""
        return bool(self.view_hash)


@dataclass(frozen=True)
class SignatureView:
    """Which chunks get a signature view, its text and its weight.

    Args:
        weight: The view's weight in ``normalize(code + weight · view)``; ``0`` turns views
            off (every vector is the chunk text's alone).
    """

    weight: float = DEFAULT_SIGNATURE_WEIGHT

    def __post_init__(self) -> None:
        if not 0.0 <= self.weight <= 10.0:
            msg = f"signature_weight must be between 0 and 10, got {self.weight}"
            raise ValueError(msg)

    @property
    def version(self) -> str:
        """What decides stored vectors besides the model and the texts (part of an index's
        content version: changing it rebuilds the index from cached vectors); empty when
        views are off, as indexes built before views existed are."""
        return f"views={_VERSION}:{self.weight:g}" if self.weight else ""

    def text(self, metadata: Mapping[str, Any]) -> str:
        """The view of a record's chunk (its name as words, ``Class.method: signature`` and
        the docstring), or ``""`` when it gets none."""
        signature = str(metadata.get("signature") or "").strip()
        if not self.weight or metadata.get("kind") not in _KINDS or not signature:
            return ""
        qualified = str(metadata.get("name") or "")
        name = qualified.rsplit(".", 1)[-1]
        parent = str(metadata.get("parent") or "").rsplit(".", 1)[-1]
        label = f"{parent}.{name}" if parent else name
        summary = _summary(str(metadata.get("docstring") or ""))
        head = f"{_name_words(qualified)}\n{label}: {signature}"
        return head + (f"\n{summary}" if summary else "")

    def recipe(self, text: str, metadata: Mapping[str, Any]) -> VectorRecipe:
        """The recipe of a record with ``text`` as document and ``metadata`` (which holds
        the chunk's ``content_hash``)."""
        own = str(metadata["content_hash"])
        view = self.text(metadata)
        if not view:
            return VectorRecipe(own, own, text)
        view_hash = text_hash(view)
        key = hashlib.sha256(f"{self.version}\0{own}\0{view_hash}".encode()).hexdigest()
        return VectorRecipe(key, own, text, view_hash, view, self.weight)


def _name_words(qualified: str) -> str:
    """The definition's own name as lower-case words (``parse_retry_after``,
    ``parseRetryAfter``, ``Retry::parse_retry_after`` → ``parse retry after``). A general text
    model reads words better than identifiers: measured with MiniLM, dense MRR@10 rose on
    every tuning set (+0.017 on average; see ``docs/concepts/retrieval.md``)."""
    last = _NAME_PART.split(qualified)[-1]
    return " ".join(_CAMEL.sub(r"\1 \2", last).replace("_", " ").lower().split())


def _summary(docstring: str) -> str:
    """The docstring's first paragraph, at most ``_SUMMARY_CHARS`` (cut at a word): what the
    symbol is for. Parameter lists and examples stay in the chunk text; in the view they
    would cost tokens and dilute the name."""
    first = " ".join(docstring.strip().split("\n\n", 1)[0].split())
    if len(first) <= _SUMMARY_CHARS:
        return first
    return first[:_SUMMARY_CHARS].rsplit(" ", 1)[0]


def blend(text_vector: np.ndarray, view_vector: np.ndarray, weight: float) -> np.ndarray:
    """``normalize(text + weight · view)`` as float32 (both inputs are unit vectors)."""
    mixed = text_vector.astype(np.float32) + np.float32(weight) * view_vector.astype(np.float32)
    norm = float(np.linalg.norm(mixed))
    return mixed / norm if norm > 0 else text_vector.astype(np.float32)
