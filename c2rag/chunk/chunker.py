"""The chunker: file bytes in, function-level chunks out; never raises on content.

Flow for one file: detect the language → skip rules → decode check → tree-sitter parse →
symbols → chunks, or line windows when the language has no grammar or the parse failed.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import tree_sitter

from c2rag.chunk.assemble import ChunkAssembler
from c2rag.chunk.fallback import line_windows
from c2rag.chunk.languages import SPECS, detect_language, load_language
from c2rag.chunk.policy import ChunkPolicy
from c2rag.chunk.skip import skip_reason
from c2rag.chunk.source import Source
from c2rag.chunk.split import Splitter, estimate_tokens
from c2rag.chunk.symbols import SymbolWalker
from c2rag.errors import ChunkingError
from c2rag.types import Chunk

__all__ = ["CHUNKER_VERSION", "Chunker", "FileChunks", "chunk_file"]

logger = logging.getLogger(__name__)

CHUNKER_VERSION = "13"
"""Bumped whenever the same file and settings would give different chunks, or a different
set of files is chunked (13: translation catalogs left out by ``git/ignore.py``), so that a
stored index is rebuilt (from cached vectors)."""

_MAX_ERROR_SHARE = 0.5  # a tree that is mostly ERROR nodes is chunked in windows instead


@dataclass(frozen=True, slots=True)
class FileChunks:
    """What the chunker made of one file.

    Attributes:
        path: The path given to :meth:`Chunker.chunk`, with ``/`` separators.
        language: Detected language (see :func:`~c2rag.chunk.detect_language`).
        chunks: Chunks in file order; empty when the file was skipped or is blank.
        skipped: Why the file was left out (``binary``, ``too_large``, ``lock_file``,
            ``generated``, ``minified``), or ``None``.
        flags: Notes about the file: ``non_utf8`` when it was decoded with replacement,
            ``parse_failed`` when it had a grammar but was chunked in windows.
    """

    path: str
    language: str
    chunks: list[Chunk] = field(default_factory=list)
    skipped: str | None = None
    flags: tuple[str, ...] = ()


class Chunker:
    """Splits source files into function-level chunks with names, lines and byte offsets.

    Args:
        count_tokens: Token counter of the embedding model (e.g. ``encoder.count_tokens``);
            a cheap estimate when ``None``.
        max_tokens: Target chunk size; larger symbols are split at statement boundaries.
        hard_max_tokens: Size no chunk exceeds. ``None``: the ``max_length`` of the model
            whose bound method is ``count_tokens``, else ``4 * max_tokens``.
        max_file_bytes: Larger files are skipped as ``too_large``.
        window_lines: Lines per window for files chunked without a grammar.
        window_overlap: Lines shared by consecutive windows.
        tokenizer_id: Identity of ``count_tokens`` for :attr:`version`; defaults to the
            ``fingerprint`` of the model it is bound to.
        policy: What chunk texts hold: skeleton cap, data statements, repeated headers, tail
            merging (see :class:`~c2rag.chunk.ChunkPolicy`); its defaults when ``None``.

    Raises:
        ChunkingError: When an option is out of range.

    Example:
        >>> fc = Chunker().chunk("pkg/util.py", b"def add(a, b):\\n    return a + b\\n")
        >>> [(c.kind, c.name, c.start_line, c.end_line) for c in fc.chunks]
        [('function', 'pkg.util.add', 1, 2)]
    """

    def __init__(
        self,
        *,
        count_tokens: Callable[[str], int] | None = None,
        max_tokens: int = 512,
        hard_max_tokens: int | None = None,
        max_file_bytes: int = 1 << 20,
        window_lines: int = 60,
        window_overlap: int = 5,
        tokenizer_id: str | None = None,
        policy: ChunkPolicy | None = None,
    ) -> None:
        if policy is not None and not isinstance(policy, ChunkPolicy):
            msg = f"Chunker option policy={policy!r} is invalid: expected a ChunkPolicy"
            raise ChunkingError(msg)
        self.policy = policy or ChunkPolicy()
        model = getattr(count_tokens, "__self__", None)
        model_max = getattr(model, "max_length", None)
        hard = hard_max_tokens or (model_max if isinstance(model_max, int) else 4 * max_tokens)
        if hard_max_tokens is None and hard < max_tokens:
            max_tokens = hard  # the model's window is smaller than the target: obey it
        # Below 32 tokens a part has no room for a signature header and a statement.
        _check(max_tokens >= 32, "max_tokens", max_tokens, "an int >= 32")
        _check(hard >= max_tokens, "hard_max_tokens", hard, f"an int >= max_tokens ({max_tokens})")
        _check(max_file_bytes > 0, "max_file_bytes", max_file_bytes, "a positive int")
        _check(window_lines >= 1, "window_lines", window_lines, "an int >= 1")
        _check(
            0 <= window_overlap < window_lines,
            "window_overlap",
            window_overlap,
            f"an int in [0, window_lines) = [0, {window_lines})",
        )
        self.count_tokens: Callable[[str], int] = count_tokens or estimate_tokens
        self.max_tokens = max_tokens
        self.hard_max_tokens = hard
        self.max_file_bytes = max_file_bytes
        self.window_lines = window_lines
        self.window_overlap = window_overlap
        if tokenizer_id is None:
            fingerprint = getattr(model, "fingerprint", None)
            tokenizer_id = fingerprint if isinstance(fingerprint, str) else None
        if tokenizer_id is None:
            tokenizer_id = "estimate" if count_tokens is None else _callable_name(count_tokens)
        self.tokenizer_id = tokenizer_id

    @property
    def version(self) -> str:
        """:data:`CHUNKER_VERSION` plus every setting that changes the output; a cache or an
        index manifest keyed on it notices when chunks must be rebuilt."""
        return (
            f"c2rag-chunk/{CHUNKER_VERSION};max={self.max_tokens};hard={self.hard_max_tokens};"
            f"bytes={self.max_file_bytes};win={self.window_lines}/{self.window_overlap};"
            f"tok={self.tokenizer_id};{self.policy.describe()}"
        )

    def skip_reason(self, path: str | os.PathLike[str], data: bytes) -> str | None:
        """Why :meth:`chunk` would leave the file out (one of :data:`SKIP_REASONS`), or
        ``None``: lets a caller skip work it would do before chunking."""
        posix = os.fspath(path).replace("\\", "/")
        return skip_reason(posix, data, max_bytes=self.max_file_bytes)

    def chunk(self, path: str | os.PathLike[str], data: bytes) -> FileChunks:
        """Chunk one file.

        Args:
            path: Repository-relative path (used for the language, names and metadata).
            data: The file's bytes.

        Returns:
            The file's chunks, or the reason it was skipped. Content never raises: text that
            is not UTF-8 is decoded with replacement and flagged ``non_utf8``; a failed parse
            falls back to line windows.

        Raises:
            ChunkingError: When ``data`` is not bytes (a misuse, not a content problem).
        """
        if not isinstance(data, bytes | bytearray | memoryview):
            msg = f"{path}: data must be bytes, got {type(data).__name__}; read the file in 'rb'"
            raise ChunkingError(msg)
        data = bytes(data)
        posix = os.fspath(path).replace("\\", "/")
        language = detect_language(posix, data)
        reason = self.skip_reason(posix, data)
        if reason is not None:
            return FileChunks(posix, language, [], reason)
        flags: tuple[str, ...] = ()
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            flags = ("non_utf8",)
        source = Source(data)
        splitter = Splitter(
            source,
            self.count_tokens,
            max_tokens=self.max_tokens,
            hard_max_tokens=self.hard_max_tokens,
            repeat_header=self.policy.repeat_header,
            min_part_tokens=self.policy.min_part_tokens,
            min_part_lines=self.policy.min_part_lines,
        )
        chunks = self._symbols(posix, language, splitter, flags)
        if chunks is None:
            if language in SPECS:
                flags = (*flags, "parse_failed")
            parts = line_windows(splitter, max_lines=self.window_lines, overlap=self.window_overlap)
            chunks = [
                Chunk(
                    path=posix,
                    language=language,
                    kind="window",
                    name=posix,
                    start_line=source.line_of(p.start),
                    end_line=source.lines_of(p.start, p.end)[1],
                    text=p.text,
                    start_byte=p.start,
                    end_byte=p.end,
                    part=i,
                    parts=len(parts),
                    flags=flags,
                )
                for i, p in enumerate(parts, start=1)
            ]
        return FileChunks(posix, language, chunks, None, flags)

    def _symbols(
        self, path: str, language: str, splitter: Splitter, flags: tuple[str, ...]
    ) -> list[Chunk] | None:
        """Chunks from the syntax tree, or ``None`` when the file must go to windows."""
        grammar = load_language(language)
        source = splitter.source
        if grammar is None or not source.data.strip():
            return None if source.data.strip() else []
        try:
            tree = tree_sitter.Parser(grammar).parse(source.data)
            root = tree.root_node
            if root.has_error and _error_share(root) > _MAX_ERROR_SHARE * len(source.data):
                logger.debug("%s: mostly unparsable as %s; using line windows", path, language)
                return None
            walker = SymbolWalker(SPECS[language], source, path)
            return ChunkAssembler(path, language, walker, splitter, flags, self.policy).build(root)
        except RecursionError:
            logger.warning("%s: syntax tree too deep to walk; using line windows", path)
        except Exception:  # never lose a file to a chunker bug: windows still index it
            logger.warning("%s: symbol chunking failed; using line windows", path, exc_info=True)
        return None


def chunk_file(
    path: str | os.PathLike[str],
    data: bytes | None = None,
    *,
    chunker: Chunker | None = None,
) -> FileChunks:
    """Chunk one file with default settings (or ``chunker``), reading it when ``data`` is None.

    Example:
        >>> chunk_file("a.rb", b"def hi\\n  1\\nend\\n").chunks[0].name
        'hi'
    """
    if data is None:
        data = Path(path).read_bytes()
    return (chunker or Chunker()).chunk(path, data)


def _error_share(root: tree_sitter.Node) -> int:
    """Bytes of ERROR nodes that no well-formed named node inside them explains.

    tree-sitter's recovery often wraps a whole C/C++ namespace in one ERROR node because of a
    macro it cannot expand (``class PROTOBUF_EXPORT Foo``, ``ABSL_NAMESPACE_BEGIN``) while every
    definition inside parses cleanly: counted whole, such files (16 of abseil's and protobuf's
    headers in one sdist, up to 99% "error") went to line windows with no symbols at all.
    """
    total, stack = 0, [root]
    while stack:
        node = stack.pop()
        if node.is_error:
            explained = 0
            for child in node.children:
                if child.has_error:
                    stack.append(child)
                    explained += child.end_byte - child.start_byte  # counted on its own
                elif child.is_named:
                    explained += child.end_byte - child.start_byte
            total += node.end_byte - node.start_byte - explained
        elif node.has_error:
            stack.extend(node.children)
    return total


def _callable_name(function: Callable[[str], int]) -> str:
    module = getattr(function, "__module__", "") or ""
    return f"{module}.{getattr(function, '__qualname__', type(function).__name__)}"


def _check(ok: bool, name: str, value: object, valid: str) -> None:
    if not ok:
        msg = f"Chunker option {name}={value!r} is invalid: expected {valid}"
        raise ChunkingError(msg)
