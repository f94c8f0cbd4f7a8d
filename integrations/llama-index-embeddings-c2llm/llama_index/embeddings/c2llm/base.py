"""LlamaIndex ``BaseEmbedding`` over c2rag's native C2LLM encoder.

Example:
    >>> from llama_index.embeddings.c2llm import C2LLMEmbedding
    >>> embed_model = C2LLMEmbedding("codefuse-ai/C2LLM-0.5B", task="text2code")
    >>> vector = embed_model.get_query_embedding("parse a config file")
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding, Embedding
from pydantic import ConfigDict, Field, PrivateAttr

from c2rag.encode.engine import ENCODER_OPTIONS, Encoder

__all__ = ["C2LLMEmbedding"]

# The base class cuts input into batches of this many texts before calling us; the encoder
# sorts and packs by length inside a batch, so larger batches waste less padding.
_EMBED_BATCH_SIZE = 256


class C2LLMEmbedding(BaseEmbedding):
    """C2LLM (or any checkpoint c2rag can load) as a LlamaIndex embedding model.

    Documents get the ``Retrieved Answer:`` prompt and queries the instruction of ``task``.
    Text is embedded as given (newlines kept); vectors are L2-normalised.

    Args:
        model_name: Hub id or local checkpoint directory (first positional argument);
            ``None`` uses c2rag's default model.
        encoder: An already loaded :class:`c2rag.Encoder` to share instead of loading one.
        **kwargs: The fields below and those of ``BaseEmbedding``.
    """

    model_config = ConfigDict(extra="forbid")

    task: str = Field(default="text2code", description="Query task (a key of c2rag.TASK_PROMPTS).")
    instruction: str | None = Field(
        default=None, description="Custom query instruction used instead of the task's."
    )
    pooling: str | None = Field(
        default=None, description="pma, mean, last or cls; None takes the checkpoint's own."
    )
    device: str | None = Field(default=None, description="cpu, cuda, …; None picks CUDA if any.")
    dtype: str | None = Field(
        default=None, description="bf16, fp32 or fp16; None picks bf16 where supported."
    )
    max_length: int = Field(default=2048, description="Tokens per text, prompt included.", gt=0)
    batch_tokens: int | None = Field(
        default=None, description="Padded tokens per forward pass (None: device default)."
    )
    revision: str | None = Field(default=None, description="Hub revision for a hub id.")
    cache_dir: str | None = Field(default=None, description="Hugging Face cache directory.")

    _encoder: Encoder = PrivateAttr()

    def __init__(
        self,
        model_name: str | os.PathLike[str] | None = None,
        /,
        *,
        encoder: Encoder | None = None,
        embed_batch_size: int = _EMBED_BATCH_SIZE,
        **kwargs: Any,
    ) -> None:
        model = None if model_name is None else os.fspath(model_name)
        # Validate the settings before loading anything.
        super().__init__(model_name=model or "default", embed_batch_size=embed_batch_size, **kwargs)
        options = {name: getattr(self, name) for name in ENCODER_OPTIONS}
        self._encoder = encoder or Encoder(model, **options)
        if model is None:
            self.model_name = self._encoder.model_name
        self._encoder.query_prompt(self.task, self.instruction)  # a bad task fails here

    @classmethod
    def class_name(cls) -> str:
        return "C2LLMEmbedding"

    @property
    def client(self) -> Encoder:
        """The underlying :class:`c2rag.Encoder`."""
        return self._encoder

    def _get_query_embedding(self, query: str) -> Embedding:
        vectors = self._encoder.encode_queries(
            [query], task=self.task, instruction=self.instruction
        )
        return vectors[0].tolist()

    def _get_text_embedding(self, text: str) -> Embedding:
        return self._encoder.encode_documents([text])[0].tolist()

    def _get_text_embeddings(self, texts: list[str]) -> list[Embedding]:
        return self._encoder.encode_documents(texts).tolist()

    async def _aget_query_embedding(self, query: str) -> Embedding:
        return await asyncio.to_thread(self._get_query_embedding, query)

    async def _aget_text_embedding(self, text: str) -> Embedding:
        return await asyncio.to_thread(self._get_text_embedding, text)

    async def _aget_text_embeddings(self, texts: list[str]) -> list[Embedding]:
        return await asyncio.to_thread(self._get_text_embeddings, texts)
