"""LlamaIndex node parser: Documents → function-level code nodes linked to their class."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from llama_index.core.bridge.pydantic import Field, PrivateAttr
from llama_index.core.node_parser import NodeParser
from llama_index.core.schema import BaseNode, NodeRelationship, TextNode
from llama_index.core.utils import get_tqdm_iterable

from c2rag.chunk import Chunker, chunk_metadata, source_path
from c2rag.chunk.metadata import DEFAULT_PATH_KEYS

__all__ = ["C2RAGNodeParser"]

# Positions and hashes help citing and caching, not embedding or answering.
_NOT_FOR_EMBEDDING = [
    "start_byte", "end_byte", "content_hash", "part", "parts", "flags", "signature",
    "docstring", "parent",
]  # fmt: skip
_NOT_FOR_LLM = ["start_byte", "end_byte", "content_hash", "flags"]


class C2RAGNodeParser(NodeParser):
    """Parse code Documents into one node per function, method, class skeleton or module part.

    The file path comes from the Document's metadata (``file_path`` as set by
    ``SimpleDirectoryReader``, or ``source`` / ``path`` / ``file_name``); its extension picks
    the tree-sitter grammar. Node metadata holds every chunk field (``name``, ``kind``,
    ``start_line``, ``end_line``, ``signature``, ``parent``, …). A method node has a
    ``PARENT`` relationship to its class skeleton node, which lists its methods as
    ``CHILD``; every node has its Document as ``SOURCE``.

    Example:
        >>> from llama_index.core import Document
        >>> doc = Document(text="class A:\\n    def f(self):\\n        return 1\\n",
        ...                metadata={"file_path": "pkg/a.py"})
        >>> [n.metadata["name"] for n in C2RAGNodeParser().get_nodes_from_documents([doc])]
        ['pkg.a.A', 'pkg.a.A.f']
    """

    max_tokens: int = Field(default=512, description="Target chunk size in tokens.")
    hard_max_tokens: int | None = Field(
        default=None, description="Size no chunk exceeds; the model's max length."
    )
    max_file_bytes: int = Field(default=1 << 20, description="Larger files are skipped.")
    root: str | None = Field(
        default=None, description="Repository root; file paths under it are made relative."
    )
    path_keys: tuple[str, ...] = Field(
        default=DEFAULT_PATH_KEYS, description="Metadata keys searched for the file path."
    )
    count_tokens: Callable[[str], int] | None = Field(
        default=None,
        exclude=True,
        description="Token counter of the embedding model; a cheap estimate when None.",
    )
    _chunker: Chunker = PrivateAttr()

    def model_post_init(self, context: Any, /) -> None:
        self._chunker = Chunker(
            count_tokens=self.count_tokens,
            max_tokens=self.max_tokens,
            hard_max_tokens=self.hard_max_tokens,
            max_file_bytes=self.max_file_bytes,
        )

    @classmethod
    def class_name(cls) -> str:
        return "C2RAGNodeParser"

    def _parse_nodes(
        self, nodes: Sequence[BaseNode], show_progress: bool = False, **kwargs: Any
    ) -> list[BaseNode]:
        out: list[BaseNode] = []
        for node in get_tqdm_iterable(nodes, show_progress, "Chunking code"):
            out += self._nodes_of(node)
        return out

    def _nodes_of(self, document: BaseNode) -> list[BaseNode]:
        path = source_path(document.metadata, keys=self.path_keys, root=self.root)
        text = document.get_content()
        data = text.encode("utf-8")
        nodes: list[TextNode] = []
        classes: dict[str, TextNode] = {}
        for i, chunk in enumerate(self._chunker.chunk(path, data).chunks):
            node = TextNode(
                id_=self.id_func(i, document),
                text=chunk.text,
                metadata=chunk_metadata(chunk),
                excluded_embed_metadata_keys=list(_NOT_FOR_EMBEDDING),
                excluded_llm_metadata_keys=list(_NOT_FOR_LLM),
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
