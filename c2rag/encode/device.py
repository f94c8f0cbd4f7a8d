"""Choosing the device and dtype an encoder runs with.

GPU → bf16 where the GPU supports it; CPU → bf16 only where the CPU has bf16 matrix units
(AMX on x86, the BF16 extension on Arm), else fp32. fp16 is never chosen automatically:
Qwen2-family models overflow in it.

AVX512-BF16 alone is not enough: on such a CPU without AMX (2 cores, torch 2.13) a bf16
``Linear`` ran at ~52 GFLOP/s against ~80 for fp32, and the whole encoder was ~20% slower in
bf16 (``benchmarks/encode_throughput.py``). Pass ``dtype="bf16"`` to choose it anyway.
"""

from __future__ import annotations

import logging
import platform
import warnings
from pathlib import Path

import torch

__all__ = ["cpu_has_native_bf16", "resolve_device", "resolve_dtype"]

logger = logging.getLogger(__name__)

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
_X86_BF16_FLAGS = {"amx_bf16"}


def cpu_has_native_bf16(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """Whether this CPU has bf16 matrix units that make bf16 faster than fp32.

    Reads the kernel's CPU flags; where they cannot be read (macOS, Windows) the answer is
    ``False`` and the encoder stays in fp32.
    """
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in {"flags", "Features"}:
            flags = set(value.split())
            if flags & _X86_BF16_FLAGS or (
                platform.machine() in {"aarch64", "arm64"} and "bf16" in flags
            ):
                return True
    return False


def resolve_device(device: str | torch.device | None) -> torch.device:
    """``None`` → the first CUDA device if there is one, else the CPU."""
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        return torch.device(device)
    except RuntimeError as exc:
        msg = f"unknown device {device!r}: use 'cpu', 'cuda', 'cuda:1', 'mps' or None for auto"
        raise ValueError(msg) from exc


def resolve_dtype(
    dtype: str | torch.dtype | None, device: torch.device, *, qwen2_family: bool = False
) -> torch.dtype:
    """The dtype to run with: the one asked for, else the fastest safe one for ``device``.

    Args:
        dtype: ``None``/``"auto"``, a name (``bf16``, ``fp32``, ``fp16``…) or a torch dtype.
        device: The device the model runs on.
        qwen2_family: Whether the model is Qwen2-based (fp16 overflows there: warned).

    Raises:
        ValueError: For a dtype name not in the valid set (listed in the message).
    """
    if isinstance(dtype, str):
        key = dtype.lower().removeprefix("torch.")
        if key not in _DTYPES:
            msg = f"unknown dtype {dtype!r}; valid: {', '.join(_DTYPES)} or a torch.dtype"
            raise ValueError(msg)
        dtype = _DTYPES[key]
    if dtype is None:
        if device.type == "cuda":
            dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float32
        elif device.type == "cpu":
            dtype = torch.bfloat16 if cpu_has_native_bf16() else torch.float32
        else:
            dtype = torch.float32
        logger.debug("dtype for %s: %s", device, dtype)
    if dtype not in (torch.float32, torch.bfloat16, torch.float16):
        msg = f"unsupported dtype {dtype}; use float32, bfloat16 or float16"
        raise ValueError(msg)
    if dtype == torch.float16 and qwen2_family:
        warnings.warn(
            "float16 was requested for a Qwen2-based model; its activations overflow in fp16 "
            "(NaN/inf vectors). Prefer dtype='bf16' or 'fp32'.",
            UserWarning,
            stacklevel=3,
        )
    return dtype
