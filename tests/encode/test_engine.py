"""The encoder engine on the tiny official-format C2LLM checkpoint."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
import torch

from c2rag.encode.device import choose_dtype
from c2rag.encode.engine import Encoder, plan_batches
from c2rag.encode.prompts import TASK_PROMPTS
from c2rag.types import Embedder
from tests.fixtures.models import build_tiny_c2llm

SHORT = "def add(a, b):\n    return a + b\n"
LONG = "\n".join(f"def f{i}(x):\n    return x * {i} + len(str(x))" for i in range(40))


def _rows_seen(encoder: Encoder) -> tuple[list[int], torch.utils.hooks.RemovableHandle]:
    """Record the batch sizes the model's forward receives (a real forward hook)."""
    seen: list[int] = []
    backbone = encoder.module.plm_model.model
    handle = backbone.register_forward_pre_hook(
        lambda _m, _args, kwargs: seen.append(int(kwargs["input_ids"].shape[0])),
        with_kwargs=True,
    )
    return seen, handle


def test_encoder_implements_embedder(tiny_encoder: Encoder) -> None:
    assert isinstance(tiny_encoder, Embedder)
    assert tiny_encoder.dim == 64
    assert tiny_encoder.pooling == "pma"
    assert tiny_encoder.max_length == 2048
    assert tiny_encoder.model_name == "C2LLM-tiny"


def test_output_is_normalised_float32_in_input_order(tiny_encoder: Encoder) -> None:
    texts = ["x = 1", LONG, SHORT, "print('hi')"]
    together = tiny_encoder.encode_documents(texts)
    assert together.dtype == np.float32
    assert together.shape == (4, 64)
    np.testing.assert_allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)
    one_by_one = np.vstack([tiny_encoder.encode_documents([t]) for t in texts])
    np.testing.assert_allclose(together, one_by_one, atol=1e-5)


@pytest.mark.parametrize("pooling", ["pma", "mean", "last"])
def test_padding_invariance(tiny_c2llm_dir: Path, pooling: str) -> None:
    # A budget large enough that the short text shares a batch with the long ones.
    encoder = Encoder(
        tiny_c2llm_dir, pooling=pooling, device="cpu", dtype="fp32", batch_tokens=1 << 20
    )
    seen, handle = _rows_seen(encoder)
    try:
        alone = encoder.encode_documents([SHORT])
        seen.clear()
        batched = encoder.encode_documents([LONG, SHORT, LONG + "\n# tail", LONG[:300]])
    finally:
        handle.remove()
    assert seen == [4]  # really one padded batch
    np.testing.assert_allclose(batched[1], alone[0], atol=1e-5)


def test_poolings_differ(tiny_c2llm_dir: Path, tiny_encoder: Encoder) -> None:
    mean = Encoder(tiny_c2llm_dir, pooling="mean", device="cpu", dtype="fp32")
    assert mean.fingerprint != tiny_encoder.fingerprint
    assert not np.allclose(mean.encode_documents([SHORT]), tiny_encoder.encode_documents([SHORT]))


def test_duplicates_are_embedded_once(tiny_encoder: Encoder) -> None:
    seen, handle = _rows_seen(tiny_encoder)
    try:
        vectors = tiny_encoder.encode_documents([SHORT, "y = 2", SHORT, SHORT, "y = 2"])
    finally:
        handle.remove()
    assert sum(seen) == 2
    np.testing.assert_array_equal(vectors[0], vectors[2])
    np.testing.assert_array_equal(vectors[1], vectors[4])


def test_budget_splits_batches(tiny_c2llm_dir: Path) -> None:
    encoder = Encoder(tiny_c2llm_dir, device="cpu", dtype="fp32", batch_tokens=64)
    seen, handle = _rows_seen(encoder)
    try:
        encoder.encode_documents([LONG, SHORT, "a", "b", "c"])
    finally:
        handle.remove()
    assert seen[0] == 1  # the long text alone, first
    assert sum(seen) == 5


def test_plan_batches() -> None:
    assert plan_batches([3, 10, 4, 9], batch_tokens=20) == [[1, 3], [2, 0]]
    assert plan_batches([50, 1, 1], batch_tokens=10) == [[0], [1, 2]]
    assert plan_batches([2] * 5, batch_tokens=100, max_rows=2) == [[0, 1], [2, 3], [4]]
    assert plan_batches([], batch_tokens=10) == []


def test_bad_and_edge_inputs(tiny_encoder: Encoder) -> None:
    assert tiny_encoder.encode_documents([]).shape == (0, 64)
    assert tiny_encoder.encode_queries([]).shape == (0, 64)
    empty = tiny_encoder.encode_documents([""])
    assert np.isfinite(empty).all()
    assert np.linalg.norm(empty) == pytest.approx(1.0, abs=1e-5)
    with pytest.raises(TypeError, match=r"texts\[1\] is int"):
        tiny_encoder.encode_documents(["ok", 3])
    with pytest.raises(TypeError, match=r"texts\[0\] is NoneType"):
        tiny_encoder.encode_queries([None])
    with pytest.raises(TypeError, match="wrap it in a list"):
        tiny_encoder.encode_documents("def f(): pass")


def test_empty_string_without_prompt_gets_a_vector(tiny_encoder: Encoder) -> None:
    vector = tiny_encoder.encode_queries([""], instruction="")
    assert np.linalg.norm(vector) == pytest.approx(1.0, abs=1e-5)


def test_document_and_query_prompts(tiny_encoder: Encoder) -> None:
    # Documents are "Retrieved Answer:" + text, with no separator.
    doc = tiny_encoder.encode_documents([SHORT])
    same = tiny_encoder.encode_queries(["Retrieved Answer:" + SHORT], instruction="")
    np.testing.assert_allclose(doc, same, atol=1e-6)
    # Queries get their task's prefix; the default task is text2code.
    query = "add two numbers"
    for task in ("text2code", "codeqa_multiturn"):
        by_task = tiny_encoder.encode_queries([query], task=task)
        spelled = tiny_encoder.encode_queries([TASK_PROMPTS[task] + query], instruction="")
        np.testing.assert_allclose(by_task, spelled, atol=1e-6)
    np.testing.assert_allclose(
        tiny_encoder.encode_queries([query]),
        tiny_encoder.encode_queries([query], task="text2code"),
        atol=1e-6,
    )
    custom = tiny_encoder.encode_queries([query], instruction="Find the function")
    spelled = tiny_encoder.encode_queries(["Find the function\n" + query], instruction="")
    np.testing.assert_allclose(custom, spelled, atol=1e-6)
    with pytest.raises(ValueError, match="valid tasks: text2code, cosqa"):
        tiny_encoder.encode_queries([query], task="code-search")


def test_constructor_argument_errors(tiny_c2llm_dir: Path, minilm_dir: Path) -> None:
    with pytest.raises(ValueError, match="valid: pma, mean, last, cls"):
        Encoder(tiny_c2llm_dir, pooling="max", device="cpu")
    with pytest.raises(ValueError, match="valid tasks"):
        Encoder(tiny_c2llm_dir, task="search", device="cpu")
    with pytest.raises(ValueError, match="unknown dtype 'int4'"):
        Encoder(tiny_c2llm_dir, dtype="int4", device="cpu")
    with pytest.raises(ValueError, match="needs a C2LLM checkpoint"):
        Encoder(minilm_dir, pooling="pma", device="cpu")


def test_truncation_is_logged_and_applied(
    tiny_c2llm_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    encoder = Encoder(tiny_c2llm_dir, device="cpu", dtype="fp32", max_length=24)
    ids = encoder.tokenizer("Retrieved Answer:" + LONG)["input_ids"]
    head = encoder.tokenizer.decode(ids[:24])
    with caplog.at_level(logging.WARNING, logger="c2rag.encode.engine"):
        cut = encoder.encode_documents([LONG])
    assert "1 of 1 texts were longer than 24 tokens" in caplog.text
    np.testing.assert_allclose(cut, encoder.encode_queries([head], instruction=""), atol=1e-5)


def test_fingerprint_tracks_weights_and_settings(tmp_path: Path, tiny_encoder: Encoder) -> None:
    other = build_tiny_c2llm(tmp_path / "C2LLM-tiny", seed=1)
    other_encoder = Encoder(other, device="cpu", dtype="fp32")
    assert other_encoder.fingerprint != tiny_encoder.fingerprint
    assert '"Retrieved Answer:"' in tiny_encoder.fingerprint
    shorter = Encoder(other, device="cpu", dtype="fp32", max_length=512)
    assert shorter.fingerprint != other_encoder.fingerprint
    # The same files give the same fingerprint, whatever the dtype.
    assert Encoder(other, device="cpu", dtype="bf16").fingerprint == other_encoder.fingerprint


def test_count_tokens_uses_model_tokenizer_without_prompt(tiny_encoder: Encoder) -> None:
    assert tiny_encoder.count_tokens("") == 0
    assert tiny_encoder.count_tokens(SHORT) == len(tiny_encoder.tokenizer.tokenize(SHORT))
    assert tiny_encoder.count_tokens(LONG) > 2048 / 10


@pytest.mark.parametrize("which", ["tiny_encoder", "minilm_encoder"])
def test_count_tokens_equals_the_tokenizer_call(which: str, request: pytest.FixtureRequest) -> None:
    encoder: Encoder = request.getfixturevalue(which)
    tokenizer = encoder.tokenizer
    special = tokenizer.all_special_tokens[0]
    longer = LONG * (2 + encoder.max_length // len(tokenizer.tokenize(LONG)))
    unicode = "h\u00e9llo w\u00f6rld \u4f60\u597d \U0001f642"
    texts = [SHORT, LONG, longer, "", " \n\t ", unicode, f"x {special} y"]
    # embedding leaves truncation at max_length on the tokenizer the engine shares
    encoder.encode_documents([longer])
    for text in texts:
        expected = tokenizer(text, add_special_tokens=False, truncation=False)["input_ids"]
        assert encoder.count_tokens(text) == len(expected), text
    assert encoder.count_tokens(longer) > encoder.max_length


def test_bf16_is_close_to_fp32(tiny_c2llm_dir: Path, tiny_encoder: Encoder) -> None:
    bf16 = Encoder(tiny_c2llm_dir, device="cpu", dtype="bf16")
    texts = [SHORT, LONG]
    cosine = (bf16.encode_documents(texts) * tiny_encoder.encode_documents(texts)).sum(axis=1)
    assert cosine.min() > 0.99


def test_fp16_for_qwen2_warns(tiny_c2llm_dir: Path) -> None:
    with pytest.warns(UserWarning, match="overflow in fp16"):
        Encoder(tiny_c2llm_dir, device="cpu", dtype="fp16")


def test_dtype_resolution(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("C2RAG_DTYPE", raising=False)
    cpu = torch.device("cpu")
    assert choose_dtype("fp32", cpu).dtype == torch.float32
    assert choose_dtype(torch.bfloat16, cpu).dtype == torch.bfloat16
    # Without a shape to probe (a model with no hidden_size), a CPU stays in fp32.
    assert choose_dtype(None, cpu).dtype == torch.float32
    with pytest.raises(ValueError, match="unknown dtype 'fp64'"):
        choose_dtype("fp64", cpu)


def test_threads_option_environment_and_errors(
    tiny_c2llm_dir: Path, tiny_encoder: Encoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("C2RAG_THREADS", raising=False)
    assert tiny_encoder.threads is None
    assert "threads=auto" in repr(tiny_encoder)
    before = torch.get_num_threads()
    one = Encoder(tiny_c2llm_dir, device="cpu", dtype="fp32", threads=1)
    assert one.threads == 1
    np.testing.assert_allclose(
        one.encode_documents([SHORT, LONG]), tiny_encoder.encode_documents([SHORT, LONG]), atol=1e-5
    )
    assert torch.get_num_threads() == before  # restored after each pass
    monkeypatch.setenv("C2RAG_THREADS", "2")
    assert Encoder(tiny_c2llm_dir, device="cpu", dtype="fp32").threads == 2
    monkeypatch.setenv("C2RAG_THREADS", "many")
    with pytest.raises(ValueError, match=r"\$C2RAG_THREADS='many'"):
        Encoder(tiny_c2llm_dir, device="cpu", dtype="fp32")
    with pytest.raises(ValueError, match="threads= must be at least 1"):
        Encoder(tiny_c2llm_dir, device="cpu", dtype="fp32", threads=0)


def test_small_passes_run_on_one_thread_by_default() -> None:
    from c2rag.encode.threads import SMALL_PASS_TOKENS, threads_for

    assert threads_for(SMALL_PASS_TOKENS, None) == 1
    assert threads_for(SMALL_PASS_TOKENS + 1, None) == torch.get_num_threads()
    assert threads_for(10, 3) == 3
