"""Inventory helpers used by the warehouse service."""

from __future__ import annotations

import functools
from dataclasses import dataclass

MAX_ITEMS = 100


def _log(fn):
    """Log every call of ``fn``."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return fn(*args, **kwargs)

    return wrapper


# Items are immutable records.
@dataclass(frozen=True)
class Item:
    """One stock-keeping unit."""

    sku: str
    quantity: int = 0

    @property
    def empty(self) -> bool:
        return self.quantity == 0

    class Meta:
        ordering = ["sku"]

        def describe(self) -> str:
            return "meta"


class Inventory(dict[str, Item]):
    def add(self, item: Item) -> None:
        # Replace any previous record of the same SKU.
        self[item.sku] = item

    @_log
    async def total(self, *, minimum: int = 0) -> int:
        """Sum of quantities at or above ``minimum``."""
        return sum(i.quantity for i in self.values() if i.quantity >= minimum)


if __name__ == "__main__":
    print(Inventory())
