"""Checkpoint → model + tokenizer, for C2LLM (natively) and for plain transformers models.

C2LLM checkpoints are built from their ``config.json`` on the meta device and filled from
safetensors after a key and shape check, with no remote code. The config's
``attn_implementation`` and ``tokenizer_name_or_path`` are honoured only when they can serve
(flash-attn installed on a GPU; tokenizer files absent from the directory). Other checkpoints
go through ``transformers.AutoModel`` with safetensors only.
"""

from __future__ import annotations

import importlib.util
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import torch
from safetensors import safe_open
from torch import nn

from c2rag.encode.c2llm import LM_HEAD_KEY, C2LLMConfig, C2LLMModel
from c2rag.encode.checkpoint import Checkpoint, snapshot, weight_files
from c2rag.encode.prompts import C2LLM_PROMPTS, JINA_CODE_PROMPTS, NO_PROMPTS, PromptSet
from c2rag.errors import CheckpointMismatchError, ModelLoadError

__all__ = ["LoadedModel", "check_c2llm_keys", "check_state_keys", "is_qwen2_family", "load_model"]

logger = logging.getLogger(__name__)

ModelKind = Literal["c2llm", "decoder", "encoder"]
_TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "vocab.json", "vocab.txt")
_SHOWN = 8  # names listed per category in a mismatch error


@dataclass
class LoadedModel:
    """A model ready for inference and what the engine needs to know about it."""

    module: nn.Module
    tokenizer: Any
    """A ``transformers`` tokenizer."""
    kind: ModelKind
    checkpoint: Checkpoint
    pooling: str | None
    """Pooling the checkpoint prescribes (``pma`` for C2LLM), else ``None``."""
    padding_side: Literal["left", "right"]
    max_length: int | None
    """Longest input the checkpoint supports, when it says."""
    prompts: PromptSet
    dim: int


def _is_c2llm(config: dict[str, Any]) -> bool:
    return config.get("model_type") == "c2llm" or "C2LLMForEmbedding" in (
        config.get("architectures") or []
    )


def _is_decoder(config: dict[str, Any]) -> bool:
    architectures = config.get("architectures") or []
    return bool(config.get("is_decoder")) or any(
        arch.endswith(("ForCausalLM", "LMHeadModel")) for arch in architectures
    )


def _attention(requested: str | None, device: torch.device, dtype: torch.dtype) -> str:
    """The config's attention kernel when it can run here, else SDPA."""
    if requested == "flash_attention_2":
        usable = (
            device.type == "cuda"
            and dtype in (torch.float16, torch.bfloat16)
            and importlib.util.find_spec("flash_attn") is not None
        )
        if usable:
            return requested
        logger.info("config asks for flash_attention_2, which cannot run here; using sdpa")
    elif requested not in (None, "sdpa", "eager"):
        logger.info("config asks for attention %r; using sdpa", requested)
    return "eager" if requested == "eager" else "sdpa"


def check_state_keys(
    expected: dict[str, tuple[int, ...]],
    found: dict[str, tuple[int, ...]],
    *,
    where: Path | str,
) -> None:
    """Compare a model's parameter names and shapes with a checkpoint's.

    Raises:
        CheckpointMismatchError: Listing missing, unexpected and wrongly shaped tensors.
    """
    missing = sorted(set(expected) - set(found))
    unexpected = sorted(set(found) - set(expected))
    mismatched = sorted(
        f"{key} (checkpoint {list(found[key])}, model {list(expected[key])})"
        for key in set(expected) & set(found)
        if tuple(found[key]) != tuple(expected[key])
    )
    if not (missing or unexpected or mismatched):
        return
    parts = []
    for label, names in (
        ("missing", missing),
        ("unexpected", unexpected),
        ("mismatched", mismatched),
    ):
        if names:
            shown = ", ".join(names[:_SHOWN])
            more = f", … ({len(names) - _SHOWN} more)" if len(names) > _SHOWN else ""
            parts.append(f"{len(names)} {label}: {shown}{more}")
    msg = (
        f"checkpoint {where} does not match the model its config describes: "
        + "; ".join(parts)
        + ". Check that config.json belongs to these weights."
    )
    raise CheckpointMismatchError(msg)


def check_c2llm_keys(
    expected: dict[str, tuple[int, ...]], found: dict[str, tuple[int, ...]], *, where: Path | str
) -> None:
    """:func:`check_state_keys` for a C2LLM checkpoint, whose ``lm_head`` is never built:
    present (the untied 7B, or a tied one saved twice) or absent (a tied one as transformers
    saves it), it is neither required nor read.

    Raises:
        CheckpointMismatchError: A backbone or head tensor is missing, unexpected or misshapen.
    """
    check_state_keys(expected, {k: v for k, v in found.items() if k != LM_HEAD_KEY}, where=where)


def _unreadable(path: Path, exc: Exception) -> ModelLoadError:
    msg = (
        f"cannot read the safetensors file {path}: {exc}. It may be truncated or damaged "
        "(an interrupted download or copy); fetch it again."
    )
    return ModelLoadError(msg)


def _tensor_shapes(files: list[Path]) -> dict[str, tuple[int, ...]]:
    shapes: dict[str, tuple[int, ...]] = {}
    for path in files:
        try:
            with safe_open(path, framework="pt") as handle:
                for key in handle.keys():  # noqa: SIM118 - safe_open has no __iter__
                    shapes[key] = tuple(handle.get_slice(key).get_shape())
        except Exception as exc:  # SafetensorError, OSError: the file, not the code, is at fault
            raise _unreadable(path, exc) from exc
    return shapes


def _load_c2llm(ckpt: Checkpoint, device: torch.device, dtype: torch.dtype) -> C2LLMModel:
    config_file = ckpt.model_dir / "config.json"
    try:
        config = C2LLMConfig.from_dict(ckpt.config)
    except (TypeError, ValueError) as exc:
        msg = f"invalid C2LLM config {config_file}: {exc}"
        raise ModelLoadError(msg) from exc
    if config.embedding_method != "pma":
        msg = (
            f"{config_file} sets embedding_method="
            f"{config.embedding_method!r}; the native C2LLM model implements 'pma'"
        )
        raise ModelLoadError(msg)
    attention = _attention(config.attn_implementation, device, dtype)
    with torch.device("meta"):
        model = C2LLMModel(config, attn_implementation=attention)
    files = weight_files(ckpt.model_dir)
    expected = {key: tuple(t.shape) for key, t in model.state_dict().items()}
    check_c2llm_keys(expected, _tensor_shapes(files), where=ckpt.model_dir)
    for path in files:
        # Straight onto the target device: a 7B model never needs a full copy in CPU memory.
        try:
            with safe_open(path, framework="pt", device=str(device)) as handle:
                state = {
                    key: handle.get_tensor(key).to(dtype)
                    for key in handle.keys()  # noqa: SIM118
                    if key in expected
                }
        except Exception as exc:  # a file damaged past its header fails only here
            raise _unreadable(path, exc) from exc
        model.load_state_dict(state, strict=False, assign=True)
    # Non-persistent buffers (rotary frequencies) are computed at construction, so they are
    # still on the meta device: rebuild that module for real.
    backbone = model.plm_model.model
    backbone.rotary_emb = type(backbone.rotary_emb)(config=model.plm_model.config)
    leftovers = [name for name, t in model.state_dict(keep_vars=True).items() if t.is_meta]
    leftovers += [name for name, t in model.named_buffers() if t.is_meta]
    if leftovers:
        msg = f"checkpoint {ckpt.model_dir} left tensors unset: {', '.join(leftovers[:_SHOWN])}"
        raise CheckpointMismatchError(msg)
    return model.to(device=device).eval()


def _custom_code_refusal(ckpt: Checkpoint) -> ModelLoadError:
    """The refusal of a checkpoint that only its own code can load, in c2rag's terms."""
    model_type = ckpt.config.get("model_type")
    msg = (
        f"{ckpt.model_dir / 'config.json'} describes model_type {model_type!r}, which only the "
        "checkpoint's own Python code can build, and c2rag never runs code shipped with a model. "
        "c2rag loads C2LLM checkpoints natively (model_type 'c2llm') and other models through "
        "the architectures transformers ships (BERT, Qwen2, …). Use such a checkpoint, or export "
        "this one to a supported architecture with its own tools."
    )
    return ModelLoadError(msg)


def _load_auto(ckpt: Checkpoint, device: torch.device, dtype: torch.dtype) -> nn.Module:
    from transformers import AutoModel

    try:
        model, info = AutoModel.from_pretrained(
            ckpt.model_dir,
            dtype=dtype,
            use_safetensors=True,
            output_loading_info=True,
            trust_remote_code=False,
        )
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        if "trust_remote_code" in str(exc):  # its advice names an option c2rag does not have
            raise _custom_code_refusal(ckpt) from exc
        msg = (
            f"transformers cannot load {ckpt.model_dir} "
            f"(model_type {ckpt.config.get('model_type')!r}): {exc}"
        )
        raise ModelLoadError(msg) from exc
    missing = sorted(info.get("missing_keys") or [])
    if missing:
        shown = ", ".join(missing[:_SHOWN])
        msg = (
            f"checkpoint {ckpt.model_dir} lacks {len(missing)} weights of its architecture "
            f"({shown}); they would be random. Check that config.json belongs to these weights."
        )
        raise CheckpointMismatchError(msg)
    if info.get("unexpected_keys"):
        logger.debug("unused weights in %s: %s", ckpt.model_dir, info["unexpected_keys"])
    return model.to(device=device).eval()


def _load_tokenizer(
    ckpt: Checkpoint, *, kind: ModelKind, cache_dir: str | os.PathLike[str] | None
) -> Any:
    from transformers import AutoTokenizer, Qwen2Config

    source: Path | None = next(
        (
            d
            for d in (ckpt.model_dir, ckpt.root)
            if any((d / f).is_file() for f in _TOKENIZER_FILES)
        ),
        None,
    )
    if source is None:
        hub_id = ckpt.config.get("tokenizer_name_or_path")
        if not hub_id:
            msg = (
                f"no tokenizer files in {ckpt.model_dir} (looked for {', '.join(_TOKENIZER_FILES)})"
            )
            raise ModelLoadError(msg)
        source = snapshot(str(hub_id), cache_dir=cache_dir)
    # A C2LLM config would send AutoTokenizer after the checkpoint's remote code; the Qwen2
    # config maps to the same tokenizer class without it.
    extra = {"config": Qwen2Config()} if kind == "c2llm" else {}
    try:
        return AutoTokenizer.from_pretrained(source, trust_remote_code=False, **extra)
    except (OSError, ValueError, KeyError) as exc:
        msg = f"cannot load the tokenizer in {source}: {exc}"
        raise ModelLoadError(msg) from exc


def _prompt_family(ckpt: Checkpoint, kind: ModelKind) -> PromptSet:
    if kind == "c2llm":
        return C2LLM_PROMPTS
    names = f"{ckpt.identity} {ckpt.config.get('_name_or_path', '')}".lower()
    return JINA_CODE_PROMPTS if "jina-code-embeddings" in names else NO_PROMPTS


def is_qwen2_family(config: dict[str, Any]) -> bool:
    """Whether a checkpoint config describes a Qwen2-based model (fp16-unsafe)."""
    return _is_c2llm(config) or str(config.get("model_type", "")).startswith("qwen")


def load_model(
    ckpt: Checkpoint,
    *,
    device: torch.device,
    dtype: torch.dtype,
    cache_dir: str | os.PathLike[str] | None = None,
) -> LoadedModel:
    """Load a located checkpoint (see :func:`c2rag.encode.checkpoint.locate`) for embedding.

    Args:
        ckpt: The checkpoint.
        device: Where the model runs.
        dtype: Weight dtype.
        cache_dir: Hugging Face cache directory, for a tokenizer named by hub id only.

    Raises:
        ModelLoadError: Nothing loadable there.
        CheckpointMismatchError: The weights do not fit the config.
    """
    kind: ModelKind = (
        "c2llm" if _is_c2llm(ckpt.config) else "decoder" if _is_decoder(ckpt.config) else "encoder"
    )
    weight_files(ckpt.model_dir)  # fail on absent or pickled weights before any download
    if kind != "c2llm":
        from transformers.models.auto.configuration_auto import CONFIG_MAPPING

        if ckpt.config.get("model_type") not in CONFIG_MAPPING:
            raise _custom_code_refusal(ckpt)
    tokenizer = _load_tokenizer(ckpt, kind=kind, cache_dir=cache_dir)
    max_lengths = [ckpt.max_seq_length, ckpt.config.get("max_position_embeddings")]
    if kind == "c2llm":
        module: nn.Module = _load_c2llm(ckpt, device, dtype)
        pooling: str | None = "pma"
        padding_side = "left" if ckpt.config.get("padding_side", "left") == "left" else "right"
        dim = module.dim  # type: ignore[assignment]
        # sentence_bert_config.json of the release says 32768, which only runs out of memory.
        max_lengths = [ckpt.config.get("max_position_embeddings")]
    else:
        module = _load_auto(ckpt, device, dtype)
        pooling = ckpt.pooling
        padding_side = "left" if getattr(tokenizer, "padding_side", "right") == "left" else "right"
        dim = int(module.config.hidden_size)
    limits = [int(n) for n in max_lengths if n]
    return LoadedModel(
        module=module,
        tokenizer=tokenizer,
        kind=kind,
        checkpoint=ckpt,
        pooling=pooling,
        padding_side=padding_side,
        max_length=min(limits) if limits else None,
        prompts=_prompt_family(ckpt, kind),
        dim=int(dim),
    )
