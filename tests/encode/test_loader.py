"""Loading checkpoints: official C2LLM layout, hub cache, generic transformers and
sentence-transformers directories, and every refusal with its message."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from c2rag.encode.engine import Encoder
from c2rag.errors import CheckpointMismatchError, ModelLoadError
from tests.fixtures.models import TOKENIZER_FILES, build_tiny_c2llm, tiny_qwen_tokenizer_json

SHA = "0123456789abcdef0123456789abcdef01234567"
CODE = "def greet(name):\n    return 'hello ' + name\n"


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def _shards(path: Path) -> list[Path]:
    return sorted(path.glob("model-*.safetensors"))


def _rewrite_shard(shard: Path, change: Callable[[dict[str, torch.Tensor]], object]) -> None:
    state = load_file(shard)
    change(state)
    save_file(state, str(shard), metadata={"format": "pt"})


def _fake_hub_cache(cache: Path, repo_id: str, src: Path) -> Path:
    """Lay out ``src`` as the Hugging Face cache does after a download of ``repo_id``."""
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    shutil.copytree(src, repo / "snapshots" / SHA)
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(SHA)
    return repo / "snapshots" / SHA


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def test_flash_attention_request_is_replaced_without_flash_attn(tiny_encoder: Encoder) -> None:
    backbone = tiny_encoder.module.plm_model
    assert backbone.config._attn_implementation == "sdpa"


def test_missing_tensor_is_named(tiny_c2llm_dir: Path, tmp_path: Path) -> None:
    ckpt = _copy(tiny_c2llm_dir, tmp_path / "ckpt")
    for shard in _shards(ckpt):
        _rewrite_shard(shard, lambda s: s.pop("mha_pma.mab.fc_o.bias", None))
    with pytest.raises(CheckpointMismatchError, match=r"1 missing: mha_pma\.mab\.fc_o\.bias"):
        Encoder(ckpt, device="cpu", dtype="fp32")


def test_unexpected_tensor_is_named(tiny_c2llm_dir: Path, tmp_path: Path) -> None:
    ckpt = _copy(tiny_c2llm_dir, tmp_path / "ckpt")
    _rewrite_shard(_shards(ckpt)[0], lambda s: s.update({"mha_pma.extra": torch.zeros(2)}))
    with pytest.raises(CheckpointMismatchError, match=r"1 unexpected: mha_pma\.extra"):
        Encoder(ckpt, device="cpu", dtype="fp32")


def test_shape_mismatch_lists_shapes(tiny_c2llm_dir: Path, tmp_path: Path) -> None:
    ckpt = _copy(tiny_c2llm_dir, tmp_path / "ckpt")
    config = json.loads((ckpt / "config.json").read_text())
    config["intermediate_size"] = 96
    (ckpt / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointMismatchError) as info:
        Encoder(ckpt, device="cpu", dtype="fp32")
    message = str(info.value)
    assert "6 mismatched" in message  # gate/up/down of both layers
    assert (
        "plm_model.model.layers.0.mlp.down_proj.weight (checkpoint [64, 128], model [64, 96])"
        in message
    )


def test_single_file_checkpoint_equals_sharded(
    tiny_c2llm_dir: Path, tmp_path: Path, tiny_encoder: Encoder
) -> None:
    ckpt = _copy(tiny_c2llm_dir, tmp_path / "single")
    state: dict[str, torch.Tensor] = {}
    for shard in _shards(ckpt):
        state.update(load_file(shard))
        shard.unlink()
    (ckpt / "model.safetensors.index.json").unlink()
    save_file(state, str(ckpt / "model.safetensors"), metadata={"format": "pt"})
    single = Encoder(ckpt, device="cpu", dtype="fp32")
    np.testing.assert_allclose(
        single.encode_documents([CODE]), tiny_encoder.encode_documents([CODE]), atol=1e-6
    )


def test_pickled_weights_are_refused(tmp_path: Path, tiny_c2llm_dir: Path) -> None:
    ckpt = tmp_path / "pickled"
    ckpt.mkdir()
    shutil.copy(tiny_c2llm_dir / "config.json", ckpt)
    (ckpt / "pytorch_model.bin").write_bytes(b"not loaded")
    with pytest.raises(ModelLoadError, match="safetensors only"):
        Encoder(ckpt, device="cpu")


def test_directory_without_config_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match=rf"{tmp_path / 'config.json'} not found"):
        Encoder(tmp_path, device="cpu")


def test_missing_local_path(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="does not exist"):
        Encoder(tmp_path / "nope" / "model dir", device="cpu")


def test_hub_id_offline_explains_local_copy(tmp_path: Path, offline: None) -> None:
    with pytest.raises(ModelLoadError) as info:
        Encoder("codefuse-ai/C2LLM-0.5B", cache_dir=tmp_path, device="cpu")
    message = str(info.value)
    assert "HF_HUB_OFFLINE" in message
    assert "C2RAG_MODEL" in message
    assert "pass its directory" in message


def test_hub_id_loads_from_cache_offline(
    tiny_c2llm_dir: Path, tmp_path: Path, offline: None, tiny_encoder: Encoder
) -> None:
    _fake_hub_cache(tmp_path, "someone/C2LLM-tiny", tiny_c2llm_dir)
    encoder = Encoder("someone/C2LLM-tiny", cache_dir=tmp_path, device="cpu", dtype="fp32")
    assert encoder.model_name == "someone/C2LLM-tiny"
    assert encoder.fingerprint.startswith(f"someone/C2LLM-tiny@{SHA};")
    np.testing.assert_allclose(
        encoder.encode_documents([CODE]), tiny_encoder.encode_documents([CODE]), atol=1e-6
    )


def test_tokenizer_falls_back_to_config_hub_id(
    tmp_path: Path, tiny_c2llm_dir: Path, offline: None
) -> None:
    ckpt = build_tiny_c2llm(tmp_path / "no-tokenizer", with_tokenizer=False)
    with pytest.raises(ModelLoadError, match=r"'codefuse-ai/C2LLM-0\.5B'.*HF_HUB_OFFLINE"):
        Encoder(ckpt, device="cpu", cache_dir=tmp_path / "cache")
    tokenizer_only = tmp_path / "tok"
    tokenizer_only.mkdir()
    for name in TOKENIZER_FILES:
        shutil.copy(tiny_c2llm_dir / name, tokenizer_only)
    _fake_hub_cache(tmp_path / "cache", "codefuse-ai/C2LLM-0.5B", tokenizer_only)
    encoder = Encoder(ckpt, device="cpu", cache_dir=tmp_path / "cache")
    assert encoder.count_tokens(CODE) > 0


# -- generic transformers checkpoints ---------------------------------------------------


@pytest.fixture(scope="module")
def tiny_qwen2_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A plain (non-C2LLM) Qwen2 causal LM saved by transformers, with the tiny tokenizer."""
    from transformers import Qwen2Config, Qwen2ForCausalLM

    path = tmp_path_factory.mktemp("qwen2") / "tiny-qwen2"
    torch.manual_seed(0)
    config = Qwen2Config(
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        vocab_size=512,
        max_position_embeddings=1024,
    )
    Qwen2ForCausalLM(config).save_pretrained(path)
    (path / "tokenizer.json").write_text(tiny_qwen_tokenizer_json())
    (path / "tokenizer_config.json").write_text(
        json.dumps({"tokenizer_class": "Qwen2Tokenizer", "pad_token": "<|endoftext|>"})
    )
    return path


def test_plain_decoder_uses_last_token_and_is_padding_invariant(tiny_qwen2_dir: Path) -> None:
    encoder = Encoder(tiny_qwen2_dir, device="cpu", dtype="fp32", batch_tokens=1 << 20)
    assert encoder.pooling == "last"
    assert encoder.dim == 32
    assert encoder.max_length == 1024
    alone = encoder.encode_documents([CODE])
    batched = encoder.encode_documents([CODE * 20, CODE, CODE * 7])
    np.testing.assert_allclose(batched[1], alone[0], atol=1e-5)
    assert encoder.encode_queries([CODE], task="cosqa").tolist() == alone.tolist()  # no prompts


def test_generic_checkpoint_missing_weights(tiny_qwen2_dir: Path, tmp_path: Path) -> None:
    ckpt = _copy(tiny_qwen2_dir, tmp_path / "broken")
    _rewrite_shard(ckpt / "model.safetensors", lambda s: s.pop("model.norm.weight"))
    with pytest.raises(CheckpointMismatchError, match=r"lacks 1 weights .*norm\.weight"):
        Encoder(ckpt, device="cpu")


def _linked_copy(src: Path, dst: Path) -> Path:
    """A copy whose large files are symlinks (cheap), so that small files can be edited."""
    for item in src.rglob("*"):
        target = dst / item.relative_to(src)
        if item.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(item)
    return dst


def test_sentence_transformers_pooling_config_is_followed(
    minilm_dir: Path, tmp_path: Path, minilm_encoder: Encoder
) -> None:
    assert minilm_encoder.pooling == "mean"
    assert minilm_encoder.max_length == 256  # sentence_bert_config.json
    assert minilm_encoder.dim == 384
    copy = _linked_copy(minilm_dir, tmp_path / "minilm-cls")
    pooling_config = copy / "1_Pooling" / "config.json"
    settings = json.loads(pooling_config.read_text())
    pooling_config.unlink()
    settings.update(pooling_mode_mean_tokens=False, pooling_mode_cls_token=True)
    pooling_config.write_text(json.dumps(settings))
    cls_encoder = Encoder(copy, device="cpu", dtype="fp32")
    assert cls_encoder.pooling == "cls"
    assert not np.allclose(
        cls_encoder.encode_documents([CODE]), minilm_encoder.encode_documents([CODE])
    )
    # the caller can still override it
    assert Encoder(copy, device="cpu", pooling="mean").pooling == "mean"


def test_unsupported_sentence_transformers_pooling(minilm_dir: Path, tmp_path: Path) -> None:
    copy = _linked_copy(minilm_dir, tmp_path / "minilm-max")
    pooling_config = copy / "1_Pooling" / "config.json"
    pooling_config.unlink()
    pooling_config.write_text(json.dumps({"pooling_mode_max_tokens": True}))
    with pytest.raises(ModelLoadError, match="asks for pooling \\['max'\\]"):
        Encoder(copy, device="cpu")


def test_minilm_real_semantics(minilm_encoder: Encoder) -> None:
    functions = [
        "def read_lines(path):\n    with open(path) as f:\n        return f.readlines()\n",
        "def add(a, b):\n    return a + b\n",
        "def send_email(to, subject, body):\n    server = smtplib.SMTP('localhost')\n"
        "    server.sendmail('me@example.com', [to], f'Subject: {subject}\\n\\n{body}')\n",
        "def sort_by_age(people):\n    return sorted(people, key=lambda p: p['age'])\n",
    ]
    queries = [
        "read all lines of a text file",
        "sum of two numbers",
        "send an email message",
        "sort a list of people by their age",
    ]
    scores = minilm_encoder.encode_queries(queries) @ minilm_encoder.encode_documents(functions).T
    assert (scores.argmax(axis=1) == np.arange(len(queries))).all(), scores
    assert (np.diag(scores) > scores.mean(axis=1)).all()


def test_changed_weights_change_the_fingerprint(
    tiny_c2llm_dir: Path, tmp_path: Path, tiny_encoder: Encoder
) -> None:
    ckpt = _copy(tiny_c2llm_dir, tmp_path / "another name")  # same content, another folder
    assert Encoder(ckpt, device="cpu", dtype="fp32").fingerprint == tiny_encoder.fingerprint
    key = "plm_model.model.layers.1.mlp.down_proj.weight"
    for shard in _shards(ckpt):
        _rewrite_shard(shard, lambda s: s[key].mul_(1.01) if key in s else None)
    assert Encoder(ckpt, device="cpu", dtype="fp32").fingerprint != tiny_encoder.fingerprint
