"""One repository's index: the Chroma collection, its manifest, cache, lock and lexical index."""

from __future__ import annotations

import contextlib
import logging
import os
import shlex
import shutil
import sqlite3
import tempfile
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from c2rag.errors import IndexMismatchError, IndexNotFoundError
from c2rag.store.cache import EmbeddingCache
from c2rag.store.chroma import get_all, make_client, open_collection
from c2rag.store.faults import store_faults
from c2rag.store.location import StoreLocation
from c2rag.store.lock import WriteLock
from c2rag.store.manifest import Manifest
from c2rag.store.records import record_to_chunk

if TYPE_CHECKING:
    from c2rag.store.lexical import LexicalIndex
    from c2rag.types import Embedder

__all__ = ["IndexStore"]

logger = logging.getLogger(__name__)


class IndexStore:
    """An opened index. Make one with :meth:`open`.

    Readers use :attr:`collection`, :attr:`manifest` and :attr:`lexical`; the indexer also
    takes :meth:`lock` and writes through :attr:`cache` and :meth:`write_manifest`.
    """

    def __init__(self, location: StoreLocation, client: Any, collection: Any) -> None:
        self.location = location
        self.client = client
        self.collection = collection
        self._manifest = Manifest.from_metadata(collection.metadata)
        self._cache: EmbeddingCache | None = None
        self._lexical: LexicalIndex | None = None
        self._snapshot: Path | None = None
        """Private copy of a read-only embedded store that this reader opened instead."""

    @classmethod
    def open(cls, location: StoreLocation, *, create: bool = False) -> IndexStore:
        """Open the index at ``location``.

        Args:
            location: Where the index lives.
            create: Create an empty collection when there is none (the indexer does this);
                readers leave it false.

        Raises:
            IndexNotFoundError: ``create`` is false and no finished index exists there; the
                message gives the command that builds one.
            StoreConnectionError: The Chroma server does not answer.
        """
        if not create and not location.is_server and not location.chroma_dir.is_dir():
            raise IndexNotFoundError(_not_found(location, "there is none"))
        snapshot = None
        with store_faults(location, "open the index" if not create else "write the index"):
            if location.is_server:
                client = make_client(host=location.host, port=location.port)
            elif create:
                client = make_client(path=location.chroma_dir)
            else:
                # a reader gets a Chroma system of its own, which it can later replace by a
                # newer one (see refresh) without disturbing a writer in the same process
                client, snapshot = _embedded_reader(location)
            collection = open_collection(client, location.collection_name, create=create)
        if collection is None:
            _drop(snapshot)
            raise IndexNotFoundError(_not_found(location, "there is none"))
        store = cls(location, client, collection)
        store._snapshot = snapshot
        if create and not location.is_server:
            _sweep_orphans(location)  # the writer holds the lock: nothing else is writing
        if not create and not (store.manifest and store.manifest.complete):
            raise IndexNotFoundError(_not_found(location, "its first build never finished"))
        return store

    @property
    def manifest(self) -> Manifest | None:
        """The manifest as last read or written by this object (see :meth:`reload`)."""
        return self._manifest

    def reload(self) -> Manifest | None:
        """Re-read the manifest from the collection (another process may have written it)."""
        collection = open_collection(self.client, self.location.collection_name, create=False)
        if collection is not None:
            self.collection = collection
            self._manifest = Manifest.from_metadata(collection.metadata)
        return self._manifest

    def write_manifest(self, manifest: Manifest) -> None:
        """Replace the manifest (the collection's metadata) with ``manifest``; when it starts
        a new generation, replace the generation stamp that readers watch, too."""
        before = self._manifest.generation if self._manifest else None
        self.collection.modify(metadata=manifest.to_metadata())
        self._manifest = manifest
        if manifest.generation != before:
            _write_stamp(self.location.generation_path, manifest.generation or "")

    def refresh(self) -> bool:
        """Reopen the collection and re-read the manifest (a reader whose index moved).

        An embedded store gets a new private Chroma system (the old one's vector index is a
        snapshot of when it started); the lexical index follows the new manifest on next use.
        When the index is being rebuilt (no finished manifest) the current handles stay.

        Returns:
            Whether the manifest's generation changed.
        """
        location = self.location
        snapshot = None
        with store_faults(location, "reopen the index"):
            if location.is_server:
                client = self.client
            else:
                client, snapshot = _embedded_reader(location)
            collection = open_collection(client, location.collection_name, create=False)
        manifest = Manifest.from_metadata(collection.metadata) if collection else None
        if manifest is None or not manifest.complete:
            _drop(snapshot)
            return False
        before = self._manifest.generation if self._manifest else None
        self.client, self.collection, self._manifest = client, collection, manifest
        _drop(self._snapshot)
        self._snapshot = snapshot
        return manifest.generation != before

    @property
    def cache(self) -> EmbeddingCache:
        """The embedding cache of this data directory (opened on first use)."""
        if self._cache is None:
            self._cache = EmbeddingCache(self.location.cache_path)
        return self._cache

    def lock(self) -> WriteLock:
        """The single-writer lock of this store (not yet acquired)."""
        return self.write_lock(self.location)

    @staticmethod
    def write_lock(location: StoreLocation) -> WriteLock:
        """The single-writer lock of the store at ``location`` (not yet acquired); take it
        before :meth:`open` with ``create=True`` so that nothing is created unlocked."""
        return WriteLock(location.lock_path, target=location.describe())

    def check_compatible(self, embedder: Embedder) -> None:
        """Refuse an embedder whose vectors would not be comparable with the stored ones.

        Raises:
            IndexMismatchError: The fingerprint or dimension differs from the manifest's;
                the message names both models and how to proceed.
        """
        manifest = self._manifest
        if manifest is None:
            return
        if manifest.dim == embedder.dim and manifest.fingerprint in _fingerprints(embedder):
            return
        name = getattr(embedder, "model_name", type(embedder).__name__)
        # commands that work as printed: the model as it can be loaded again (its path or
        # hub id, not its display name), and the options that point at this store
        options = self.location.cli_options()
        where = f" {options}" if options else ""
        keep = (
            f"`--model {shlex.quote(manifest.model_ref)}`"
            if manifest.model_ref
            else "the model it was built with (as --model)"
        )
        new_model = getattr(embedder, "source", None)
        model_opt = f" --model {shlex.quote(str(new_model))}" if new_model else ""
        rebuild = (
            f"c2rag index {shlex.quote(str(self.location.repo_root))}{where}{model_opt} --rebuild"
        )
        msg = (
            f"the index at {self.location.describe()} was built with model "
            f"{manifest.model_name!r} (dim {manifest.dim}, fingerprint {manifest.fingerprint!r}) "
            f"but the embedder is {name!r} (dim {embedder.dim}, fingerprint "
            f"{embedder.fingerprint!r}); pass {keep} to keep this index, or rebuild it for the "
            f"new model with `{rebuild}` (the old embeddings stay in the cache)."
        )
        raise IndexMismatchError(msg)

    def reset(self) -> None:
        """Drop every record and the manifest (a rebuild); the embedding cache is kept."""
        leftovers = [] if self.location.is_server else _vector_dirs(self.location, self.collection)
        self.client.delete_collection(self.location.collection_name)
        self.collection = open_collection(self.client, self.location.collection_name, create=True)
        for directory in leftovers:
            shutil.rmtree(directory, ignore_errors=True)
        self._manifest = None
        self._lexical = None
        shutil.rmtree(self.location.lexical_dir, ignore_errors=True)

    @property
    def lexical(self) -> LexicalIndex:
        """The lexical index, in step with the manifest's generation (rebuilt from the Chroma
        documents when it is missing or stale)."""
        from c2rag.store.lexical import LexicalIndex

        generation = self._manifest.generation if self._manifest else None
        if self._lexical is None or self._lexical.generation != generation:
            # the writer saves the lexical index before the manifest: on disk it is usually
            # already in step with a newer manifest
            self._lexical = LexicalIndex.open(self.location.lexical_dir)
        if self._lexical.generation != generation:
            logger.info("lexical index is stale; rebuilding it from %s", self.location.describe())
            self._lexical = self.rebuild_lexical(generation)
        return self._lexical

    def rebuild_lexical(self, generation: str | None, *, save: bool = False) -> LexicalIndex:
        """A lexical index of every record in the collection, tagged ``generation``; saved
        (atomically) when ``save``, which only a holder of the write lock may ask for."""
        from c2rag.store.lexical import LexicalIndex

        lexical = LexicalIndex(self.location.lexical_dir)
        lexical.upsert(
            (rid, record_to_chunk(doc or "", meta))
            for rid, doc, meta in get_all(self.collection, include=("documents", "metadatas"))
        )
        lexical.set_generation(generation)
        if save:
            lexical.save()
        self._lexical = lexical
        return lexical

    def close(self) -> None:
        """Close the cache file (Chroma clients need no closing)."""
        if self._cache is not None:
            self._cache.close()
            self._cache = None
        _drop(self._snapshot)
        self._snapshot = None

    def __enter__(self) -> IndexStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _segment_ids(location: StoreLocation, collection: Any = None) -> set[str] | None:
    """Ids in Chroma's own catalogue of one collection's vector segments, or of every segment
    of every collection; read without writing to it. ``None`` when the catalogue cannot be
    read that way."""
    catalogue = location.chroma_dir / "chroma.sqlite3"
    query, args = "SELECT id FROM segments", ()
    if collection is not None:
        query += " WHERE scope = 'VECTOR' AND collection = ?"
        args = (str(collection.id),)
    try:
        with contextlib.closing(sqlite3.connect(f"file:{catalogue}?mode=ro", uri=True)) as db:
            return {str(row[0]) for row in db.execute(query, args)}
    except sqlite3.Error as exc:  # another catalogue layout: leave the files alone
        logger.debug("cannot list the vector segments of %s: %s", location.describe(), exc)
        return None


def _segment_dirs(location: StoreLocation) -> list[Path]:
    """Directories under the Chroma directory named like segment ids."""
    out = []
    for path in location.chroma_dir.iterdir():
        try:
            uuid.UUID(path.name)
        except ValueError:
            continue
        if path.is_dir():
            out.append(path)
    return out


def _vector_dirs(location: StoreLocation, collection: Any) -> list[Path]:
    """The directories of an embedded collection's vector index.

    Chroma 1.x leaves them on disk when the collection is deleted (deletion is left to a
    garbage collector that embedded Chroma does not run: chroma-core/chroma#5259), so each
    rebuild would keep a full copy of the previous index.
    """
    ids = _segment_ids(location, collection) or set()
    return [d for d in _segment_dirs(location) if d.name in ids]


def _sweep_orphans(location: StoreLocation) -> None:
    """Remove the vector directories of collections deleted before :meth:`IndexStore.reset`
    cleaned up after itself (an index rebuilt by an earlier c2rag kept each old copy)."""
    known = _segment_ids(location)
    if not known:  # unreadable catalogue, or no vector segment yet: nothing is known orphaned
        return
    dirs = _segment_dirs(location)
    orphans = [d for d in dirs if d.name not in known]
    if not orphans or len(orphans) == len(dirs):
        # no directory is named by a known segment: not the layout this was written for
        return
    size = sum(f.stat().st_size for d in orphans for f in d.rglob("*") if f.is_file())
    for directory in orphans:
        shutil.rmtree(directory, ignore_errors=True)
    logger.info(
        "removed %d vector index directories of deleted collections (%.1f MB) from %s",
        len(orphans),
        size / 1e6,
        location.chroma_dir,
    )


def _writable(directory: Path) -> bool:
    files = [directory, *(p for p in directory.glob("*.sqlite3"))]
    return all(os.access(p, os.W_OK) for p in files)


def _embedded_reader(location: StoreLocation) -> tuple[Any, Path | None]:
    """A private client on the embedded store, and the snapshot directory it reads when the
    store is read-only (Chroma writes to its SQLite file even to open it, so a read-only
    store is read from a private copy in the temp directory)."""
    if _writable(location.chroma_dir):
        return make_client(path=location.chroma_dir, private=True), None
    snapshot = Path(tempfile.mkdtemp(prefix="c2rag-readonly-"))
    try:
        shutil.copytree(location.chroma_dir, snapshot / "chroma")
        os.chmod(snapshot / "chroma", 0o700)  # noqa: PTH101 - a copy of a read-only tree
        for path in (snapshot / "chroma").rglob("*"):
            os.chmod(path, 0o700 if path.is_dir() else 0o600)  # noqa: PTH101
        logger.info(
            "the store at %s is read-only; reading a private copy in %s",
            location.describe(),
            snapshot,
        )
        return make_client(path=snapshot / "chroma", private=True), snapshot
    except BaseException:
        _drop(snapshot)
        raise


def _drop(snapshot: Path | None) -> None:
    if snapshot is not None:
        shutil.rmtree(snapshot, ignore_errors=True)


def _write_stamp(path: Path, generation: str) -> None:
    """Replace ``path`` atomically (a new inode: a reader's ``stat`` sees the change)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_text(generation + "\n", encoding="utf-8")
    tmp.replace(path)


def _not_found(location: StoreLocation, why: str) -> str:
    options = location.cli_options()
    command = f"c2rag index {shlex.quote(str(location.repo_root))}" + (
        f" {options}" if options else ""
    )
    return (
        f"no c2rag index for {location.repo_root} at {location.describe()} ({why}); "
        f"build one with `{command}`"
    )


def _fingerprints(embedder: Embedder) -> tuple[str, ...]:
    """The embedder's fingerprint and those earlier c2rag versions gave the same model."""
    return (embedder.fingerprint, *getattr(embedder, "legacy_fingerprints", ()))
