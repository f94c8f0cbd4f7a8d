"""LangChain ``Embeddings`` over c2rag's native C2LLM encoder.

Example:
    >>> from langchain_c2rag import C2LLMEmbeddings
    >>> embeddings = C2LLMEmbeddings("codefuse-ai/C2LLM-0.5B", task="codeqa_multiturn")
    >>> vectors = embeddings.embed_documents(["def add(a, b):\\n    return a + b"])
    >>> query = embeddings.embed_query("where are numbers added?")
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from langchain_core.embeddings import Embeddings
from pydantic import BaseModel, ConfigDict, PrivateAttr

from c2rag.encode.engine import ENCODER_OPTIONS, Encoder

__all__ = ["C2LLMEmbeddings"]


class C2LLMEmbeddings(BaseModel, Embeddings):
    """C2LLM (or any checkpoint c2rag can load) as LangChain embeddings, with no remote code.

    Documents get the ``Retrieved Answer:`` prompt and queries the instruction of ``task``,
    exactly as the published scores were measured. Text is embedded as given: newlines in code
    are kept. Vectors are L2-normalised.

    Args:
        model: Hub id or local checkpoint directory (first positional argument).
        **kwargs: The fields below.
    """

    model_config = ConfigDict(
        extra="forbid", use_attribute_docstrings=True, arbitrary_types_allowed=True
    )

    model: str | None = None
    """Hub id or local directory of the checkpoint: C2LLM, a plain transformers model or a
    sentence-transformers directory. ``None`` uses c2rag's default model."""
    task: str = "text2code"
    """Query task whose instruction prefixes queries (a key of ``c2rag.TASK_PROMPTS``)."""
    instruction: str | None = None
    """Custom query instruction used instead of the task's."""
    pooling: str | None = None
    """``pma``, ``mean``, ``last`` or ``cls``; ``None`` takes the checkpoint's own."""
    device: str | None = None
    """``cpu``, ``cuda``, … ; ``None`` picks CUDA when available."""
    dtype: str | None = None
    """``bf16``, ``fp32`` or ``fp16``; ``None`` picks bf16 where the hardware has it."""
    max_length: int = 2048
    """Tokens per text, prompt included; longer texts are truncated (and logged)."""
    batch_tokens: int | None = None
    """Padded tokens per forward pass; ``None`` uses the encoder's default for the device."""
    revision: str | None = None
    """Hub revision (branch, tag or commit) when ``model`` is a hub id."""
    cache_dir: str | None = None
    """Hugging Face cache directory; ``None`` uses the hub client's default."""
    show_progress: bool = False
    """Show a progress bar while embedding documents."""
    encoder: Encoder | None = None
    """An already loaded :class:`c2rag.Encoder` to share (e.g. with a ``CodeIndex``); when
    given, the loading fields above are not used."""

    _encoder: Encoder = PrivateAttr()

    def __init__(self, model: str | os.PathLike[str] | None = None, /, **kwargs: Any) -> None:
        if model is not None:
            kwargs["model"] = os.fspath(model)
        super().__init__(**kwargs)

    def model_post_init(self, context: Any, /) -> None:
        """Load the encoder (or adopt the given one) and check the task."""
        options = {name: getattr(self, name) for name in ENCODER_OPTIONS}
        self._encoder = self.encoder or Encoder(self.model, **options)
        self._encoder.query_prompt(self.task, self.instruction)  # a bad task fails here

    @property
    def client(self) -> Encoder:
        """The underlying :class:`c2rag.Encoder`."""
        return self._encoder

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed code or answer texts."""
        return self._encoder.encode_documents(texts, show_progress=self.show_progress).tolist()

    def embed_query(self, text: str) -> list[float]:
        """Embed one query with the task's instruction."""
        vectors = self._encoder.encode_queries([text], task=self.task, instruction=self.instruction)
        return vectors[0].tolist()

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed documents in a worker thread, leaving the event loop free."""
        return await asyncio.to_thread(self.embed_documents, texts)

    async def aembed_query(self, text: str) -> list[float]:
        """Embed a query in a worker thread, leaving the event loop free."""
        return await asyncio.to_thread(self.embed_query, text)
