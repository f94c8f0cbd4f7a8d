"""LlamaIndex adapter: loads the tiny official-format C2LLM checkpoint and the real MiniLM."""

from __future__ import annotations

import asyncio
import copy
import pickle
import threading
from pathlib import Path

import numpy as np
import pytest
from llama_index.core import Document, VectorStoreIndex
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.embeddings.c2llm import C2LLMEmbedding
from pydantic import ValidationError

from c2rag.encode.engine import Encoder

CODE = "def add(a, b):\n    return a + b\n"


@pytest.fixture(scope="module")
def embed_model(tiny_c2llm_dir: Path) -> C2LLMEmbedding:
    return C2LLMEmbedding(tiny_c2llm_dir, task="cosqa", device="cpu", dtype="fp32")


def test_namespace_package_layout() -> None:
    import llama_index.embeddings.c2llm as package

    root = Path(package.__file__).parents[2]
    assert not (root / "__init__.py").exists()
    assert not (root / "embeddings" / "__init__.py").exists()


def test_is_a_llamaindex_embedding(embed_model: C2LLMEmbedding, tiny_c2llm_dir: Path) -> None:
    assert isinstance(embed_model, BaseEmbedding)
    assert C2LLMEmbedding.class_name() == "C2LLMEmbedding"
    assert embed_model.model_name == str(tiny_c2llm_dir)


def test_query_and_texts_match_the_encoder(
    embed_model: C2LLMEmbedding, tiny_encoder: Encoder
) -> None:
    query = embed_model.get_query_embedding("add two numbers")
    expected = tiny_encoder.encode_queries(["add two numbers"], task="cosqa")[0]
    np.testing.assert_allclose(query, expected, atol=1e-6)
    texts = [CODE, "x = 1", CODE.replace("\n", " ")]
    batch = embed_model.get_text_embedding_batch(texts)
    np.testing.assert_allclose(batch, tiny_encoder.encode_documents(texts), atol=1e-6)
    np.testing.assert_allclose(embed_model.get_text_embedding(CODE), batch[0], atol=1e-6)
    assert not np.allclose(batch[0], batch[2])  # newlines kept


def test_async_runs_off_the_event_loop(embed_model: C2LLMEmbedding) -> None:
    threads: list[int] = []
    backbone = embed_model.client.module.plm_model.model
    handle = backbone.register_forward_pre_hook(lambda *_: threads.append(threading.get_ident()))

    async def run() -> tuple[list[float], list[list[float]], list[float], int]:
        results = await asyncio.gather(
            embed_model.aget_query_embedding("add"),
            embed_model.aget_text_embedding_batch([CODE, "y = 2"]),
            embed_model.aget_text_embedding(CODE),
        )
        return (*results, threading.get_ident())

    try:
        query, batch, single, loop_thread = asyncio.run(run())
    finally:
        handle.remove()
    assert threads and loop_thread not in threads
    np.testing.assert_allclose(query, embed_model.get_query_embedding("add"), atol=1e-6)
    np.testing.assert_allclose(single, batch[0], atol=1e-6)


def test_unknown_options_and_tasks_are_refused(tiny_c2llm_dir: Path, tiny_encoder: Encoder) -> None:
    with pytest.raises(ValidationError, match="taks"):
        C2LLMEmbedding(tiny_c2llm_dir, taks="cosqa")
    with pytest.raises(ValueError, match="valid tasks"):
        C2LLMEmbedding(encoder=tiny_encoder, task="search")


def test_minilm_through_llamaindex(minilm_dir: Path) -> None:
    embed_model = C2LLMEmbedding(minilm_dir, device="cpu", dtype="fp32")
    documents = embed_model.get_text_embedding_batch(
        ["def add(a, b):\n    return a + b", "def read_file(path):\n    return open(path).read()"]
    )
    query = embed_model.get_query_embedding("load the contents of a file")
    assert np.argmax(np.asarray(documents) @ np.asarray(query)) == 1


def test_huggingface_option_names(tiny_c2llm_dir: Path, tiny_encoder: Encoder) -> None:
    """The names of ``HuggingFaceEmbedding`` work, by keyword; instructions reach the model."""
    embed_model = C2LLMEmbedding(
        model_name=str(tiny_c2llm_dir),
        query_instruction="Find the function: ",
        text_instruction="Code: ",
        embed_batch_size=7,
        device="cpu",
        dtype="fp32",
        cache_folder=str(tiny_c2llm_dir.parent),
    )
    assert (embed_model.model_name, embed_model.embed_batch_size) == (str(tiny_c2llm_dir), 7)
    expected = tiny_encoder.encode_queries(["add"], instruction="Find the function: ")[0]
    np.testing.assert_allclose(embed_model.get_query_embedding("add"), expected, atol=1e-6)
    document = tiny_encoder.encode_documents(["Code: " + CODE])[0]
    np.testing.assert_allclose(embed_model.get_text_embedding(CODE), document, atol=1e-6)


def test_fields_show_the_loaded_model(minilm_dir: Path) -> None:
    embed_model = C2LLMEmbedding(minilm_dir, device="cpu", max_length=2048)
    assert embed_model.max_length == embed_model.client.max_length < 2048
    assert embed_model.pooling == "mean"
    shared = C2LLMEmbedding(encoder=embed_model.client)
    assert shared.model_name == embed_model.client.source


def test_dict_and_pickle_round_trips(embed_model: C2LLMEmbedding) -> None:
    query = embed_model.get_query_embedding("add two numbers")
    from_dict = C2LLMEmbedding.from_dict(embed_model.to_dict())
    from_json = C2LLMEmbedding.from_json(embed_model.to_json())
    unpickled = pickle.loads(pickle.dumps(embed_model))
    assert unpickled._encoder is None  # reloads on first use
    for restored in (from_dict, from_json, unpickled, copy.deepcopy(embed_model)):
        assert restored.to_dict() == embed_model.to_dict()
        np.testing.assert_allclose(restored.get_query_embedding("add two numbers"), query)
    assert copy.deepcopy(embed_model).client is embed_model.client


def test_vector_store_index_with_a_round_tripped_model(minilm_dir: Path) -> None:
    documents = [
        Document(text="def add(a, b):\n    return a + b", id_="add"),
        Document(text="def read_file(path):\n    return open(path).read()", id_="read"),
    ]
    original = C2LLMEmbedding(model_name=str(minilm_dir), device="cpu", dtype="fp32")
    restored = [
        C2LLMEmbedding.from_dict(original.to_dict()),
        pickle.loads(pickle.dumps(original)),
    ]
    for embed_model in restored:
        index = VectorStoreIndex.from_documents(documents, embed_model=embed_model)
        [best] = index.as_retriever(similarity_top_k=1).retrieve("load the contents of a file")
        assert best.node.ref_doc_id == "read"
        expected = np.dot(
            original.get_query_embedding("load the contents of a file"),
            original.get_text_embedding(documents[1].text),
        )
        assert best.score == pytest.approx(float(expected), abs=1e-5)
