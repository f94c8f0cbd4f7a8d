"""The native C2LLM model: presets, key names, and the PMA head against the paper's equations."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors import safe_open
from transformers import Qwen2Config, Qwen2ForCausalLM

from c2rag.encode.c2llm import C2LLMConfig, C2LLMModel
from tests.fixtures.models import TOKENIZER_FILES


def _meta_model(size: str) -> C2LLMModel:
    with torch.device("meta"):
        return C2LLMModel(C2LLMConfig.preset(size))


@pytest.mark.parametrize(("size", "expected"), [("0.5B", 497_252_096), ("7B", 7_667_028_992)])
def test_preset_parameter_count_matches_published(size: str, expected: int) -> None:
    model = _meta_model(size)
    assert model.parameter_count() == expected


@pytest.mark.parametrize("size", ["0.5B", "7B"])
def test_lm_head_is_never_built(size: str) -> None:
    model = _meta_model(size)
    backbone = model.config.backbone
    lm_head = 0 if backbone.tie_word_embeddings else backbone.vocab_size * backbone.hidden_size
    assert not any("lm_head" in name for name, _ in model.named_parameters())
    assert sum(p.numel() for p in model.parameters()) == model.parameter_count() - lm_head
    assert model.parameter_count(include_lm_head=False) == model.parameter_count() - lm_head


def test_official_key_names() -> None:
    keys = set(_meta_model("0.5B").state_dict())
    head = {k for k in keys if k.startswith("mha_pma.")}
    assert head == {
        "mha_pma.S",
        *(f"mha_pma.mab.fc_{n}.{p}" for n in "qkvo" for p in ("weight", "bias")),
        *(f"mha_pma.mab.ln{i}.{p}" for i in (0, 1) for p in ("weight", "bias")),
    }
    assert all(k.startswith(("plm_model.model.", "mha_pma.")) for k in keys)


def test_unknown_preset_lists_sizes() -> None:
    with pytest.raises(ValueError, match=r"0\.5B, 7B"):
        C2LLMConfig.preset("3B")


def test_head_count_must_divide_width() -> None:
    with pytest.raises(ValueError, match="not divisible"):
        C2LLMConfig.preset("0.5B", pma_num_heads=5)


def test_config_round_trips_through_official_layout(tiny_c2llm_dir: Path) -> None:
    data = json.loads((tiny_c2llm_dir / "config.json").read_text())
    config = C2LLMConfig.from_dict(data)
    assert config.attn_implementation == "flash_attention_2"
    assert config.tokenizer_name_or_path == "codefuse-ai/C2LLM-0.5B"
    again = C2LLMConfig.from_dict(config.to_dict())
    assert again.to_dict() == config.to_dict()
    assert again.to_dict()["model_type"] == "c2llm"
    assert again.to_dict()["auto_map"] == data["auto_map"]


def _layer_norm(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, eps: float
) -> torch.Tensor:
    mean = x.mean()
    var = ((x - mean) ** 2).mean()
    return (x - mean) / torch.sqrt(var + eps) * weight + bias


def reference_pma(
    states: torch.Tensor, mask: torch.Tensor, p: dict[str, torch.Tensor], heads: int
) -> torch.Tensor:
    """The paper's equations, one text and one head at a time, over real tokens only (float64)."""
    seed = p["S"][0, 0]
    d = seed.shape[0]
    q = p["mab.fc_q.weight"] @ seed + p["mab.fc_q.bias"]  # Q = q·Wq (projected seed)
    outputs = []
    for row in range(states.shape[0]):
        tokens = states[row][mask[row].bool()]  # dropping padded keys = masking them out
        k = tokens @ p["mab.fc_k.weight"].T + p["mab.fc_k.bias"]
        v = tokens @ p["mab.fc_v.weight"].T + p["mab.fc_v.bias"]
        o = torch.empty(d, dtype=states.dtype)
        step = d // heads
        for h in range(heads):
            cols = slice(h * step, (h + 1) * step)  # head h owns a contiguous feature slice
            scores = (k[:, cols] @ q[cols]) / math.sqrt(d)  # full width d in the scale
            weights = torch.exp(scores - scores.max())
            weights = weights / weights.sum()
            o[cols] = weights @ v[:, cols]
        o_tilde = _layer_norm(o + q, p["mab.ln0.weight"], p["mab.ln0.bias"], 1e-5)
        ffn = torch.relu(p["mab.fc_o.weight"] @ o_tilde + p["mab.fc_o.bias"])
        outputs.append(_layer_norm(ffn + o_tilde, p["mab.ln1.weight"], p["mab.ln1.bias"], 1e-5))
    return torch.stack(outputs)


def test_pma_matches_paper_equations(tiny_c2llm_dir: Path) -> None:
    torch.manual_seed(1)
    config = C2LLMConfig.from_dict(json.loads((tiny_c2llm_dir / "config.json").read_text()))
    model = C2LLMModel(config).eval()
    head = model.mha_pma
    with torch.no_grad():
        for param in head.parameters():  # LayerNorms too, so that every term is exercised
            param.copy_(torch.randn_like(param) * 0.5)
    states = torch.randn(3, 7, 64)
    mask = torch.tensor([[1] * 7, [0, 0, 0, 1, 1, 1, 1], [1, 1, 0, 0, 0, 0, 0]])
    with torch.no_grad():
        got = head(states, mask)
    params = {k: v.double() for k, v in head.state_dict().items()}
    expected = reference_pma(states.double(), mask, params, heads=32)
    torch.testing.assert_close(got.double(), expected, atol=1e-5, rtol=1e-5)


def test_tiny_checkpoint_end_to_end_matches_independent_model(
    tiny_c2llm_dir: Path, tiny_encoder
) -> None:
    """A plain transformers Qwen2 fed the checkpoint's backbone tensors + the reference PMA
    reproduce what the encoder returns for a document."""
    data = json.loads((tiny_c2llm_dir / "config.json").read_text())
    qwen_fields = {
        k: v for k, v in data.items() if k in Qwen2Config().to_dict() or k == "rope_theta"
    }
    qwen_fields.pop("model_type", None)
    backbone = Qwen2ForCausalLM(Qwen2Config(**qwen_fields, attn_implementation="eager")).eval()
    index = json.loads((tiny_c2llm_dir / "model.safetensors.index.json").read_text())
    tensors = {}
    for shard in sorted(set(index["weight_map"].values())):
        with safe_open(tiny_c2llm_dir / shard, framework="pt") as handle:
            tensors.update({k: handle.get_tensor(k) for k in handle.keys()})  # noqa: SIM118
    backbone.model.load_state_dict(
        {
            k.removeprefix("plm_model.model."): v
            for k, v in tensors.items()
            if k.startswith("plm_model.model.")
        }
    )
    head = {
        k.removeprefix("mha_pma."): v.double()
        for k, v in tensors.items()
        if k.startswith("mha_pma.")
    }

    text = "def add(a, b):\n    return a + b\n"
    ids = tiny_encoder.tokenizer("Retrieved Answer:" + text)["input_ids"]
    with torch.no_grad():
        states = backbone.model(input_ids=torch.tensor([ids])).last_hidden_state
    expected = reference_pma(
        states.double(), torch.ones(1, len(ids)), head, heads=data["pma_num_heads"]
    )
    expected = torch.nn.functional.normalize(expected, dim=-1).numpy()
    got = tiny_encoder.encode_documents([text])
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_saved_model_loads_back_identically(
    tmp_path: Path, tiny_c2llm_dir: Path, tiny_encoder
) -> None:
    """save_c2llm writes transformers-5 field names (rope_parameters); the loader reads them."""
    from c2rag.encode.engine import Encoder
    from c2rag.encode.save import save_c2llm

    model = tiny_encoder.module
    target = save_c2llm(model, tmp_path / "resaved", max_shard_bytes=1 << 16)
    assert len(list(target.glob("model-*.safetensors"))) > 2
    assert "rope_parameters" in json.loads((target / "config.json").read_text())
    for name in TOKENIZER_FILES:
        (target / name).write_bytes((tiny_c2llm_dir / name).read_bytes())
    again = Encoder(target, device="cpu", dtype="fp32")
    texts = ["def f(x):\n    return x", "class A:\n    pass"]
    np.testing.assert_allclose(
        again.encode_documents(texts), tiny_encoder.encode_documents(texts), atol=1e-6
    )
