"""Data sets and baselines for ``retrieval_quality.py``: CoSQA, CoSQL, package sources, the
LlamaIndex pipeline, and two small embedder wrappers for the latency run."""

from __future__ import annotations

import ast
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
    "MemoQueries",
    "PrecomputedQueries",
    "conversation_set",
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
    for number, dialogue in enumerate(dialogues):
        history: list[str] = []
        for turn in dialogue["interaction"]:
            history.append(turn["utterance"])
            sql = " ".join(turn["query"].split())
            if sql not in path_of:
                path_of[sql] = f"sql/{len(path_of) // 500:02d}/q{len(path_of)}.sql"
                files[path_of[sql]] = sql + "\n"
            cases.append(EvalCase(tuple(history), path_of[sql], 1, 1, f"dialogue {number}"))
    return files, cases[:max_cases]


# Conversations over ``requests`` (2.x): each turn's gold is the function it asks about; later
# turns refer back ("it", "who calls it?") and name nothing new. Written by hand for this
# benchmark; never used to tune anything.
CONVERSATIONS: tuple[tuple[tuple[str, str], ...], ...] = (
    (
        (
            "How does a session follow HTTP redirects?",
            "sessions.SessionRedirectMixin.resolve_redirects",
        ),
        (
            "When it follows one, does it drop the Authorization header?",
            "sessions.SessionRedirectMixin.rebuild_auth",
        ),
        (
            "How does it decide whether to strip it?",
            "sessions.SessionRedirectMixin.should_strip_auth",
        ),
    ),
    (
        ("Where are Link headers parsed into a list of dicts?", "utils.parse_header_links"),
        ("Which response property uses it?", "models.Response.links"),
    ),
    (
        ("How is the response body decoded into a unicode string?", "models.Response.text"),
        (
            "And when the headers give no charset, what does it fall back to?",
            "models.Response.apparent_encoding",
        ),
    ),
    (
        ("Where is a proxy chosen for a request URL?", "utils.select_proxy"),
        (
            "Which environment variables can make it skip the proxy altogether?",
            "utils.should_bypass_proxies",
        ),
    ),
    (
        ("How are digest authentication headers built?", "auth.HTTPDigestAuth.build_digest_header"),
        ("What happens when the server answers 401 to it?", "auth.HTTPDigestAuth.handle_401"),
    ),
    (
        (
            "Where does the adapter turn a urllib3 response into a Response object?",
            "adapters.HTTPAdapter.build_response",
        ),
        ("Who calls it?", "adapters.HTTPAdapter.send"),
    ),
    (
        ("How does raise_for_status decide to raise?", "models.Response.raise_for_status"),
        ("What exception class does it raise?", "exceptions.HTTPError"),
    ),
    (
        ("How are request hooks like 'response' dispatched?", "hooks.dispatch_hook"),
        ("Where is the default set of them created?", "hooks.default_hooks"),
    ),
    (
        ("How is a dictionary of cookies turned into a cookie jar?", "cookies.cookiejar_from_dict"),
        ("And how are two jars merged?", "cookies.merge_cookies"),
    ),
    (
        (
            "How does a session merge its own settings with per-request ones?",
            "sessions.merge_setting",
        ),
        ("Does it handle hooks the same way?", "sessions.merge_hooks"),
    ),
    (
        (
            "Where is the URL of a prepared request validated and normalised?",
            "models.PreparedRequest.prepare_url",
        ),
        (
            "What does it do with internationalised host names?",
            "models.PreparedRequest._get_idna_encoded_host",
        ),
    ),
    (
        ("How does iter_lines split streamed content into lines?", "models.Response.iter_lines"),
        ("What does it read the chunks with?", "models.Response.iter_content"),
    ),
    (
        (
            "How is the Content-Length header computed for a request body?",
            "models.PreparedRequest.prepare_content_length",
        ),
        ("Which helper measures the size of file-like bodies for it?", "utils.super_len"),
    ),
    (
        ("Where are header values checked for invalid characters?", "utils.check_header_validity"),
        (
            "Which method of the prepared request calls it?",
            "models.PreparedRequest.prepare_headers",
        ),
    ),
    (
        (
            "How does the case-insensitive dict store its keys?",
            "structures.CaseInsensitiveDict.__setitem__",
        ),
        (
            "How does it compare itself with another mapping?",
            "structures.CaseInsensitiveDict.__eq__",
        ),
    ),
)


def _definitions(source: str) -> dict[str, tuple[int, int]]:
    """Qualified name → line range of every function and class (the last definition wins)."""
    out: dict[str, tuple[int, int]] = {}

    def walk(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                name = prefix + child.name
                out[name] = (child.lineno, child.end_lineno or child.lineno)
                walk(child, name + ".")

    walk(ast.parse(source), "")
    return out


def conversation_set(
    package: str = "requests",
) -> tuple[dict[str, str], list[EvalCase], list[list[EvalCase]]]:
    """The hand-written conversations over an installed ``requests``: its sources (docstrings
    kept), every turn as a case (the dialogue so far → the turn's gold function), and the
    cases grouped by conversation."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        msg = f"package {package!r} is not installed"
        raise ValueError(msg)
    root = Path(next(iter(spec.submodule_search_locations)))
    files = {
        f"{package}/{p.relative_to(root).as_posix()}": p.read_text("utf-8", "replace")
        for p in sorted(root.rglob("*.py"))
    }
    spans = {path: _definitions(text) for path, text in files.items()}
    grouped: list[list[EvalCase]] = []
    for number, conversation in enumerate(CONVERSATIONS):
        history: list[str] = []
        cases = []
        for question, gold in conversation:
            history.append(question)
            module, qualname = gold.split(".", 1)
            path = f"{package}/{module}.py"
            start, end = spans[path][qualname]
            cases.append(EvalCase(tuple(history), path, start, end, f"conversation {number}"))
        grouped.append(cases)
    return files, [c for group in grouped for c in group], grouped


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


class MemoQueries:
    """An embedder that remembers query vectors, so that every pipeline of a run embeds each
    query once (documents pass through)."""

    def __init__(self, inner: object) -> None:
        self._inner = inner
        self._memo: dict[tuple[str, str | None], np.ndarray] = {}

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)

    def encode_queries(
        self, texts: Sequence[str], *, task: str | None = None, instruction: str | None = None
    ) -> np.ndarray:
        missing = [t for t in texts if (t, task) not in self._memo]
        if missing:
            vectors = self._inner.encode_queries(missing, task=task, instruction=instruction)  # type: ignore[attr-defined]
            self._memo.update({(t, task): v for t, v in zip(missing, vectors, strict=True)})
        return np.stack([self._memo[(t, task)] for t in texts])


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
