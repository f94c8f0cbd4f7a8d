"""Pooling of token states into one vector, pure functions on ``(states, mask)``.

``states`` is (B, L, h), ``mask`` is (B, L) with 1 for real tokens. Every function works under
left or right padding. PMA, a learned pooling, lives with its model in
:mod:`c2rag.encode.c2llm`; ``"pma"`` is listed here so that one set names every mode.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

__all__ = ["POOLING_MODES", "cls_pool", "last_token_pool", "mean_pool", "pool"]

POOLING_MODES = ("pma", "mean", "last", "cls")
"""Every pooling an :class:`~c2rag.encode.engine.Encoder` accepts."""


def mean_pool(states: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Average of the real tokens' states (CL4D, sentence-transformers ``mean``)."""
    weights = mask.to(states.dtype).unsqueeze(-1)
    total = (states * weights).sum(dim=1)
    return total / weights.sum(dim=1).clamp(min=1.0)


def last_token_pool(states: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """State of the last *real* token of each row, whichever side the padding is on.

    The index is the last position whose mask is 1, so a right-padded row is not read at
    its padding and a left-padded row is read at position L-1.
    """
    length = mask.size(1)
    positions = torch.arange(length, device=mask.device).expand_as(mask)
    last = torch.where(mask.to(torch.bool), positions, -1).amax(dim=1).clamp(min=0)
    return states[torch.arange(states.size(0), device=states.device), last]


def cls_pool(states: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """State of the first *real* token of each row (the ``[CLS]`` of BERT-style encoders)."""
    length = mask.size(1)
    positions = torch.arange(length, device=mask.device).expand_as(mask)
    first = torch.where(mask.to(torch.bool), positions, length).amin(dim=1).clamp(max=length - 1)
    return states[torch.arange(states.size(0), device=states.device), first]


_FUNCTIONS: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "mean": mean_pool,
    "last": last_token_pool,
    "cls": cls_pool,
}


def pool(states: torch.Tensor, mask: torch.Tensor, mode: str) -> torch.Tensor:
    """Pool ``states`` with the named parameter-free ``mode`` (``mean``, ``last``, ``cls``).

    Raises:
        ValueError: For ``pma`` (it needs its model's weights) or an unknown mode.
    """
    try:
        function = _FUNCTIONS[mode]
    except KeyError:
        if mode == "pma":
            msg = "pma pooling needs the PMA head of a C2LLM checkpoint; use C2LLMModel"
        else:
            msg = f"unknown pooling {mode!r}; valid modes: {', '.join(POOLING_MODES)}"
        raise ValueError(msg) from None
    return function(states, mask)
