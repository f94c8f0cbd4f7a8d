"""Choosing the device and dtype an encoder runs with.

GPU → bf16 where the GPU supports it. CPU → what a short measurement says
(:mod:`c2rag.encode.probe`): bf16 when it runs the model's shapes clearly faster than fp32 at
outputs indistinguishable from fp32, else fp32; CPU flags do not predict it. fp16 is never
chosen automatically: Qwen2-family models overflow in it. ``dtype=`` or ``$C2RAG_DTYPE``
override the choice.
"""

from __future__ import annotations

import logging
import os
import warnings
from dataclasses import dataclass

import torch

from c2rag.encode.probe import cached_probe, cpu_name, probe_cpu_dtype, probe_shape

__all__ = ["DTYPE_ENV", "DtypeChoice", "choose_dtype", "describe_cpu_dtype", "resolve_device"]

logger = logging.getLogger(__name__)

DTYPE_ENV = "C2RAG_DTYPE"
"""Environment variable naming the dtype when ``dtype=`` is not given (``bf16``, ``fp32``…)."""

_DTYPES = {
    "auto": None,
    "bf16": torch.bfloat16,
    "bfloat16": torch.bfloat16,
    "fp32": torch.float32,
    "float32": torch.float32,
    "float": torch.float32,
    "fp16": torch.float16,
    "float16": torch.float16,
    "half": torch.float16,
}


@dataclass(frozen=True)
class DtypeChoice:
    """The dtype an encoder runs with and why."""

    dtype: torch.dtype
    reason: str
    """One line: ``dtype=`` given, ``$C2RAG_DTYPE``, the GPU's support, or the CPU probe."""


def resolve_device(device: str | torch.device | None) -> torch.device:
    """``None`` → the first CUDA device if there is one, else the CPU."""
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        return torch.device(device)
    except RuntimeError as exc:
        msg = f"unknown device {device!r}: use 'cpu', 'cuda', 'cuda:1', 'mps' or None for auto"
        raise ValueError(msg) from exc


def _parse(dtype: str | torch.dtype | None, where: str) -> torch.dtype | None:
    if isinstance(dtype, str):
        key = dtype.strip().lower().removeprefix("torch.")
        if key not in _DTYPES:
            msg = f"unknown dtype {dtype!r} ({where}); valid: {', '.join(_DTYPES)} or a torch.dtype"
            raise ValueError(msg)
        return _DTYPES[key]
    return dtype


def choose_dtype(
    dtype: str | torch.dtype | None,
    device: torch.device,
    *,
    qwen2_family: bool = False,
    probe_shape: tuple[int, int] | None = None,
) -> DtypeChoice:
    """The dtype to run with and why: ``dtype``, else ``$C2RAG_DTYPE``, else the fastest safe
    one for ``device`` (on a CPU, measured by a cached probe of ``probe_shape``).

    Args:
        dtype: ``None``/``"auto"``, a name (``bf16``, ``fp32``, ``fp16``…) or a torch dtype.
        device: The device the model runs on.
        qwen2_family: Whether the model is Qwen2-based (fp16 overflows there: warned).
        probe_shape: ``(in, out)`` features of the model's widest layer, for the CPU probe;
            ``None`` keeps fp32 on a CPU without probing.

    Raises:
        ValueError: For a dtype name not in the valid set (listed in the message).
    """
    chosen = _parse(dtype, "dtype=")
    reason = f"dtype={dtype!r} given"
    if chosen is None and os.environ.get(DTYPE_ENV, "").strip():
        chosen = _parse(os.environ[DTYPE_ENV], f"${DTYPE_ENV}")
        reason = f"${DTYPE_ENV}={os.environ[DTYPE_ENV].strip()}"
    if chosen is None:
        if device.type == "cuda":
            chosen = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float32
            reason = "GPU " + ("supports bf16" if chosen == torch.bfloat16 else "lacks bf16")
        elif device.type == "cpu" and probe_shape is not None:
            result = probe_cpu_dtype(*probe_shape)
            chosen = torch.bfloat16 if result.dtype == "bfloat16" else torch.float32
            reason = result.reason
        else:
            chosen, reason = torch.float32, f"fp32 on {device.type}"
    if chosen not in (torch.float32, torch.bfloat16, torch.float16):
        msg = f"unsupported dtype {chosen}; use float32, bfloat16 or float16"
        raise ValueError(msg)
    if chosen == torch.float16 and qwen2_family:
        warnings.warn(
            "float16 was requested for a Qwen2-based model; its activations overflow in fp16 "
            "(NaN/inf vectors). Prefer dtype='bf16' or 'fp32'.",
            UserWarning,
            stacklevel=4,
        )
    return DtypeChoice(chosen, reason)


def describe_cpu_dtype(
    model: str | None = None, *, cache_dir: str | os.PathLike[str] | None = None
) -> str:
    """One line for ``c2rag status``: the CPU dtype ``model`` runs with here and why, without
    loading it (from ``$C2RAG_DTYPE``, or the probe cached for its shapes, this CPU, torch
    version and thread count).

    Args:
        model: The model's directory or hub id (its ``config.json`` must be on this machine).
        cache_dir: Where the probe cache is (default: the user cache directory).
    """
    configured = os.environ.get(DTYPE_ENV, "").strip()
    if configured:
        return f"encoder dtype on CPU: {configured} (from ${DTYPE_ENV})"
    from c2rag.encode.checkpoint import local_config
    from c2rag.encode.threads import resolve_threads

    config = local_config(model) if model else None
    shape = probe_shape(config) if config else None
    if shape is None:
        return (
            "encoder dtype on CPU: chosen when the model first loads here (a probe times bf16 "
            f"against fp32; set ${DTYPE_ENV} to choose)"
        )
    threads = resolve_threads(None) or torch.get_num_threads()
    result = cached_probe(*shape, threads=threads, cache_dir=cache_dir)
    if result is None:
        return (
            f"encoder dtype on CPU: not measured yet for this model on {cpu_name()} with "
            f"{threads} thread(s) (its first load probes bf16 against fp32; set ${DTYPE_ENV} "
            "to choose)"
        )
    return f"encoder dtype on CPU: {result.dtype} ({result.reason})"
