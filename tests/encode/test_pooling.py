"""Pooling functions are pure and padding-side agnostic."""

from __future__ import annotations

import pytest
import torch

from c2rag.encode.pooling import POOLING_MODES, cls_pool, last_token_pool, mean_pool, pool

STATES = torch.arange(2 * 4 * 3, dtype=torch.float32).reshape(2, 4, 3)
RIGHT = torch.tensor([[1, 1, 1, 1], [1, 1, 0, 0]])
LEFT = torch.tensor([[1, 1, 1, 1], [0, 0, 1, 1]])


def test_mean_ignores_padding() -> None:
    got = mean_pool(STATES, RIGHT)
    torch.testing.assert_close(got[0], STATES[0].mean(0))
    torch.testing.assert_close(got[1], STATES[1, :2].mean(0))
    torch.testing.assert_close(mean_pool(STATES, LEFT)[1], STATES[1, 2:].mean(0))


def test_last_takes_last_real_token_on_either_side() -> None:
    torch.testing.assert_close(last_token_pool(STATES, RIGHT)[1], STATES[1, 1])
    torch.testing.assert_close(last_token_pool(STATES, LEFT)[1], STATES[1, 3])
    torch.testing.assert_close(last_token_pool(STATES, RIGHT)[0], STATES[0, 3])


def test_cls_takes_first_real_token_on_either_side() -> None:
    torch.testing.assert_close(cls_pool(STATES, RIGHT)[1], STATES[1, 0])
    torch.testing.assert_close(cls_pool(STATES, LEFT)[1], STATES[1, 2])


def test_pool_dispatch_and_errors() -> None:
    torch.testing.assert_close(pool(STATES, LEFT, "last"), last_token_pool(STATES, LEFT))
    with pytest.raises(ValueError, match="PMA head"):
        pool(STATES, LEFT, "pma")
    with pytest.raises(ValueError, match="valid modes: pma, mean, last, cls"):
        pool(STATES, LEFT, "max")
    assert set(POOLING_MODES) == {"pma", "mean", "last", "cls"}
