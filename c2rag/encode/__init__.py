"""Embeddings: C2LLM loaded natively (no remote code) and any transformers checkpoint.

Modules, one job each:

- :mod:`~c2rag.encode.prompts`: task → instruction prefix (the published C2LLM prompts)
- :mod:`~c2rag.encode.pooling`: mean / last / cls on ``(states, mask)``
- :mod:`~c2rag.encode.c2llm`: Qwen2 backbone + PMA head, presets of the released sizes
- :mod:`~c2rag.encode.checkpoint`: local directory or hub id → files and identity
- :mod:`~c2rag.encode.loader`: checkpoint → model + tokenizer, key and shape check
- :mod:`~c2rag.encode.save`: a C2LLM model → the official on-disk layout
- :mod:`~c2rag.encode.device`: device and dtype choice
- :mod:`~c2rag.encode.engine`: :class:`Encoder` — dedup, length-sorted batches, normalised output
- :mod:`~c2rag.encode.defaults`: which model to use when none is named

Names are imported on first use so that ``import c2rag.encode.prompts`` stays light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_LAZY: dict[str, str] = {
    "Encoder": "c2rag.encode.engine",
    "C2LLMConfig": "c2rag.encode.c2llm",
    "C2LLMModel": "c2rag.encode.c2llm",
    "TASK_PROMPTS": "c2rag.encode.prompts",
    "resolve_default_model": "c2rag.encode.defaults",
    "save_c2llm": "c2rag.encode.save",
}

__all__ = [
    "TASK_PROMPTS",
    "C2LLMConfig",
    "C2LLMModel",
    "Encoder",
    "resolve_default_model",
    "save_c2llm",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        msg = f"module 'c2rag.encode' has no attribute {name!r}"
        raise AttributeError(msg)
    return getattr(importlib.import_module(module), name)


if TYPE_CHECKING:  # pragma: no cover
    from c2rag.encode.c2llm import C2LLMConfig, C2LLMModel
    from c2rag.encode.defaults import resolve_default_model
    from c2rag.encode.engine import Encoder
    from c2rag.encode.prompts import TASK_PROMPTS
    from c2rag.encode.save import save_c2llm
