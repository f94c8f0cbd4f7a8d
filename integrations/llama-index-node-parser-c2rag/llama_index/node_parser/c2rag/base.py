"""LlamaIndex node parser: Documents → function-level code nodes linked to their class."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from llama_index.core.bridge.pydantic import Field, PrivateAttr
from llama_index.core.node_parser import NodeParser
from llama_index.core.schema import BaseNode, NodeRelationship, TextNode
from llama_index.core.utils import get_tqdm_iterable

from c2rag.chunk import Chunker, chunk_metadata, source_path
from c2rag.chunk.metadata import DEFAULT_PATH_KEYS

__all__ = ["C2RAGNodeParser"]

# Offsets, hashes, parts and flags help citing and caching, not embedding or answering: the
# embedder sees where the code is and what it is, the LLM also its lines and signature.
# Everything else is hidden, fields added later included.
_FOR_EMBEDDING = {"path", "name", "kind", "language"}
_FOR_LLM = _FOR_EMBEDDING | {"start_line", "end_line", "signature"}
_DEFAULT_MAX_TOKENS = 512


def _infer_root(paths: Sequence[str]) -> str | None:
    """The git work tree holding the absolute ``paths``, else their common directory.

    Qualified names are built from paths, so ``/home/me/repo/src/pkg/mod.py`` must become
    ``src/pkg/mod.py``, not ``.home.me.repo.src.pkg.mod``.
    """
    absolute = [Path(p) for p in paths if Path(p).is_absolute()]
    if not absolute:
        return None
    for parent in absolute[0].parents:
        if (parent / ".git").exists() and all(p.is_relative_to(parent) for p in absolute):
            return str(parent)
    return os.path.commonpath([str(p.parent) for p in absolute])


class C2RAGNodeParser(NodeParser):
    """Parse code Documents into one node per function, method, class skeleton or module part.

    The file path comes from the Document's metadata (``file_path`` as set by
    ``SimpleDirectoryReader``, or ``source`` / ``path`` / ``file_name``); its extension picks
    the tree-sitter grammar. Node metadata holds every chunk field (``name``, ``kind``,
    ``start_line``, ``end_line``, ``signature``, ``parent``, …). A method node has a
    ``PARENT`` relationship to its class skeleton node, which lists its methods as
    ``CHILD``; every node has its Document as ``SOURCE``.

    Paths, and so qualified names, are relative to ``root`` (given, or inferred from absolute
    paths: their git work tree, else their common directory). With ``embed_model`` the chunks
    fit that model's window, counted by its tokenizer. The text the LLM sees carries the path,
    name, kind, language, lines and signature; offsets, hashes, parts and flags stay out of it
    (and the embedder sees only path, name, kind and language).

    Example:
        >>> from llama_index.core import Document
        >>> doc = Document(text="class A:\\n    def f(self):\\n        return 1\\n",
        ...                metadata={"file_path": "pkg/a.py"})
        >>> [n.metadata["name"] for n in C2RAGNodeParser().get_nodes_from_documents([doc])]
        ['pkg.a.A', 'pkg.a.A.f']
    """

    max_tokens: int | None = Field(
        default=None,
        description="Target chunk size in tokens; None: 512, or the embedding model's window "
        "when that is smaller.",
    )
    hard_max_tokens: int | None = Field(
        default=None, description="Size no chunk exceeds; the model's max length."
    )
    max_file_bytes: int = Field(default=1 << 20, description="Larger files are skipped.")
    root: str | None = Field(
        default=None,
        description="Repository root; file paths under it are made relative. None: for absolute "
        "paths, the git work tree holding them, else their common directory.",
    )
    path_keys: tuple[str, ...] = Field(
        default=DEFAULT_PATH_KEYS, description="Metadata keys searched for the file path."
    )
    count_tokens: Callable[[str], int] | None = Field(
        default=None,
        exclude=True,
        description="Token counter of the embedding model; a cheap estimate when None.",
    )
    embed_model: Any = Field(
        default=None,
        exclude=True,
        description="The embedding model the nodes are for (a C2LLMEmbedding, a c2rag Encoder "
        "or any model with max_length): chunks fit its window and its tokenizer counts.",
    )
    _chunker: Chunker = PrivateAttr()

    def model_post_init(self, context: Any, /) -> None:
        encoder = getattr(self.embed_model, "client", self.embed_model)
        count = self.count_tokens or getattr(encoder, "count_tokens", None)
        window = getattr(encoder, "max_length", None) or getattr(self.embed_model, "max_length", 0)
        if self.max_tokens is None:
            self.max_tokens = min(_DEFAULT_MAX_TOKENS, window or _DEFAULT_MAX_TOKENS)
        self._chunker = Chunker(
            count_tokens=count,
            max_tokens=self.max_tokens,
            hard_max_tokens=self.hard_max_tokens or (window or None),
            max_file_bytes=self.max_file_bytes,
        )

    @classmethod
    def class_name(cls) -> str:
        return "C2RAGNodeParser"

    def _parse_nodes(
        self, nodes: Sequence[BaseNode], show_progress: bool = False, **kwargs: Any
    ) -> list[BaseNode]:
        root = self.root or _infer_root(
            [source_path(node.metadata, keys=self.path_keys) for node in nodes]
        )
        out: list[BaseNode] = []
        for node in get_tqdm_iterable(nodes, show_progress, "Chunking code"):
            out += self._nodes_of(node, root)
        return out

    def _nodes_of(self, document: BaseNode, root: str | None) -> list[BaseNode]:
        path = source_path(document.metadata, keys=self.path_keys, root=root)
        text = document.get_content()
        data = text.encode("utf-8")
        nodes: list[TextNode] = []
        classes: dict[str, TextNode] = {}
        for i, chunk in enumerate(self._chunker.chunk(path, data).chunks):
            metadata = chunk_metadata(chunk)
            node = TextNode(
                id_=self.id_func(i, document),
                text=chunk.text,
                metadata=metadata,
                excluded_embed_metadata_keys=sorted(set(metadata) - _FOR_EMBEDDING),
                excluded_llm_metadata_keys=sorted(set(metadata) - _FOR_LLM),
                relationships={NodeRelationship.SOURCE: document.as_related_node_info()},
                # offsets into the Document's text: characters before the chunk's first byte
                start_char_idx=len(data[: chunk.start_byte].decode("utf-8", "replace")),
                end_char_idx=len(data[: chunk.end_byte].decode("utf-8", "replace")),
            )
            if chunk.kind == "class" and chunk.part == 1:
                classes[chunk.name] = node
            parent = classes.get(chunk.parent)
            if parent is not None and chunk.kind in {"method", "class"}:
                node.relationships[NodeRelationship.PARENT] = parent.as_related_node_info()
                children = parent.relationships.setdefault(NodeRelationship.CHILD, [])
                children.append(node.as_related_node_info())  # type: ignore[union-attr]
            nodes.append(node)
        return list(nodes)
