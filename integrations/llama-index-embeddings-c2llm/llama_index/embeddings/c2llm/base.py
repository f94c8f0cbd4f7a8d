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
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from c2rag.encode.ecosystem import default_model_name, loaded_settings
from c2rag.encode.engine import ENCODER_OPTIONS, Encoder

__all__ = ["C2LLMEmbedding"]

# The base class cuts input into batches of this many texts before calling us; the encoder
# sorts and packs by length inside a batch, so larger batches waste less padding.
_EMBED_BATCH_SIZE = 256


class C2LLMEmbedding(BaseEmbedding):
    """C2LLM (or any checkpoint c2rag can load) as a LlamaIndex embedding model.

    Takes the option names of ``llama_index.embeddings.huggingface.HuggingFaceEmbedding``
    (``model_name``, ``max_length``, ``query_instruction``, ``text_instruction``,
    ``embed_batch_size``, ``cache_folder``, ``device``, ``show_progress_bar``) beside c2rag's
    own. Documents get the model's document prompt (``Retrieved Answer:`` for C2LLM) and
    queries the instruction of ``task``; text is embedded as given (newlines kept); vectors are
    L2-normalised.

    After loading, ``model_name`` names the model actually loaded and ``max_length`` is the
    effective length. ``to_dict``/``from_dict`` and pickle round-trip: an unpickled instance
    reloads the encoder on first use; a deep copy shares it.

    Args:
        model_name: Hub id or local checkpoint directory (first positional argument or
            keyword); ``None`` uses c2rag's default model.
        encoder: An already loaded :class:`c2rag.Encoder` to share instead of loading one.
        **kwargs: The fields below and those of ``BaseEmbedding``.
    """

    model_config = ConfigDict(extra="forbid")

    task: str = Field(default="text2code", description="Query task (a key of c2rag.TASK_PROMPTS).")
    query_instruction: str | None = Field(
        default=None,
        description="Instruction before each query, used instead of the task's.",
    )
    text_instruction: str | None = Field(
        default=None,
        description="Extra text before each document, after the model's own document prompt "
        "(it changes every document vector; an index must be built with the same one).",
    )
    pooling: str | None = Field(
        default=None, description="pma, mean, last or cls; None takes the checkpoint's own."
    )
    device: str | None = Field(default=None, description="cpu, cuda, …; None picks CUDA if any.")
    dtype: str | None = Field(
        default=None, description="bf16, fp32 or fp16; None picks bf16 where supported."
    )
    max_length: int = Field(
        default=2048,
        description="Tokens per text, prompt included; after loading, the effective length.",
        gt=0,
    )
    batch_tokens: int | None = Field(
        default=None, description="Padded tokens per forward pass (None: device default)."
    )
    revision: str | None = Field(default=None, description="Hub revision for a hub id.")
    cache_folder: str | None = Field(default=None, description="Hugging Face cache directory.")
    show_progress_bar: bool = Field(default=False, description="Show a progress bar.")

    _encoder: Encoder | None = PrivateAttr(default=None)

    def __init__(
        self,
        model_name: str | os.PathLike[str] | None = None,
        /,
        *,
        encoder: Encoder | None = None,
        embed_batch_size: int = _EMBED_BATCH_SIZE,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("model_name", model_name)
        name = kwargs.pop("model_name")
        if "cache_dir" in kwargs:  # c2rag's own name for it
            kwargs["cache_folder"] = kwargs.pop("cache_dir")
        if "instruction" in kwargs:
            kwargs["query_instruction"] = kwargs.pop("instruction")
        if name is None and encoder is None:
            name = default_model_name(kwargs.get("cache_folder"))
        # Validate the settings before loading anything.
        super().__init__(
            model_name=os.fspath(name) if name is not None else "",
            embed_batch_size=embed_batch_size,
            **kwargs,
        )
        self._encoder = encoder
        settings = loaded_settings(self.client)
        self.max_length = settings.pop("max_length")
        for field, value in settings.items():
            if not getattr(self, field):
                setattr(self, field, value)
        self.client.query_prompt(self.task, self.query_instruction)  # a bad task fails here

    def __setstate__(self, state: dict[str, Any]) -> None:
        # The base class re-runs __init__ (a model load); here the encoder loads on first use.
        state["__pydantic_private__"] = {**(state.get("__pydantic_private__") or {})}
        state["__pydantic_private__"]["_encoder"] = None
        BaseModel.__setstate__(self, state)

    def __getstate__(self) -> dict[Any, Any]:
        private = self.__pydantic_private__ or {}
        encoder = private.get("_encoder")
        private["_encoder"] = None  # never pickle the model; BaseComponent would try to
        try:
            return super().__getstate__()
        finally:
            private["_encoder"] = encoder

    def __deepcopy__(self, memo: dict[int, Any] | None = None) -> C2LLMEmbedding:
        memo = {} if memo is None else memo
        if self._encoder is not None:  # read-only once loaded: the copy shares it
            memo[id(self._encoder)] = self._encoder
        return super().__deepcopy__(memo)

    @classmethod
    def class_name(cls) -> str:
        return "C2LLMEmbedding"

    @property
    def client(self) -> Encoder:
        """The underlying :class:`c2rag.Encoder`, loaded on first use after unpickling."""
        if self._encoder is None:
            options = {name: getattr(self, name) for name in ENCODER_OPTIONS if name != "cache_dir"}
            self._encoder = Encoder(self.model_name, cache_dir=self.cache_folder, **options)
        return self._encoder

    def _document_texts(self, texts: list[str]) -> list[str]:
        prefix = self.text_instruction
        return texts if prefix is None else [prefix + text for text in texts]

    def _get_query_embedding(self, query: str) -> Embedding:
        vectors = self.client.encode_queries(
            [query], task=self.task, instruction=self.query_instruction
        )
        return vectors[0].tolist()

    def _get_text_embedding(self, text: str) -> Embedding:
        return self._get_text_embeddings([text])[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[Embedding]:
        return self.client.encode_documents(
            self._document_texts(texts), show_progress=self.show_progress_bar
        ).tolist()

    async def _aget_query_embedding(self, query: str) -> Embedding:
        return await asyncio.to_thread(self._get_query_embedding, query)

    async def _aget_text_embedding(self, text: str) -> Embedding:
        return await asyncio.to_thread(self._get_text_embedding, text)

    async def _aget_text_embeddings(self, texts: list[str]) -> list[Embedding]:
        return await asyncio.to_thread(self._get_text_embeddings, texts)
