"""Choosing the CPU dtype by measurement: bf16 when this CPU runs the model's shapes clearly
faster in it than in fp32, at outputs indistinguishable from fp32.

CPU flags do not predict it: on one AVX512-BF16 machine a bf16 ``Linear`` ran at 4× the fp32
speed, on another of the same kind at 0.6×. So the first load on a machine times a few
``Linear`` calls of the model's own shapes in both dtypes (well under a second), and the answer
is cached per CPU model, torch version, thread count and shape in the user cache directory.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import platform
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

__all__ = [
    "MIN_COSINE",
    "MIN_SPEEDUP",
    "ProbeResult",
    "cache_file",
    "cached_probe",
    "cached_results",
    "cpu_name",
    "measure",
    "probe_cpu_dtype",
    "probe_shape",
]

logger = logging.getLogger(__name__)

MIN_SPEEDUP = 1.25
"""bf16 must be at least this much faster than fp32: within noise, fp32 keeps exact outputs."""
MIN_COSINE = 0.9999
"""Smallest cosine between bf16 and fp32 outputs of the probe for bf16 to be chosen."""

_TOKENS = 64  # rows of the probe input: a short batch, as the engine's small token budgets give
# Weights per probe layer: wide layers (the 7B's MLP) are timed on a slice of their outputs,
# which keeps the probe well under a second; speed per FLOP is alike.
_MAX_WEIGHTS = 1_500_000
_BUDGET_S = 0.1  # timed calls per dtype, after the warm-up (two dtypes: twice this)
_REPEATS = 3
_SLOWER = 3.0  # stop timing a dtype already this many times slower than fp32


@dataclass(frozen=True)
class ProbeResult:
    """What the probe measured and decided."""

    dtype: str
    """``"bfloat16"`` or ``"float32"``: the choice."""
    fp32_s: float
    """Best time of one probe call in fp32 (seconds)."""
    candidate_s: float
    """Best time in bf16 (``inf`` when it failed)."""
    cosine: float
    """Smallest row cosine between the bf16 and fp32 outputs (0 when it failed)."""
    error: str = ""
    """Why bf16 could not run, when it could not."""
    cached: bool = False
    """Whether the answer came from the cache rather than a run now."""

    @property
    def speedup(self) -> float:
        """fp32 time / bf16 time (above 1: bf16 faster)."""
        return self.fp32_s / self.candidate_s if self.candidate_s > 0 else 0.0

    @property
    def reason(self) -> str:
        """One line saying why: the measurement behind the choice."""
        source = "cached probe" if self.cached else "probe"
        if self.error:
            return f"{source}: bf16 failed here ({self.error}), so fp32"
        verdict = (
            "chosen"
            if self.dtype == "bfloat16"
            else f"not chosen (needs ≥{MIN_SPEEDUP:g}× and cosine ≥{MIN_COSINE})"
        )
        return (
            f"{source}: bf16 ran {self.speedup:.2f}× the fp32 speed at cosine "
            f"{self.cosine:.6f}; bf16 {verdict}"
        )


def decide(fp32_s: float, candidate_s: float, cosine: float) -> bool:
    """Whether bf16 pays: clearly faster and as exact as the encoder promises."""
    return candidate_s > 0 and fp32_s / candidate_s >= MIN_SPEEDUP and cosine >= MIN_COSINE


def _best_times(
    fp32: torch.nn.Linear, x: torch.Tensor, low: torch.nn.Linear, low_x: torch.Tensor
) -> tuple[float, float]:
    """Best time of each layer over alternating calls, after an untimed warm-up of both.

    The first call of a dtype pays one-time kernel set-up, and a shared machine's load comes
    and goes: timing each dtype only after its warm-up, and in turns, keeps a slow first call
    or a burst of load from deciding (an earlier probe that timed fp32 then bf16 cached "bf16
    runs 0.02× fp32" under load). A candidate already ``_SLOWER`` times slower stops early.
    """
    fp32(x)
    low(low_x)
    best_fp32 = best_low = float("inf")
    spent = 0.0
    for _ in range(_REPEATS):
        start = time.perf_counter()
        fp32(x)
        took_fp32 = time.perf_counter() - start
        start = time.perf_counter()
        low(low_x)
        took_low = time.perf_counter() - start
        best_fp32, best_low = min(best_fp32, took_fp32), min(best_low, took_low)
        spent += took_fp32 + took_low
        if spent > 2 * _BUDGET_S or best_low > best_fp32 * _SLOWER:
            break
    return best_fp32, best_low


def _fp32_time(layer: torch.nn.Linear, x: torch.Tensor) -> float:
    """Best fp32 time alone (when the candidate cannot run)."""
    layer(x)
    best = float("inf")
    for _ in range(_REPEATS):
        start = time.perf_counter()
        layer(x)
        best = min(best, time.perf_counter() - start)
    return best


def _probe_width(in_features: int, out_features: int) -> int:
    return max(1, min(out_features, _MAX_WEIGHTS // max(in_features, 1)))


def measure(
    in_features: int, out_features: int, *, candidate: torch.dtype = torch.bfloat16
) -> ProbeResult:
    """Time ``Linear(in_features, out_features)`` (outputs sliced to 1.5M weights) on 64 rows
    in fp32 and in ``candidate``, compare the outputs, and decide. A candidate that cannot run
    (no kernel) gives fp32 with the error; this function does not raise for it.
    """
    out_features = _probe_width(in_features, out_features)
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(_TOKENS, in_features, generator=generator)
    layer = torch.nn.Linear(in_features, out_features)
    with torch.no_grad():
        layer.weight.copy_(torch.randn(out_features, in_features, generator=generator) * 0.02)
    with torch.inference_mode():
        reference = layer(x)
        try:
            low = copy.deepcopy(layer).to(candidate)
            low_x = x.to(candidate)
            output = low(low_x).float()
            cosine = float(torch.nn.functional.cosine_similarity(output, reference, dim=-1).min())
            fp32_s, candidate_s = _best_times(layer, x, low, low_x)
        except (RuntimeError, NotImplementedError, TypeError) as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            fp32_s = _fp32_time(layer, x)
            return ProbeResult("float32", fp32_s, float("inf"), 0.0, error=reason)
    chosen = "bfloat16" if decide(fp32_s, candidate_s, cosine) else "float32"
    return ProbeResult(chosen, fp32_s, candidate_s, cosine)


def cpu_name(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """The CPU's model name (``/proc/cpuinfo``), else what ``platform`` says."""
    try:
        for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and value.strip():
                return value.strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def cache_file(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """Where probe answers are kept: ``cpu-dtype.json`` in the user cache directory."""
    if cache_dir is None:
        from platformdirs import user_cache_dir

        cache_dir = user_cache_dir("c2rag")
    return Path(cache_dir) / "cpu-dtype.json"


def probe_shape(config: Mapping[str, Any]) -> tuple[int, int] | None:
    """``(in, out)`` features of a model's MLP (from its ``config.json``), the layer the probe
    times; ``None`` when the config does not say."""
    hidden = config.get("hidden_size") or config.get("d_model")
    if not isinstance(hidden, int) or hidden < 1:
        return None
    wide = config.get("intermediate_size")
    return hidden, wide if isinstance(wide, int) and wide > 0 else 4 * hidden


def _key(
    in_features: int, out_features: int, candidate: torch.dtype, threads: int | None = None
) -> str:
    threads = threads or torch.get_num_threads()
    shape = f"{in_features}x{_probe_width(in_features, out_features)}"
    name = str(candidate).removeprefix("torch.")
    return f"{cpu_name()} | torch {torch.__version__} | {threads} threads | {shape} | {name}"


def cached_results(cache_dir: str | os.PathLike[str] | None = None) -> dict[str, ProbeResult]:
    """Every cached answer, by key (CPU, torch version, threads, shape); empty when none or
    when the file is unreadable (it is then rewritten by the next probe)."""
    path = cache_file(cache_dir)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {key: ProbeResult(**{**value, "cached": True}) for key, value in data.items()}
    except (OSError, ValueError, TypeError, AttributeError):
        return {}


def cached_probe(
    in_features: int,
    out_features: int,
    *,
    threads: int | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    candidate: torch.dtype = torch.bfloat16,
) -> ProbeResult | None:
    """The cached answer for a model of these shapes on this CPU and torch version, with
    ``threads`` (torch's current count when ``None``); ``None`` when it was never probed."""
    return cached_results(cache_dir).get(_key(in_features, out_features, candidate, threads))


def _store(path: Path, key: str, result: ProbeResult) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            data = data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            data = {}
        record = asdict(result)
        record.pop("cached")
        data[key] = record
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:  # a read-only home only costs a probe per load
        logger.info("cannot cache the CPU dtype probe in %s: %s", path, exc)


def probe_cpu_dtype(
    in_features: int,
    out_features: int,
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    candidate: torch.dtype = torch.bfloat16,
) -> ProbeResult:
    """The CPU dtype for a model whose widest layer maps ``in_features`` → ``out_features``:
    the cached answer for this CPU, torch version and thread count, else a new probe (cached).
    """
    key = _key(in_features, out_features, candidate)
    cached = cached_results(cache_dir).get(key)
    if cached is not None:
        return cached
    try:
        result = measure(in_features, out_features, candidate=candidate)
    except Exception as exc:  # the probe must never stop a load: fp32 always works
        logger.warning("CPU dtype probe failed (%s); using fp32", exc)
        return ProbeResult("float32", 0.0, float("inf"), 0.0, error=str(exc) or repr(exc))
    if result.error:
        logger.warning("%s cannot run on this CPU (%s); using fp32", candidate, result.error)
    _store(cache_file(cache_dir), key, result)
    return result
