"""The CPU dtype chosen by a real measurement, its cache, and the overrides. Which dtype wins
depends on the CPU, so the tests check that the choice follows the measurement, not the winner."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
import torch

from c2rag.encode.device import choose_dtype
from c2rag.encode.engine import Encoder
from c2rag.encode.probe import (
    MIN_COSINE,
    MIN_SPEEDUP,
    cache_file,
    cached_results,
    cpu_name,
    decide,
    measure,
    probe_cpu_dtype,
)

CPU = torch.device("cpu")


@pytest.fixture
def user_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh user cache directory (platformdirs follows XDG_CACHE_HOME), no dtype override."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.delenv("C2RAG_DTYPE", raising=False)
    return tmp_path / "xdg-cache" / "c2rag"


def test_decision_needs_clear_speed_and_fp32_like_outputs() -> None:
    assert decide(1.0, 1.0 / (MIN_SPEEDUP + 0.1), 0.99999)
    assert not decide(1.0, 1.0 / (MIN_SPEEDUP - 0.1), 0.99999)  # within noise: keep fp32
    assert not decide(1.0, 0.25, MIN_COSINE - 1e-5)  # fast but visibly different
    assert not decide(1.0, float("inf"), 0.0)


def test_real_probe_choice_follows_its_own_measurement() -> None:
    result = measure(64, 256)
    assert result.fp32_s > 0
    assert result.candidate_s > 0
    assert 0.99 < result.cosine <= 1.0 + 1e-6
    expected = "bfloat16" if decide(result.fp32_s, result.candidate_s, result.cosine) else "float32"
    assert result.dtype == expected
    assert f"{result.speedup:.2f}×" in result.reason


def test_probe_is_cached_per_cpu_and_torch_version(tmp_path: Path) -> None:
    first = probe_cpu_dtype(64, 256, cache_dir=tmp_path)
    assert not first.cached
    stored = json.loads(cache_file(tmp_path).read_text())
    (key,) = stored
    assert cpu_name() in key
    assert torch.__version__ in key
    second = probe_cpu_dtype(64, 256, cache_dir=tmp_path)
    assert second.cached
    assert (second.dtype, second.fp32_s, second.cosine) == (first.dtype, first.fp32_s, first.cosine)
    assert second.reason.startswith("cached probe")
    probe_cpu_dtype(96, 256, cache_dir=tmp_path)  # another model shape: its own entry
    assert len(cached_results(tmp_path)) == 2


def test_unreadable_cache_is_measured_again_and_rewritten(tmp_path: Path) -> None:
    cache_file(tmp_path).parent.mkdir(parents=True, exist_ok=True)
    cache_file(tmp_path).write_text("{not json")
    result = probe_cpu_dtype(64, 256, cache_dir=tmp_path)
    assert not result.cached
    assert len(cached_results(tmp_path)) == 1


def test_a_dtype_without_kernel_gives_fp32_and_a_log_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="c2rag.encode.probe"):
        result = probe_cpu_dtype(64, 256, cache_dir=tmp_path, candidate=torch.int8)
    assert result.dtype == "float32"
    assert result.error
    assert "using fp32" in caplog.text
    assert "failed here" in result.reason


def test_auto_dtype_on_cpu_probes_once_and_says_why(tiny_c2llm_dir: Path, user_cache: Path) -> None:
    encoder = Encoder(tiny_c2llm_dir, device="cpu")
    assert (user_cache / "cpu-dtype.json").is_file()
    assert encoder.dtype in (torch.float32, torch.bfloat16)
    assert encoder.dtype_reason.startswith("probe: ")
    assert encoder.dtype_reason in repr(encoder)
    again = Encoder(tiny_c2llm_dir, device="cpu")
    assert again.dtype == encoder.dtype
    assert again.dtype_reason.startswith("cached probe: ")


def test_argument_and_environment_override_the_probe(
    tiny_c2llm_dir: Path, user_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    given = Encoder(tiny_c2llm_dir, device="cpu", dtype="fp32")
    assert given.dtype == torch.float32
    assert "dtype='fp32' given" in repr(given)
    monkeypatch.setenv("C2RAG_DTYPE", "bf16")
    from_env = Encoder(tiny_c2llm_dir, device="cpu")
    assert from_env.dtype == torch.bfloat16
    assert from_env.dtype_reason == "$C2RAG_DTYPE=bf16"
    assert Encoder(tiny_c2llm_dir, device="cpu", dtype="fp32").dtype == torch.float32
    assert not (user_cache / "cpu-dtype.json").exists()  # no probe was needed
    monkeypatch.setenv("C2RAG_DTYPE", "fp8")
    with pytest.raises(ValueError, match=r"'fp8' \(\$C2RAG_DTYPE\)"):
        choose_dtype(None, CPU)


def test_status_line_names_the_probe_of_this_model_only(
    tiny_c2llm_dir: Path, user_cache: Path, tmp_path: Path
) -> None:
    from c2rag.encode.device import describe_cpu_dtype

    assert "not measured yet for this model" in describe_cpu_dtype(str(tiny_c2llm_dir))
    encoder = Encoder(tiny_c2llm_dir, device="cpu")
    line = describe_cpu_dtype(str(tiny_c2llm_dir))
    assert line.startswith(f"encoder dtype on CPU: {str(encoder.dtype).removeprefix('torch.')} (")
    # A model whose config cannot be found here (no directory, a hub id not in the cache)
    # gets the general line, not another model's answer.
    for model in (str(tmp_path / "gone"), "nobody/not-a-cached-model", None):
        assert "chosen when the model first loads here" in describe_cpu_dtype(model)
