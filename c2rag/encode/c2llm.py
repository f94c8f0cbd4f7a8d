"""The C2LLM embedding model, natively: a Qwen2 backbone from ``transformers`` and a PMA head.

No remote code is involved. Parameter and module names follow the official checkpoints
(``plm_model.model.*``, ``mha_pma.S``, ``mha_pma.mab.*``) so that their safetensors load without
renaming. The language-model head (``plm_model.lm_head``) plays no part in an embedding, so it is
never built: a checkpoint may carry it or not, tied or untied (545M parameters for the 7B).

PMA (Pooling by Multi-head Attention), with ``q`` the learnable seed, ``H`` the backbone's last
hidden states and ``d`` the output width::

    Q = q·Wq    K = H·Wk    V = H·Wv
    O = softmax(Q·Kᵀ / sqrt(d))·V        # h heads over contiguous feature slices; scale uses d
    Õ = LayerNorm0(O + Q)
    E = LayerNorm1(ReLU(Õ·Wo) + Õ)

Padded keys get a score of -1e12 before the softmax and their weights are multiplied by the
mask after it, as in the reference implementation.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from transformers import Qwen2Config, Qwen2Model

__all__ = [
    "BACKBONE_REQUIRED",
    "C2LLM_PRESETS",
    "LM_HEAD_KEY",
    "PMA",
    "C2LLMConfig",
    "C2LLMModel",
    "MultiheadAttentionBlock",
]

LM_HEAD_KEY = "plm_model.lm_head.weight"
"""Key of the language-model head in official checkpoints: never built, never read."""

# Fields a config.json must give: Qwen2Config would fill the shapes with a 7B-like default and
# rope_theta with 10000 (Qwen2.5 uses 1e6), silently giving another model.
BACKBONE_REQUIRED = (
    "vocab_size",
    "hidden_size",
    "intermediate_size",
    "num_hidden_layers",
    "num_attention_heads",
    "num_key_value_heads",
    "rms_norm_eps",
    "rope_theta",
)
"""Qwen2 fields a C2LLM ``config.json`` must set (``rope_theta`` may sit in ``rope_parameters``)."""

# Score given to padded keys before the softmax (reference value).
_MASKED_SCORE = -1e12

# Fields of an official config.json that belong to the embedding head, not to the backbone.
_HEAD_FIELDS = (
    "embedding_method",
    "compressed_dim",
    "pma_num_heads",
    "pma_ln",
    "pma_norm",
    "pma_norm_mode",
    "padding_side",
    "tokenizer_name_or_path",
)

# Qwen2.5-Coder backbones of the two released sizes (values from their config.json files).
_QWEN25_CODER_COMMON: dict[str, Any] = {
    "hidden_act": "silu",
    "max_position_embeddings": 32768,
    "rms_norm_eps": 1e-6,
    "rope_theta": 1000000.0,
    "use_sliding_window": False,
    "sliding_window": 32768,
    "bos_token_id": 151643,
    "eos_token_id": 151643,
}
C2LLM_PRESETS: dict[str, dict[str, Any]] = {
    "0.5B": {
        **_QWEN25_CODER_COMMON,
        "hidden_size": 896,
        "intermediate_size": 4864,
        "num_hidden_layers": 24,
        "num_attention_heads": 14,
        "num_key_value_heads": 2,
        "max_window_layers": 24,
        "vocab_size": 151936,
        "tie_word_embeddings": True,
        "tokenizer_name_or_path": "codefuse-ai/C2LLM-0.5B",
    },
    "7B": {
        **_QWEN25_CODER_COMMON,
        "hidden_size": 3584,
        "intermediate_size": 18944,
        "num_hidden_layers": 28,
        "num_attention_heads": 28,
        "num_key_value_heads": 4,
        "max_window_layers": 28,
        "vocab_size": 152064,
        "tie_word_embeddings": False,
        "tokenizer_name_or_path": "codefuse-ai/C2LLM-7B",
    },
}
"""Backbone settings of the released checkpoints, keyed by size (``C2LLMConfig.preset``)."""


@dataclass(frozen=True)
class C2LLMConfig:
    """Configuration of a C2LLM model: the Qwen2 backbone plus the PMA head settings.

    ``from_dict`` reads an official ``config.json`` (head fields and Qwen2 fields side by side);
    ``to_dict`` writes the same layout back.
    """

    backbone: Qwen2Config
    """The Qwen2 backbone configuration."""
    embedding_method: str = "pma"
    """Pooling the checkpoint was trained with; C2LLM uses ``pma``."""
    compressed_dim: int | None = None
    """Width ``d`` of the PMA output; ``None`` means the backbone's hidden size."""
    pma_num_heads: int = 32
    pma_ln: bool = True
    """Whether the head has its two LayerNorms (``ln0``, ``ln1``)."""
    pma_norm: bool = False
    """Whether the head L2-normalises its output (the released models do not)."""
    pma_norm_mode: str = "post_normal"
    padding_side: str = "left"
    tokenizer_name_or_path: str | None = None
    """Tokenizer location baked into the official config (a hub id); a local copy wins."""
    attn_implementation: str | None = None
    """Attention kernel the file asks for; the loader replaces it when it cannot serve."""
    extra: Mapping[str, Any] = field(default_factory=dict)
    """Other top-level fields (``architectures``, ``auto_map``, …), kept for ``to_dict``."""

    def __post_init__(self) -> None:
        if self.dim % self.pma_num_heads:
            msg = (
                f"PMA width {self.dim} is not divisible by pma_num_heads={self.pma_num_heads}; "
                "the heads split the feature dimension evenly"
            )
            raise ValueError(msg)

    @property
    def hidden_size(self) -> int:
        return int(self.backbone.hidden_size)

    @property
    def dim(self) -> int:
        """Width of the embedding the head produces."""
        return int(self.compressed_dim or self.backbone.hidden_size)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> C2LLMConfig:
        """Build from the contents of an official ``config.json``."""
        data = dict(data)
        absent = [
            name
            for name in BACKBONE_REQUIRED
            if data.get(name) is None
            and not (name == "rope_theta" and (data.get("rope_parameters") or {}).get(name))
        ]
        if absent:
            msg = (
                f"it does not set {', '.join(repr(n) for n in absent)}, which the Qwen2 backbone "
                "needs (the released config.json files set them all)"
            )
            raise ValueError(msg)
        head = {k: data.pop(k) for k in _HEAD_FIELDS if k in data}
        attn = data.pop("attn_implementation", None) or data.pop("_attn_implementation", None)
        extra = {k: data[k] for k in ("architectures", "auto_map") if k in data}
        data.pop("model_type", None)
        backbone = Qwen2Config.from_dict(data)
        return cls(backbone=backbone, attn_implementation=attn, extra=extra, **head)

    @classmethod
    def preset(cls, size: str, **overrides: Any) -> C2LLMConfig:
        """Configuration of a released size (``"0.5B"`` or ``"7B"``).

        Args:
            size: Key of :data:`C2LLM_PRESETS`.
            **overrides: Fields to change (backbone or head fields).

        Raises:
            ValueError: For an unknown size, listing the known ones.
        """
        if size not in C2LLM_PRESETS:
            msg = f"unknown C2LLM size {size!r}; known sizes: {', '.join(C2LLM_PRESETS)}"
            raise ValueError(msg)
        return cls.from_dict({**C2LLM_PRESETS[size], **overrides})

    def to_dict(self) -> dict[str, Any]:
        """The official ``config.json`` layout."""
        data = self.backbone.to_dict()
        data.update(self.extra)
        data["architectures"] = self.extra.get("architectures") or ["C2LLMForEmbedding"]
        data.update(
            model_type="c2llm",
            embedding_method=self.embedding_method,
            compressed_dim=self.dim,
            pma_num_heads=self.pma_num_heads,
            pma_ln=self.pma_ln,
            pma_norm=self.pma_norm,
            pma_norm_mode=self.pma_norm_mode,
            padding_side=self.padding_side,
        )
        if self.tokenizer_name_or_path is not None:
            data["tokenizer_name_or_path"] = self.tokenizer_name_or_path
        if self.attn_implementation is not None:
            data["attn_implementation"] = self.attn_implementation
        return data


class MultiheadAttentionBlock(nn.Module):
    """Cross-attention of one query set over the token states, with residual FFN (``mab``)."""

    def __init__(self, dim_q: int, dim_k: int, dim: int, num_heads: int, *, ln: bool) -> None:
        super().__init__()
        self.dim = dim
        self.num_heads = num_heads
        self.fc_q = nn.Linear(dim_q, dim)
        self.fc_k = nn.Linear(dim_k, dim)
        self.fc_v = nn.Linear(dim_k, dim)
        self.fc_o = nn.Linear(dim, dim)
        self.ln0: nn.Module = nn.LayerNorm(dim) if ln else nn.Identity()
        self.ln1: nn.Module = nn.LayerNorm(dim) if ln else nn.Identity()

    def forward(
        self, queries: torch.Tensor, states: torch.Tensor, mask: torch.Tensor
    ) -> torch.Tensor:
        """Attend ``queries`` (B, S, dq) over ``states`` (B, L, dk) where ``mask`` (B, L) is 1.

        Returns:
            (B, S, d) pooled vectors.
        """
        batch, n_queries, _ = queries.shape
        heads, head_dim = self.num_heads, self.dim // self.num_heads
        q = self.fc_q(queries)
        k = self.fc_k(states)
        v = self.fc_v(states)
        # (B, T, d) -> (B, h, T, d/h): head i owns features [i·d/h, (i+1)·d/h)
        qh = q.view(batch, n_queries, heads, head_dim).transpose(1, 2)
        kh = k.view(batch, -1, heads, head_dim).transpose(1, 2)
        vh = v.view(batch, -1, heads, head_dim).transpose(1, 2)
        keep = mask.to(torch.bool)[:, None, None, :]
        # Scores and softmax in float32: -1e12 overflows fp16 and bf16 loses the small weights.
        scores = (qh.float() @ kh.float().transpose(-1, -2)) / math.sqrt(self.dim)
        scores = scores.masked_fill(~keep, _MASKED_SCORE)
        weights = torch.softmax(scores, dim=-1) * keep
        attended = (weights @ vh.float()).to(q.dtype)
        out = attended.transpose(1, 2).reshape(batch, n_queries, self.dim)
        out = self.ln0(out + q)
        return self.ln1(out + torch.relu(self.fc_o(out)))


class PMA(nn.Module):
    """Pooling by Multi-head Attention with one learnable seed (``mha_pma``)."""

    def __init__(self, dim: int, input_dim: int, num_heads: int, *, ln: bool) -> None:
        super().__init__()
        self.S = nn.Parameter(torch.empty(1, 1, dim))
        nn.init.xavier_uniform_(self.S)
        self.mab = MultiheadAttentionBlock(dim, input_dim, dim, num_heads, ln=ln)

    def forward(self, states: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Pool (B, L, h) states under a (B, L) mask into (B, d) vectors."""
        seed = self.S.expand(states.size(0), -1, -1)
        return self.mab(seed, states, mask).squeeze(1)


class _LanguageModel(nn.Module):
    """``plm_model`` of the checkpoints without its ``lm_head``: just the Qwen2 body."""

    def __init__(self, config: Qwen2Config) -> None:
        super().__init__()
        self.config = config
        self.model = Qwen2Model(config)


class C2LLMModel(nn.Module):
    """C2LLM: Qwen2 causal backbone + PMA head; ``forward`` returns unnormalised embeddings.

    The backbone's ``lm_head`` is not built (see :meth:`parameter_count` for the published
    totals, which count it).

    Example:
        >>> with torch.device("meta"):
        ...     model = C2LLMModel(C2LLMConfig.preset("0.5B"))
        >>> model.parameter_count()
        497252096
    """

    def __init__(self, config: C2LLMConfig, *, attn_implementation: str = "sdpa") -> None:
        super().__init__()
        self.config = config
        backbone_config = Qwen2Config.from_dict(config.backbone.to_dict())
        backbone_config._attn_implementation = attn_implementation
        self.plm_model = _LanguageModel(backbone_config)
        self.mha_pma = PMA(config.dim, config.hidden_size, config.pma_num_heads, ln=config.pma_ln)

    def parameter_count(self, *, include_lm_head: bool = True) -> int:
        """Parameters of the released model: those built here, plus the unbuilt ``lm_head``
        when it is untied (a tied one is the embedding matrix, already counted)."""
        built = sum(p.numel() for p in self.parameters())
        backbone = self.config.backbone
        if include_lm_head and not backbone.tie_word_embeddings:
            built += int(backbone.vocab_size) * int(backbone.hidden_size)
        return built

    @property
    def dim(self) -> int:
        return self.config.dim

    def hidden_states(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        position_ids: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Last hidden states of the backbone (after its final norm), (B, L, h).

        Padded positions are zeroed so that nothing downstream can pick up their values.
        """
        out = self.plm_model.model(
            input_ids=input_ids,
            attention_mask=attention_mask,
            position_ids=position_ids,
            use_cache=False,
        )
        states = out.last_hidden_state
        return states.masked_fill(~attention_mask.to(torch.bool)[..., None], 0.0)

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        position_ids: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Embed a padded batch: (B, L) ids and mask → (B, d) vectors."""
        states = self.hidden_states(input_ids, attention_mask, position_ids)
        pooled = self.mha_pma(states, attention_mask)
        if self.config.pma_norm:
            pooled = nn.functional.normalize(pooled, dim=-1)
        return pooled
