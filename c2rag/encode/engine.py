"""The encoder engine shared by every model: prompts, dedup, length-sorted token-budget batches.

Padding is the first waste of a naive loop (most of its tokens are padding on real code), so
texts are sorted by length and cut into batches whose padded size stays under a token budget:
one long function never pads a batch of short ones. Identical texts within a call are
embedded once. Vectors come back L2-normalised, float32, in input order.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from c2rag.encode.checkpoint import locate
from c2rag.encode.device import choose_dtype, resolve_device
from c2rag.encode.loader import LoadedModel, is_qwen2_family, load_model
from c2rag.encode.pooling import POOLING_MODES, pool
from c2rag.encode.probe import probe_shape
from c2rag.encode.prompts import C2LLM_PROMPTS
from c2rag.encode.threads import resolve_threads, threads_for, torch_threads

__all__ = ["ENCODER_OPTIONS", "Encoder", "plan_batches"]

logger = logging.getLogger(__name__)

# Padded tokens per batch. On a CPU a small budget wastes least on padding and costs nothing
# in speed per real token (512 beat 1024 and 2048 in fp32 and bf16, on 1 and 2 threads:
# benchmarks/encode_throughput.py); a GPU wants more work per launch.
_CPU_BATCH_TOKENS = 512
_GPU_BATCH_TOKENS = 32768
_MAX_ROWS = 256

ENCODER_OPTIONS = (
    "pooling", "device", "dtype", "max_length", "batch_tokens", "task", "revision", "cache_dir",
)  # fmt: skip
"""Keyword options of :class:`Encoder`, for adapters that expose them as settings (``threads``
is not among them yet: adapters take it from ``$C2RAG_THREADS``)."""


def plan_batches(
    lengths: Sequence[int], *, batch_tokens: int, max_rows: int = _MAX_ROWS
) -> list[list[int]]:
    """Group indices into batches, longest first, each padding to at most ``batch_tokens``.

    A text longer than the budget gets a batch of its own.

    Example:
        >>> plan_batches([3, 10, 4, 9], batch_tokens=20)
        [[1, 3], [2, 0]]
    """
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    batches: list[list[int]] = []
    current: list[int] = []
    for index in order:
        width = lengths[current[0]] if current else lengths[index]
        if current and ((len(current) + 1) * width > batch_tokens or len(current) >= max_rows):
            batches.append(current)
            current = []
        current.append(index)
    if current:
        batches.append(current)
    return batches


def _counting_backend(tokenizer: Any) -> Any | None:
    """A private copy of a fast tokenizer's Rust backend for :meth:`Encoder.count_tokens`, or
    ``None`` for a slow tokenizer.

    Chunking counts tokens thousands of times per repository (a function, then its parts);
    through transformers' per-call wrapper that cost ~1.7x the backend's own time. The copy has
    truncation and padding off for good and nothing ever changes its settings, so it needs no
    lock either.
    """
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if not getattr(tokenizer, "is_fast", False) or backend is None:
        return None
    counter = copy.deepcopy(backend)
    counter.no_truncation()
    counter.no_padding()
    # as transformers' call does: special-token text counts as its one token unless the
    # tokenizer is set to split it
    counter.encode_special_tokens = bool(getattr(tokenizer, "split_special_tokens", False))
    return counter


def _check_texts(texts: Sequence[str]) -> list[str]:
    if isinstance(texts, str):
        msg = "expected a sequence of strings, got one str; wrap it in a list: [text]"
        raise TypeError(msg)
    items = list(texts)
    for position, item in enumerate(items):
        if not isinstance(item, str):
            msg = f"texts[{position}] is {type(item).__name__}, not str"
            raise TypeError(msg)
    return items


class Encoder:
    """Embeds code and questions with C2LLM or another transformers checkpoint.

    Implements :class:`c2rag.types.Embedder`.

    Args:
        model: Checkpoint directory or hub id; ``None`` picks the default
            (:func:`c2rag.encode.defaults.resolve_default_model`).
        pooling: ``pma``, ``mean``, ``last`` or ``cls``; default: what the checkpoint
            prescribes (``pma`` for C2LLM, the sentence-transformers Pooling config), else
            ``last`` for decoders and ``mean`` for encoders.
        device: ``"cpu"``, ``"cuda"``, … (default: CUDA when available).
        dtype: ``"bf16"``, ``"fp32"``, ``"fp16"`` or a torch dtype (default: ``$C2RAG_DTYPE``,
            else bf16 on GPUs, and on a CPU what a short cached probe measures faster at equal
            outputs; see :mod:`c2rag.encode.probe`). The choice and why: :attr:`dtype_reason`.
        max_length: Tokens per input (prompt included); longer inputs are truncated and the
            truncation is logged. Capped by what the checkpoint supports.
        batch_tokens: Padded tokens per forward pass (default 512 on CPU, 32768 on GPU).
        task: Default query task (a key of :data:`c2rag.encode.prompts.TASK_PROMPTS`).
        revision: Hub revision when ``model`` is a hub id.
        cache_dir: Hugging Face cache directory.
        threads: CPU threads per forward pass (default: ``$C2RAG_THREADS``, else one thread
            for small passes such as a query and torch's setting for large ones; see
            :mod:`c2rag.encode.threads`).

    Example:
        >>> enc = Encoder("codefuse-ai/C2LLM-0.5B")
        >>> docs = enc.encode_documents(["def add(a, b):\\n    return a + b"])
        >>> query = enc.encode_queries(["add two numbers"])
        >>> float(query @ docs.T)
    """

    def __init__(
        self,
        model: str | os.PathLike[str] | None = None,
        *,
        pooling: str | None = None,
        device: str | torch.device | None = None,
        dtype: str | torch.dtype | None = None,
        max_length: int = 2048,
        batch_tokens: int | None = None,
        task: str = "text2code",
        revision: str | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
        threads: int | None = None,
    ) -> None:
        if model is None:
            from c2rag.encode.defaults import resolve_default_model

            model = resolve_default_model().name_or_path
        if pooling is not None and pooling not in POOLING_MODES:
            msg = f"unknown pooling {pooling!r}; valid: {', '.join(POOLING_MODES)}"
            raise ValueError(msg)
        C2LLM_PROMPTS.check_task(task)  # a misspelt task fails before a long model load
        if max_length < 1:
            msg = f"max_length must be a positive number of tokens, got {max_length}"
            raise ValueError(msg)
        self._threads = resolve_threads(threads)
        ckpt = locate(model, revision=revision, cache_dir=cache_dir)
        self._device = resolve_device(device)
        # The probe times the thread count documents will be embedded with (and is cached
        # under it, which is what `c2rag status` looks up).
        with torch_threads(self._threads or torch.get_num_threads()):
            choice = choose_dtype(
                dtype,
                self._device,
                qwen2_family=is_qwen2_family(ckpt.config),
                probe_shape=probe_shape(ckpt.config),
            )
        self._dtype, self._dtype_reason = choice.dtype, choice.reason
        self._loaded: LoadedModel = load_model(
            ckpt, device=self._device, dtype=self._dtype, cache_dir=cache_dir
        )
        loaded = self._loaded
        self._pooling = (
            pooling or loaded.pooling or ("last" if loaded.kind == "decoder" else "mean")
        )
        if self._pooling == "pma" and loaded.kind != "c2llm":
            msg = f"pooling='pma' needs a C2LLM checkpoint; {ckpt.name} has no PMA head"
            raise ValueError(msg)
        loaded.prompts.check_task(task)
        self._task = task
        self._max_length = min(max_length, loaded.max_length or max_length)
        if self._max_length < max_length:
            logger.info(
                "%s supports %d tokens; max_length lowered from %d",
                ckpt.name,
                self._max_length,
                max_length,
            )
        default_budget = _GPU_BATCH_TOKENS if self._device.type == "cuda" else _CPU_BATCH_TOKENS
        self._batch_tokens = max(int(batch_tokens or default_budget), 1)
        tokenizer = loaded.tokenizer
        # count_tokens measures texts of any length (chunk sizing) and every model call passes
        # max_length explicitly, so the tokenizer's "longer than the model" warning is noise.
        tokenizer.model_max_length = 1 << 62
        self._pad_id = next(
            (i for i in (tokenizer.pad_token_id, tokenizer.eos_token_id) if i is not None), 0
        )
        # Fast tokenizers refuse concurrent calls that change truncation settings.
        self._tokenizer_lock = threading.Lock()
        self._counter = _counting_backend(tokenizer)
        logger.info(
            "encoder %s: %s pooling, %s on %s (%s), max_length %d",
            ckpt.identity,
            self._pooling,
            self._dtype,
            self._device,
            self._dtype_reason,
            self._max_length,
        )

    # -- identity -------------------------------------------------------------------------

    @property
    def model_name(self) -> str:
        """Hub id or directory name of the model."""
        return self._loaded.checkpoint.name

    @property
    def source(self) -> str:
        """Local directory the model was loaded from (a hub-cache snapshot for a hub id):
        what to pass to ``Encoder`` to load the same model again on this machine."""
        return str(self._loaded.checkpoint.root)

    @property
    def fingerprint(self) -> str:
        """Model identity and every setting that changes a document vector."""
        return self._fingerprint(self._loaded.checkpoint.identity)

    @property
    def legacy_fingerprints(self) -> tuple[str, ...]:
        """The fingerprints earlier c2rag versions gave this same model and settings: an
        index or cached vectors written under one of them are this encoder's."""
        legacy = self._loaded.checkpoint.legacy_identity
        return (self._fingerprint(legacy),) if legacy else ()

    def _fingerprint(self, identity: str) -> str:
        return (
            f"{identity};pooling={self._pooling};"
            f"doc_prompt={json.dumps(self.document_prompt)};max_length={self._max_length};float"
        )

    @property
    def dim(self) -> int:
        return self._loaded.dim

    @property
    def max_length(self) -> int:
        return self._max_length

    @property
    def batch_tokens(self) -> int:
        """Padded tokens per forward pass."""
        return self._batch_tokens

    @property
    def pooling(self) -> str:
        return self._pooling

    @property
    def task(self) -> str:
        return self._task

    @property
    def device(self) -> torch.device:
        return self._device

    @property
    def dtype(self) -> torch.dtype:
        return self._dtype

    @property
    def dtype_reason(self) -> str:
        """Why :attr:`dtype` was chosen (argument, environment, GPU support or CPU probe)."""
        return self._dtype_reason

    @property
    def threads(self) -> int | None:
        """CPU threads per forward pass; ``None``: one for small passes, torch's setting for
        large ones."""
        return self._threads

    @property
    def module(self) -> torch.nn.Module:
        """The underlying torch model (a :class:`C2LLMModel` or a transformers model)."""
        return self._loaded.module

    @property
    def padding_side(self) -> str:
        """Side padding goes on (``left`` for C2LLM)."""
        return self._loaded.padding_side

    @property
    def tokenizer(self) -> Any:
        """The model's ``transformers`` tokenizer."""
        return self._loaded.tokenizer

    def __repr__(self) -> str:
        return (
            f"Encoder({self.model_name!r}, pooling={self._pooling!r}, "
            f"device={str(self._device)!r}, "
            f"dtype={str(self._dtype).removeprefix('torch.')!r} ({self._dtype_reason}), "
            f"threads={self._threads or 'auto'}, max_length={self._max_length})"
        )

    # -- public API -----------------------------------------------------------------------

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` alone (no prompt, no special tokens)."""
        if self._counter is not None:
            return len(self._counter.encode(text, add_special_tokens=False).ids)
        with self._tokenizer_lock:
            ids = self._loaded.tokenizer(text, add_special_tokens=False, truncation=False)[
                "input_ids"
            ]
        return len(ids)

    def query_prompt(self, task: str | None = None, instruction: str | None = None) -> str:
        """The prefix :meth:`encode_queries` puts before each query.

        Raises:
            ValueError: For an unknown task, listing the valid ones.
        """
        return self._loaded.prompts.query_prompt(task or self._task, instruction)

    @property
    def document_prompt(self) -> str:
        """The prefix :meth:`encode_documents` puts before each document."""
        return self._loaded.prompts.document_prompt(self._task)

    def encode_documents(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        """Embed documents (code): (n, dim) float32, L2-normalised, in input order."""
        return self._encode(_check_texts(texts), self.document_prompt, show_progress=show_progress)

    def encode_queries(
        self, texts: Sequence[str], *, task: str | None = None, instruction: str | None = None
    ) -> np.ndarray:
        """Embed queries with the prompt of ``task`` (default: the encoder's) or a custom
        ``instruction``: (n, dim) float32, L2-normalised.

        Raises:
            ValueError: For an unknown task, listing the valid ones.
        """
        prefix = self.query_prompt(task, instruction)
        return self._encode(_check_texts(texts), prefix, show_progress=False)

    # -- internals ------------------------------------------------------------------------

    def _tokenize(self, texts: list[str]) -> list[list[int]]:
        with self._tokenizer_lock:
            encoded = self._loaded.tokenizer(
                texts, truncation=True, max_length=self._max_length, return_attention_mask=False
            )
        ids: list[list[int]] = [list(row) or [self._pad_id] for row in encoded["input_ids"]]
        encodings = getattr(encoded, "encodings", None) or []
        truncated = sum(1 for enc in encodings if enc.overflowing)
        if truncated:
            logger.warning(
                "%d of %d texts were longer than %d tokens and were truncated",
                truncated,
                len(texts),
                self._max_length,
            )
        return ids

    def _collate(self, rows: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        width = max(len(row) for row in rows)
        ids = torch.full((len(rows), width), self._pad_id, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        left = self._loaded.padding_side == "left"
        for i, row in enumerate(rows):
            span = slice(width - len(row), width) if left else slice(0, len(row))
            ids[i, span] = torch.tensor(row, dtype=torch.long)
            mask[i, span] = 1
        # Positions count real tokens only, so a left-padded text sees the same positions alone
        # as in a batch.
        positions = (mask.cumsum(dim=1) - 1).clamp(min=0)
        return ids.to(self._device), mask.to(self._device), positions.to(self._device)

    def _forward(
        self, ids: torch.Tensor, mask: torch.Tensor, positions: torch.Tensor
    ) -> torch.Tensor:
        module, kind = self._loaded.module, self._loaded.kind
        if kind == "c2llm":
            if self._pooling == "pma":
                return module(ids, mask, positions)
            states = module.hidden_states(ids, mask, positions)
        else:
            extra = {"position_ids": positions} if kind == "decoder" else {}
            out = module(input_ids=ids, attention_mask=mask, **extra)
            states = out.last_hidden_state.masked_fill(~mask.bool()[..., None], 0.0)
        return pool(states, mask, self._pooling)

    def _encode(self, items: list[str], prefix: str, *, show_progress: bool) -> np.ndarray:
        if not items:
            return np.zeros((0, self.dim), dtype=np.float32)
        unique = list(dict.fromkeys(items))
        token_ids = self._tokenize([prefix + text for text in unique])
        vectors = np.empty((len(unique), self.dim), dtype=np.float32)
        batches = plan_batches([len(row) for row in token_ids], batch_tokens=self._batch_tokens)
        with torch.inference_mode():
            for batch in tqdm(batches, desc="embedding", unit="batch", disable=not show_progress):
                rows = [token_ids[i] for i in batch]
                padded = len(rows) * max(len(row) for row in rows)
                cpu = self._device.type == "cpu"
                threads = threads_for(padded, self._threads) if cpu else torch.get_num_threads()
                with torch_threads(threads):
                    pooled = self._forward(*self._collate(rows))
                normed = torch.nn.functional.normalize(pooled.float(), dim=-1)
                vectors[batch] = normed.cpu().numpy()
        if len(unique) == len(items):
            return vectors
        where = {text: i for i, text in enumerate(unique)}
        return vectors[[where[text] for text in items]]
