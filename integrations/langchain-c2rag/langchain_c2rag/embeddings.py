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
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, PrivateAttr, field_validator

from c2rag.encode.ecosystem import (
    default_model_name,
    encode_options,
    loaded_settings,
    model_options,
)
from c2rag.encode.engine import ENCODER_OPTIONS, Encoder

__all__ = ["C2LLMEmbeddings"]


class C2LLMEmbeddings(BaseModel, Embeddings):
    """C2LLM (or any checkpoint c2rag can load) as LangChain embeddings, with no remote code.

    Takes the option names of ``langchain_huggingface.HuggingFaceEmbeddings`` (``model_name``,
    ``cache_folder``, ``model_kwargs``, ``encode_kwargs``, ``show_progress``) beside c2rag's
    own. Documents get the ``Retrieved Answer:`` prompt and queries the instruction of
    ``task``, exactly as the published scores were measured. Text is embedded as given:
    newlines in code are kept. Vectors are L2-normalised.

    After loading, ``model_name`` names the model actually loaded (the resolved default when
    none was given) and ``max_length`` is the effective length (capped by the model). Pickled
    or deep-copied instances work: a deep copy shares the loaded encoder, an unpickled one
    reloads it on first use.

    Args:
        model_name: Hub id or local checkpoint directory (first positional argument, or
            ``model=``).
        **kwargs: The fields below.
    """

    model_config = ConfigDict(
        extra="forbid",
        use_attribute_docstrings=True,
        arbitrary_types_allowed=True,
        protected_namespaces=(),
        populate_by_name=True,
    )

    model_name: str | None = Field(
        default=None, validation_alias=AliasChoices("model_name", "model")
    )
    """Hub id or local directory of the checkpoint: C2LLM, a plain transformers model or a
    sentence-transformers directory. ``None`` resolves c2rag's default model, whose name or
    path is then stored here."""
    cache_folder: str | None = Field(
        default=None, validation_alias=AliasChoices("cache_folder", "cache_dir")
    )
    """Hugging Face cache directory (``cache_dir`` is accepted too); ``None`` uses the hub
    client's default."""
    model_kwargs: dict[str, Any] = Field(default_factory=dict)
    """sentence-transformers style model options: ``device``, ``revision``, ``torch_dtype``,
    ``trust_remote_code`` (``False`` only), or any c2rag field name below."""
    encode_kwargs: dict[str, Any] = Field(default_factory=dict)
    """sentence-transformers style ``encode`` options: ``show_progress_bar``,
    ``normalize_embeddings`` (``True`` only), ``batch_size`` (no effect: texts are batched by
    tokens)."""
    task: str = "text2code"
    """Query task whose instruction prefixes queries (a key of ``c2rag.TASK_PROMPTS``)."""
    instruction: str | None = None
    """Custom query instruction used instead of the task's."""
    pooling: str | None = None
    """``pma``, ``mean``, ``last`` or ``cls``; ``None`` takes the checkpoint's own (filled in
    after loading)."""
    device: str | None = None
    """``cpu``, ``cuda``, … ; ``None`` picks CUDA when available."""
    dtype: str | None = None
    """``bf16``, ``fp32`` or ``fp16``; ``None`` picks bf16 where the hardware has it."""
    max_length: int = Field(default=2048, gt=0)
    """Tokens per text, prompt included; longer texts are truncated (and logged). After loading,
    the effective length: the model's own limit when that is lower."""
    batch_tokens: int | None = None
    """Padded tokens per forward pass; ``None`` uses the encoder's default for the device."""
    revision: str | None = None
    """Hub revision (branch, tag or commit) when ``model_name`` is a hub id."""
    show_progress: bool = False
    """Show a progress bar while embedding documents."""
    encoder: Encoder | None = Field(default=None, exclude=True, repr=False)
    """An already loaded :class:`c2rag.Encoder` to share (e.g. with a ``CodeIndex``); when
    given, the loading fields above describe it and are not used to load."""

    _encoder: Encoder | None = PrivateAttr(default=None)

    def __init__(self, model_name: str | os.PathLike[str] | None = None, /, **kwargs: Any) -> None:
        if model_name is not None:
            kwargs["model_name"] = os.fspath(model_name)
        super().__init__(**kwargs)

    @field_validator("model_name", "cache_folder", mode="before")
    @classmethod
    def _path_as_text(cls, value: Any) -> Any:
        return os.fspath(value) if isinstance(value, os.PathLike) else value

    def model_post_init(self, context: Any, /) -> None:
        """Check the ecosystem options, then load the encoder (or adopt the given one)."""
        options = model_options(self.model_kwargs)  # bad keys fail before a long load
        show = encode_options(self.encode_kwargs)
        if show is not None:
            self.show_progress = show
        for name, value in options.items():
            setattr(self, "cache_folder" if name == "cache_dir" else name, value)
        if self.encoder is None and self.model_name is None:
            self.model_name = default_model_name(self.cache_folder)
        self._encoder = self.encoder
        self.encoder = None  # the private handle holds it; the field stays out of copies
        self._adopt(self.client)

    def _adopt(self, encoder: Encoder) -> None:
        settings = loaded_settings(encoder)
        self.max_length = settings.pop("max_length")
        for name, value in settings.items():
            if getattr(self, name) is None:
                setattr(self, name, value)
        encoder.query_prompt(self.task, self.instruction)  # a bad task fails here

    @property
    def client(self) -> Encoder:
        """The underlying :class:`c2rag.Encoder`, loaded on first use after unpickling."""
        if self._encoder is None:
            options = {name: getattr(self, name) for name in ENCODER_OPTIONS if name != "cache_dir"}
            self._encoder = Encoder(self.model_name, cache_dir=self.cache_folder, **options)
        return self._encoder

    def __getstate__(self) -> dict[Any, Any]:
        state = super().__getstate__()
        state["__pydantic_private__"] = {**state["__pydantic_private__"], "_encoder": None}
        return state

    def __deepcopy__(self, memo: dict[int, Any] | None = None) -> C2LLMEmbeddings:
        memo = {} if memo is None else memo
        if self._encoder is not None:  # read-only once loaded: the copy shares it
            memo[id(self._encoder)] = self._encoder
        return super().__deepcopy__(memo)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed code or answer texts."""
        return self.client.encode_documents(texts, show_progress=self.show_progress).tolist()

    def embed_query(self, text: str) -> list[float]:
        """Embed one query with the task's instruction."""
        vectors = self.client.encode_queries([text], task=self.task, instruction=self.instruction)
        return vectors[0].tolist()

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed documents in a worker thread, leaving the event loop free."""
        return await asyncio.to_thread(self.embed_documents, texts)

    async def aembed_query(self, text: str) -> list[float]:
        """Embed a query in a worker thread, leaving the event loop free."""
        return await asyncio.to_thread(self.embed_query, text)
