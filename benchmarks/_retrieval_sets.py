"""Data sets and baselines for ``retrieval_quality.py``: CoSQA, CoSQL, package sources, the
LlamaIndex pipeline, and two small embedder wrappers for the latency run."""

from __future__ import annotations

import hashlib
import importlib.util
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from c2rag.retrieve.evaluate import EvalCase, Metrics
from c2rag.store.tokens import code_tokens

__all__ = [
    "HashingEmbedder",
    "PrecomputedQueries",
    "cosqa_set",
    "cosql_set",
    "llamaindex_baseline",
    "package_sources",
]


def cosqa_set(root: Path, *, max_cases: int | None = None) -> tuple[dict[str, str], list[EvalCase]]:
    """CoSQA dev: each corpus function in its own file; web query → that file's function."""
    code_map: dict[str, int] = json.loads((root / "code_idx_map.txt").read_text("utf-8"))
    files = {f"corpus/{idx // 500:02d}/f{idx}.py": code + "\n" for code, idx in code_map.items()}
    dev = json.loads((root / "cosqa-retrieval-dev-500.json").read_text("utf-8"))
    cases = []
    for item in dev[:max_cases]:
        idx = int(item["retrieval_idx"])
        path = f"corpus/{idx // 500:02d}/f{idx}.py"
        cases.append(EvalCase(item["doc"], path, 1, files[path].count("\n"), str(idx)))
    return files, cases


def cosql_set(root: Path, *, max_cases: int | None = None) -> tuple[dict[str, str], list[EvalCase]]:
    """CoSQL dev: corpus = every distinct gold SQL (one file each); a case per turn whose
    query is the user utterances so far."""
    dialogues = json.loads((root / "dev.json").read_text("utf-8"))
    path_of: dict[str, str] = {}
    files: dict[str, str] = {}
    cases: list[EvalCase] = []
    for dialogue in dialogues:
        history: list[str] = []
        for turn in dialogue["interaction"]:
            history.append(turn["utterance"])
            sql = " ".join(turn["query"].split())
            if sql not in path_of:
                path_of[sql] = f"sql/{len(path_of) // 500:02d}/q{len(path_of)}.sql"
                files[path_of[sql]] = sql + "\n"
            cases.append(EvalCase(tuple(history), path_of[sql], 1, 1))
    return files, cases[:max_cases]


def package_sources(packages: Sequence[str], *, min_chunks: int) -> dict[str, str]:
    """Python sources of installed packages, in order, until roughly ``min_chunks`` chunks
    (estimated generously at one per 30 lines; the run reports the real count) are collected."""
    files: dict[str, str] = {}
    lines = 0
    for package in packages:
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            continue
        root = Path(next(iter(spec.submodule_search_locations)))
        for path in sorted(root.rglob("*.py")):
            text = path.read_text("utf-8", "replace")
            if len(text) > 200_000:
                continue
            files[f"{package}/{path.relative_to(root).as_posix()}"] = text
            lines += text.count("\n")
            if lines > min_chunks * 30:
                return files
    return files


class HashingEmbedder:
    """Feature hashing of code tokens into 384 dims: deterministic, fast, no model. Used only
    to fill a 50k-chunk index for the latency run."""

    dim = 384
    max_length = 512
    fingerprint = "hashing-384-v1"
    model_name = "feature-hashing-384"

    def count_tokens(self, text: str) -> int:
        return len(code_tokens(text))

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for token in code_tokens(text)[: self.max_length]:
                h = int.from_bytes(
                    hashlib.blake2b(token.encode(), digest_size=4).digest(), "little"
                )
                out[row, h % self.dim] += 1.0 if h & 1 << 31 else -1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-9)

    def encode_documents(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        return self._embed(texts)

    def encode_queries(
        self, texts: Sequence[str], *, task: str | None = None, instruction: str | None = None
    ) -> np.ndarray:
        return self._embed(texts)


class PrecomputedQueries:
    """An embedder whose query vectors were computed before timing starts."""

    def __init__(self, inner: HashingEmbedder, queries: Sequence[str]) -> None:
        self._inner = inner
        self._vectors = dict(zip(queries, inner.encode_queries(list(queries)), strict=True))
        self.dim, self.max_length = inner.dim, inner.max_length
        self.fingerprint, self.model_name = inner.fingerprint, inner.model_name

    def count_tokens(self, text: str) -> int:
        return len(text) // 4  # what the query fitting needs; the real count is not timed

    def encode_documents(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        return self._inner.encode_documents(texts)

    def encode_queries(
        self, texts: Sequence[str], *, task: str | None = None, instruction: str | None = None
    ) -> np.ndarray:
        return np.stack([self._vectors[t] for t in texts])


def llamaindex_baseline(
    files: dict[str, str], cases: Sequence[EvalCase], encoder: object, *, k: int = 10
) -> Metrics:
    """LlamaIndex ``CodeSplitter`` (defaults) + ``VectorStoreIndex`` with the same encoder."""
    import tree_sitter
    import tree_sitter_python
    from llama_index.core import Document, VectorStoreIndex
    from llama_index.core.node_parser import CodeSplitter
    from llama_index.embeddings.c2llm import C2LLMEmbedding

    parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_python.language()))
    splitter = CodeSplitter(language="python", parser=parser)
    docs = [Document(text=t, id_=p, metadata={"path": p}) for p, t in files.items()]
    nodes = splitter.get_nodes_from_documents(docs)
    embed = C2LLMEmbedding(encoder=encoder)
    index = VectorStoreIndex(nodes, embed_model=embed)
    retriever = index.as_retriever(similarity_top_k=k)
    reciprocal = found = 0.0
    for case in cases:
        query = case.query if isinstance(case.query, str) else "\n".join(case.query)
        for rank, hit in enumerate(retriever.retrieve(query), 1):
            node = hit.node
            path = node.metadata["path"]
            start = files[path][: node.start_char_idx or 0].count("\n") + 1
            end = start + node.get_content().count("\n")
            if path == case.path and start <= case.end_line and case.start_line <= end:
                reciprocal += 1 / rank
                found += 1
                break
    n = max(len(cases), 1)
    return Metrics(reciprocal / n, found / n, len(cases), k)
