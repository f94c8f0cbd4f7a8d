"""Storage of an index: Chroma records, manifest, embedding cache, write lock, lexical index.

>>> from c2rag.store import IndexStore, StoreLocation                 # doctest: +SKIP
>>> store = IndexStore.open(StoreLocation.for_repo("."))              # doctest: +SKIP
>>> store.manifest.branches                                            # doctest: +SKIP
"""

from __future__ import annotations

from c2rag.store.location import StoreLocation, default_store_dir
from c2rag.store.manifest import BranchState, Calibration, ChannelCalibration, Manifest
from c2rag.store.store import IndexStore

__all__ = [
    "BranchState",
    "Calibration",
    "ChannelCalibration",
    "IndexStore",
    "Manifest",
    "StoreLocation",
    "default_store_dir",
]
