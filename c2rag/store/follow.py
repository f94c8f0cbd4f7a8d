"""Readers follow the index: notice before each query that another process moved it.

A long-lived reader (a :class:`~c2rag.retrieve.CodeRetriever`, and through it a session, the
MCP server and the LangChain / LlamaIndex retrievers) opens the store once. When ``c2rag
index`` later finishes an update in another process, the reader must not keep serving the
old generation: an embedded Chroma system never sees vectors written after it started, and
the lexical index and symbol table are tagged with the generation they reflect.

The check is cheap: with embedded Chroma, one ``stat`` of the generation stamp the writer
replaces after it wrote the manifest (:attr:`StoreLocation.generation_path`); with a Chroma
server, whose writer may run on another machine, one read of the collection's metadata. When
it moved, :meth:`IndexStore.refresh` reopens the collection (a new private Chroma system for
an embedded store) and re-reads the manifest, and the lexical index follows on next use.
"""

from __future__ import annotations

import logging
from typing import Any

from c2rag.store.chroma import open_collection
from c2rag.store.store import IndexStore

__all__ = ["IndexFollower"]

logger = logging.getLogger(__name__)


class IndexFollower:
    """Keeps one reader's :class:`IndexStore` on the newest finished generation.

    Args:
        store: The reader's open store.
    """

    def __init__(self, store: IndexStore) -> None:
        self.store = store
        self._seen = self._stamp()

    def _stamp(self) -> Any:
        location = self.store.location
        if location.is_server:
            collection = open_collection(self.store.client, location.collection_name, create=False)
            return (collection.metadata or {}).get("c2rag:generation") if collection else None
        try:
            st = location.generation_path.stat()
        except OSError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def check(self) -> bool:
        """Reopen the store if the index moved since the last check.

        Returns:
            Whether the reader now serves a different generation.
        """
        stamp = self._stamp()
        if stamp == self._seen:
            return False
        moved = self.store.refresh()
        self._seen = stamp
        if moved:
            manifest = self.store.manifest
            logger.info(
                "the index at %s moved to generation %s; reopened it",
                self.store.location.describe(),
                manifest.generation if manifest else None,
            )
        return moved
