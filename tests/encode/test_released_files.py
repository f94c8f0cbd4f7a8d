"""What the released C2LLM files hold: a config without ``tie_word_embeddings``, weights with or
without an ``lm_head``, and damaged or foreign files, each refused with a message naming it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from c2rag.encode.c2llm import C2LLM_PRESETS, LM_HEAD_KEY, C2LLMConfig, C2LLMModel
from c2rag.encode.engine import Encoder
from c2rag.encode.loader import check_c2llm_keys
from c2rag.errors import C2RAGError, CheckpointMismatchError, ModelLoadError
from tests.fixtures.models import build_tiny_c2llm
from tests.index.embedders import CountingEmbedder

CODE = "def greet(name):\n    return 'hello ' + name\n"


def _shards(path: Path) -> list[Path]:
    return sorted(path.glob("model-*.safetensors"))


def _official_config(size: str) -> dict[str, object]:
    """A full-size config.json as released: official head fields, no ``tie_word_embeddings``."""
    config = C2LLMConfig.preset(size, attn_implementation="flash_attention_2").to_dict()
    del config["tie_word_embeddings"]
    return config


def _released_shapes(size: str) -> dict[str, tuple[int, ...]]:
    """Tensor names and shapes of the released safetensors, built on the meta device: the
    backbone and head, plus ``lm_head`` for the untied 7B (the 0.5B's is tied, so not saved)."""
    with torch.device("meta"):
        model = C2LLMModel(C2LLMConfig.preset(size))
    shapes = {k: tuple(t.shape) for k, t in model.state_dict().items()}
    preset = C2LLM_PRESETS[size]
    if not preset["tie_word_embeddings"]:
        shapes[LM_HEAD_KEY] = (preset["vocab_size"], preset["hidden_size"])
    return shapes


def _expected_shapes(size: str) -> dict[str, tuple[int, ...]]:
    """What c2rag builds, on the meta device, from the released config.json of ``size``."""
    with torch.device("meta"):
        model = C2LLMModel(C2LLMConfig.from_dict(_official_config(size)))
    return {k: tuple(t.shape) for k, t in model.state_dict().items()}


@pytest.mark.parametrize("size", ["0.5B", "7B"])
def test_official_config_without_tie_field_fits_released_weights(size: str) -> None:
    expected = _expected_shapes(size)
    released = _released_shapes(size)
    check_c2llm_keys(expected, released, where=f"C2LLM-{size}")  # no error
    assert LM_HEAD_KEY not in expected


@pytest.mark.parametrize("size", ["0.5B", "7B"])
def test_backbone_and_head_mismatches_are_still_refused(size: str) -> None:
    expected = _expected_shapes(size)
    released = _released_shapes(size)
    head = dict(released)
    head["mha_pma.mab.fc_o.weight"] = (7, 7)
    with pytest.raises(CheckpointMismatchError, match=r"mha_pma\.mab\.fc_o\.weight \(checkpoint"):
        check_c2llm_keys(expected, head, where="x")
    backbone = dict(released)
    del backbone["plm_model.model.norm.weight"]
    with pytest.raises(CheckpointMismatchError, match=r"missing: plm_model\.model\.norm\.weight"):
        check_c2llm_keys(expected, backbone, where="x")


def test_tiny_official_checkpoint_without_tie_field_loads(
    tmp_path: Path, tiny_encoder: Encoder
) -> None:
    ckpt = build_tiny_c2llm(tmp_path / "no-tie-field", tie=None)
    assert "tie_word_embeddings" not in json.loads((ckpt / "config.json").read_text())
    assert not any(LM_HEAD_KEY in load_file(shard) for shard in _shards(ckpt))
    encoder = Encoder(ckpt, device="cpu", dtype="fp32")
    assert not any("lm_head" in name for name, _ in encoder.module.named_parameters())
    # Same seed, same weights: the field's absence changes nothing in the vectors.
    np.testing.assert_allclose(
        encoder.encode_documents([CODE]), tiny_encoder.encode_documents([CODE]), atol=1e-6
    )


def test_a_stored_lm_head_is_not_read(tmp_path: Path, tiny_encoder: Encoder) -> None:
    ckpt = build_tiny_c2llm(tmp_path / "untied", tie=False)
    shard = _shards(ckpt)[0]
    state = load_file(shard)
    # Any content and shape: it is not part of an embedding, so it is never loaded.
    state[LM_HEAD_KEY] = torch.full((3, 5), float("nan"))
    save_file(state, str(shard), metadata={"format": "pt"})
    index = ckpt / "model.safetensors.index.json"
    data = json.loads(index.read_text())
    data["weight_map"][LM_HEAD_KEY] = shard.name
    index.write_text(json.dumps(data))
    vectors = Encoder(ckpt, device="cpu", dtype="fp32").encode_documents([CODE])
    np.testing.assert_allclose(vectors, tiny_encoder.encode_documents([CODE]), atol=1e-6)


@pytest.mark.parametrize("field", ["hidden_size", "num_hidden_layers", "rope_theta"])
def test_config_missing_a_backbone_field_names_it_and_the_file(
    tiny_c2llm_dir: Path, tmp_path: Path, field: str
) -> None:
    ckpt = shutil.copytree(tiny_c2llm_dir, tmp_path / "partial")
    config = json.loads((ckpt / "config.json").read_text())
    del config[field]
    (ckpt / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelLoadError) as info:
        Encoder(ckpt, device="cpu", dtype="fp32")
    assert f"'{field}'" in str(info.value)
    assert str(ckpt / "config.json") in str(info.value)


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:-100])


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _cut_header(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:20])


@pytest.mark.parametrize("damage", [_truncate, _empty, _cut_header])
def test_damaged_safetensors_is_a_c2rag_error_naming_the_file(
    tiny_c2llm_dir: Path, tmp_path: Path, damage: object
) -> None:
    ckpt = shutil.copytree(tiny_c2llm_dir, tmp_path / "damaged")
    shard = _shards(ckpt)[-1]
    damage(shard)  # type: ignore[operator]
    with pytest.raises(ModelLoadError) as info:
        Encoder(ckpt, device="cpu", dtype="fp32")
    assert str(shard) in str(info.value)
    assert info.value.__cause__ is not None
    assert isinstance(info.value, C2RAGError)


def test_pickle_named_in_a_safetensors_index_is_refused(
    tiny_c2llm_dir: Path, tmp_path: Path
) -> None:
    ckpt = shutil.copytree(tiny_c2llm_dir, tmp_path / "mixed")
    (ckpt / "pytorch_model-00002.bin").write_bytes(b"\x80\x04not loaded")
    index = ckpt / "model.safetensors.index.json"
    data = json.loads(index.read_text())
    data["weight_map"] = dict.fromkeys(data["weight_map"], "pytorch_model-00002.bin")
    index.write_text(json.dumps(data))
    with pytest.raises(ModelLoadError, match=r"pytorch_model-00002\.bin.*safetensors only") as info:
        Encoder(ckpt, device="cpu", dtype="fp32")
    assert str(index) in str(info.value)


def test_local_model_is_identified_by_content_not_folder(
    tiny_c2llm_dir: Path, tmp_path: Path, tiny_encoder: Encoder
) -> None:
    renamed = shutil.copytree(tiny_c2llm_dir, tmp_path / "elsewhere" / "renamed-model")
    encoder = Encoder(renamed, device="cpu", dtype="fp32")
    assert encoder.fingerprint == tiny_encoder.fingerprint
    assert "renamed-model" not in encoder.fingerprint
    assert tiny_c2llm_dir.name not in tiny_encoder.fingerprint
    other = build_tiny_c2llm(tmp_path / tiny_c2llm_dir.name, seed=1)  # same name, other weights
    assert Encoder(other, device="cpu", dtype="fp32").fingerprint != tiny_encoder.fingerprint


def test_custom_code_checkpoint_refusal_speaks_c2rag(tiny_c2llm_dir: Path, tmp_path: Path) -> None:
    ckpt = shutil.copytree(tiny_c2llm_dir, tmp_path / "custom")
    config = json.loads((ckpt / "config.json").read_text())
    config.update(model_type="my_custom_embedder", architectures=["MyCustomEmbedder"])
    (ckpt / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelLoadError) as info:
        Encoder(ckpt, device="cpu", dtype="fp32")
    message = str(info.value)
    assert "trust_remote_code" not in message
    assert "hf.co" not in message
    assert "natively" in message
    assert "'my_custom_embedder'" in message
    assert str(ckpt / "config.json") in message


def test_index_survives_a_renamed_model_folder_without_embedding_again(
    make_repo: Any, tiny_c2llm_dir: Path, tmp_path: Path
) -> None:
    from c2rag.index import CodeIndex
    from tests.index.embedders import CountingEmbedder

    first = shutil.copytree(tiny_c2llm_dir, tmp_path / "models" / "C2LLM-tiny")
    repo = make_repo(files={"maths.py": "def add(a, b):\n    return a + b\n"})
    store = tmp_path / "store"
    CodeIndex(
        repo.root, encoder=Encoder(first, device="cpu", dtype="fp32"), store_dir=store
    ).update()
    moved = first.rename(tmp_path / "elsewhere-renamed")
    counting = CountingEmbedder(Encoder(moved, device="cpu", dtype="fp32"))
    report = CodeIndex(repo.root, encoder=counting, store_dir=store).update(rebuild=True)
    assert counting.texts == []  # every vector came from the cache: same model, same keys
    assert report.cache_hits > 0


class _AsVersion01(CountingEmbedder):
    """The encoder as c2rag 0.1 named it: the same vectors under the fingerprint of the
    folder-named identity (``dirname@digest``) that 0.1 wrote into manifests and cache keys."""

    @property
    def fingerprint(self) -> str:
        return self.inner.legacy_fingerprints[0]

    @property
    def legacy_fingerprints(self) -> tuple[str, ...]:
        return ()


def test_an_index_written_by_version_0_1_is_read_and_updated_without_embedding_again(
    make_repo: Any, tiny_c2llm_dir: Path, tmp_path: Path
) -> None:
    from c2rag.git import GitRepo
    from c2rag.index import CodeIndex
    from c2rag.retrieve import CodeRetriever
    from c2rag.store import IndexStore, StoreLocation

    encoder = Encoder(tiny_c2llm_dir, device="cpu", dtype="fp32")
    legacy = encoder.legacy_fingerprints
    assert len(legacy) == 1 and legacy[0].startswith(f"{tiny_c2llm_dir.name}@")
    assert legacy[0] != encoder.fingerprint
    repo = make_repo(files={"maths.py": "def add(a, b):\n    return a + b\n"})
    store_dir = tmp_path / "store"
    CodeIndex(repo.root, encoder=_AsVersion01(encoder), store_dir=store_dir).update()

    store = IndexStore.open(StoreLocation.for_repo(repo.root, store_dir=store_dir))
    assert store.manifest is not None and store.manifest.fingerprint == legacy[0]
    with GitRepo(repo.root) as git, CodeRetriever(store, encoder, git) as retriever:
        assert retriever.search("add two numbers", k=1)  # no IndexMismatchError

    counting = CountingEmbedder(encoder)
    report = CodeIndex(repo.root, encoder=counting, store_dir=store_dir).update(rebuild=True)
    assert counting.texts == [] and report.cache_hits > 0  # 0.1's cached vectors reused
    after = IndexStore.open(StoreLocation.for_repo(repo.root, store_dir=store_dir))
    try:
        assert after.manifest is not None and after.manifest.fingerprint == encoder.fingerprint
    finally:
        after.close()
