"""Writing a :class:`~c2rag.encode.c2llm.C2LLMModel` in the official on-disk layout.

``config.json`` (``model_type "c2llm"`` plus the Qwen2 fields), safetensors shards named
``model-0000i-of-0000n.safetensors`` and ``model.safetensors.index.json``, with the official
key names. The ``lm_head`` is not stored: the model does not build it (embeddings never use it).
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import save_file

from c2rag.encode.c2llm import C2LLMModel

__all__ = ["save_c2llm"]


def save_c2llm(
    model: C2LLMModel,
    directory: str | Path,
    *,
    max_shard_bytes: int = 2 << 30,
    dtype: torch.dtype | None = None,
) -> Path:
    """Save ``model`` so that :class:`~c2rag.encode.engine.Encoder` (and the official
    remote code) can load it. Tokenizer files are not written.

    Args:
        model: The model.
        directory: Target directory (created).
        max_shard_bytes: Largest shard size; tensors are never split.
        dtype: Store weights in this dtype (default: as they are).

    Returns:
        The directory.
    """
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    state = {
        key: (tensor.to(dtype) if dtype is not None else tensor).detach().contiguous().cpu()
        for key, tensor in model.state_dict().items()
    }
    shards: list[list[str]] = [[]]
    size = 0
    for key in sorted(state):
        nbytes = state[key].numel() * state[key].element_size()
        if shards[-1] and size + nbytes > max_shard_bytes:
            shards.append([])
            size = 0
        shards[-1].append(key)
        size += nbytes
    weight_map: dict[str, str] = {}
    for number, keys in enumerate(shards, start=1):
        name = f"model-{number:05d}-of-{len(shards):05d}.safetensors"
        save_file({k: state[k] for k in keys}, str(target / name), metadata={"format": "pt"})
        weight_map.update(dict.fromkeys(keys, name))
    total = sum(t.numel() * t.element_size() for t in state.values())
    index = {"metadata": {"total_size": total}, "weight_map": weight_map}
    (target / "model.safetensors.index.json").write_text(json.dumps(index, indent=2) + "\n")
    config = model.config.to_dict()
    if dtype is not None:
        config["torch_dtype"] = str(dtype).removeprefix("torch.")
    (target / "config.json").write_text(json.dumps(config, indent=2, default=str) + "\n")
    return target
