"""Where an index lives: a local data directory, and Chroma embedded in it or on a server.

Default data directory of a repository: ``$C2RAG_HOME/<repo-name>-<hash>`` when
``C2RAG_HOME`` is set, else ``<user data dir>/c2rag/<repo-name>-<hash>`` (platformdirs), where
``<hash>`` is a short hash of the repository's absolute path, so two clones never share one.
The data directory always holds the local parts: the embedding cache, the write lock and the
lexical index; with an embedded store it also holds Chroma's files under ``chroma/``.
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

__all__ = ["StoreLocation", "default_store_dir"]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _repo_key(repo_root: Path) -> str:
    """``<name>-<hash of the absolute path>``, safe as a directory and collection name."""
    digest = hashlib.sha256(str(repo_root).encode("utf-8", "surrogatepass")).hexdigest()[:10]
    name = _UNSAFE.sub("-", repo_root.name).strip("-._")[:48] or "repo"
    return f"{name}-{digest}"


def default_store_dir(repo_root: str | os.PathLike[str]) -> Path:
    """The data directory c2rag uses for ``repo_root`` when no ``store_dir`` is given."""
    root = Path(repo_root).resolve()
    home = os.environ.get("C2RAG_HOME")
    if home:
        base = Path(home).expanduser()
    else:
        import platformdirs

        base = Path(platformdirs.user_data_dir("c2rag", appauthor=False))
    return base / _repo_key(root)


@dataclass(frozen=True)
class StoreLocation:
    """Everything needed to find one repository's index."""

    repo_root: Path
    data_dir: Path
    """Local directory for the embedding cache, write lock, lexical index (and embedded Chroma)."""
    collection_name: str
    host: str | None = None
    port: int | None = None

    @classmethod
    def for_repo(
        cls,
        repo_root: str | os.PathLike[str],
        *,
        store_dir: str | os.PathLike[str] | None = None,
        host: str | None = None,
        port: int | None = None,
    ) -> StoreLocation:
        """The location of ``repo_root``'s index.

        Args:
            repo_root: The repository's top directory.
            store_dir: Data directory; default :func:`default_store_dir`.
            host: Chroma server host; when given the vectors live on that server and only
                the local parts stay in the data directory.
            port: Chroma server port (default 8000); needs ``host``.

        Raises:
            ValueError: For a port without a host.
        """
        if port is not None and host is None:
            msg = f"a Chroma port ({port}) was given without a host; pass host= as well"
            raise ValueError(msg)
        root = Path(repo_root).resolve()
        data_dir = Path(store_dir).expanduser().resolve() if store_dir else default_store_dir(root)
        return cls(
            repo_root=root,
            data_dir=data_dir,
            collection_name=f"c2rag-{_repo_key(root)}",
            host=host,
            port=(8000 if port is None else port) if host else None,
        )

    @property
    def is_server(self) -> bool:
        """Whether the vectors live on a Chroma server."""
        return self.host is not None

    @property
    def chroma_dir(self) -> Path:
        """Directory of the embedded Chroma store (unused with a server)."""
        return self.data_dir / "chroma"

    @property
    def cache_path(self) -> Path:
        """The embedding cache file."""
        return self.data_dir / "embeddings.sqlite"

    @property
    def lock_path(self) -> Path:
        """The write-lock file: one per embedded Chroma directory (Chroma allows one writer
        per directory), one per collection on a server."""
        if self.is_server:
            return self.data_dir / f"write-{self.host}-{self.port}-{self.collection_name}.lock"
        return self.data_dir / "write.lock"

    @property
    def lexical_dir(self) -> Path:
        """Directory of the lexical (BM25) index of this collection."""
        suffix = f"-{self.host}-{self.port}" if self.is_server else ""
        return self.data_dir / "lexical" / f"{self.collection_name}{suffix}"

    @property
    def generation_path(self) -> Path:
        """Stamp file the writer replaces when a new generation is finished; a reader in
        another process compares its ``stat`` before each query (see
        :mod:`c2rag.store.follow`)."""
        return self.lexical_dir.with_name(self.lexical_dir.name + ".generation")

    def describe(self) -> str:
        """Human-readable place of the vectors, for messages."""
        if self.is_server:
            return f"Chroma server {self.host}:{self.port} (collection {self.collection_name})"
        return str(self.data_dir)

    def cli_options(self) -> str:
        """The ``c2rag`` options that point at this location (empty for the default), quoted
        for a POSIX shell so that a printed command works as printed."""
        parts = []
        if self.data_dir != default_store_dir(self.repo_root):
            parts.append(f"--store {shlex.quote(str(self.data_dir))}")
        if self.is_server:
            parts.append(f"--chroma-host {self.host} --chroma-port {self.port}")
        return " ".join(parts)
