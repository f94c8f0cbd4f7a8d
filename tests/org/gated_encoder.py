"""An encoder for Ray actors that embeds a batch only once the driver has committed every
earlier batch to the embedding cache: proof that finished batches stream back one by one."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from c2rag.encode.engine import Encoder

_WAIT_S = 60.0


class GatedEncoder(Encoder):
    """:class:`Encoder` whose n-th ``encode_documents`` call waits until the cache at
    ``cache_path`` holds the ``committed`` vectors of the calls before it; raises when the
    driver has not committed them within a minute."""

    def __init__(self, path: str, *, cache_path: str, **kwargs: object) -> None:
        super().__init__(path, **kwargs)  # type: ignore[arg-type]
        self.cache_path = Path(cache_path)
        self.committed = 0

    def _cached(self) -> int:
        if not self.cache_path.exists():
            return 0
        with sqlite3.connect(f"file:{self.cache_path}?mode=ro", uri=True) as db:
            return int(db.execute("SELECT COUNT(*) FROM vectors").fetchone()[0])

    def encode_documents(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        deadline = time.monotonic() + _WAIT_S
        while self._cached() < self.committed:
            if time.monotonic() > deadline:
                msg = (
                    f"the driver committed {self._cached()} vectors, not the {self.committed} "
                    "of the batches finished before this one"
                )
                raise RuntimeError(msg)
            time.sleep(0.05)
        vectors = super().encode_documents(texts, show_progress=show_progress)
        self.committed += len(texts)
        return vectors
