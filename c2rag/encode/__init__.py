"""Embeddings: C2LLM loaded natively (no remote code) and any transformers checkpoint.

Modules, one job each (the public names are re-exported lazily by :mod:`c2rag`):

- :mod:`~c2rag.encode.prompts`: task → instruction prefix (the published C2LLM prompts)
- :mod:`~c2rag.encode.pooling`: mean / last / cls on ``(states, mask)``
- :mod:`~c2rag.encode.c2llm`: Qwen2 backbone + PMA head, presets of the released sizes
- :mod:`~c2rag.encode.checkpoint`: local directory or hub id → files and identity
- :mod:`~c2rag.encode.loader`: checkpoint → model + tokenizer, key and shape check
- :mod:`~c2rag.encode.save`: a C2LLM model → the official on-disk layout
- :mod:`~c2rag.encode.device`: device and dtype choice
- :mod:`~c2rag.encode.engine`: ``Encoder`` — dedup, length-sorted batches, normalised output
- :mod:`~c2rag.encode.defaults`: which model to use when none is named
"""

__all__: list[str] = []
