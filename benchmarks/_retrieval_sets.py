"""Data sets and baselines for ``retrieval_quality.py``: CoSQA, CoSQL, package sources, doc
comments of other languages, the LlamaIndex pipeline, and two small embedder wrappers for the
latency run."""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmarks._repositories import (
    archive_files,
    installed_sources,
    npm_archive,
    sdist_archive,
)
from c2rag.chunk import detect_language, strip_doc_comments
from c2rag.retrieve.evaluate import EvalCase, Metrics, docstring_cases
from c2rag.store.tokens import code_tokens

__all__ = [
    "DOC_COMMENT_SETS",
    "DocCommentSet",
    "HashingEmbedder",
    "MemoQueries",
    "PrecomputedQueries",
    "conversation_set",
    "cosqa_set",
    "cosql_set",
    "doc_comment_set",
    "llamaindex_baseline",
    "package_sources",
]


@dataclass(frozen=True)
class DocCommentSet:
    """Doc comment → function queries in one language, from a package's published archive.

    Attributes:
        name: The package as its registry names it.
        language: The language its queries come from (``detect_language``'s name).
        registry: ``npm`` or ``pypi`` (the source archive).
        version: The archive's version: its code is the data.
        group: ``tuning`` or ``held-out`` (see ``DOC_COMMENT_SETS``).
        include: Path prefixes inside the archive that are indexed (a git checkout's
            sources and docs, without the build output an npm tarball also ships); all of
            it when empty.
    """

    name: str
    language: str
    registry: str
    version: str
    group: str
    include: tuple[str, ...] = ()


# Five sets were first measured together, with nothing tuned on them; the hybrid trailed BM25
# or naive RRF on four. Two (one JavaScript, one Rust) then joined the tuning group; the other
# three stay held-out, with three more added unseen (axios, pydantic-core, lz4) before any
# fusion change was tried. Only npm and PyPI are reachable here: Go and Java have no set.
DOC_COMMENT_SETS = (
    DocCommentSet("commander", "javascript", "npm", "12.1.0", "tuning"),
    DocCommentSet("tokenizers", "rust", "pypi", "0.21.0", "tuning"),
    DocCommentSet("express", "javascript", "npm", "4.21.2", "held-out"),
    DocCommentSet("axios", "javascript", "npm", "1.7.9", "held-out", ("lib/", "README.md")),
    DocCommentSet(
        "rxjs", "typescript", "npm", "7.8.1", "held-out", ("src/", "README.md", "CHANGELOG.md")
    ),
    DocCommentSet("pydantic-core", "rust", "pypi", "2.27.2", "held-out"),
    DocCommentSet("psutil", "c", "pypi", "7.2.2", "held-out"),
    DocCommentSet("lz4", "c", "pypi", "4.3.3", "held-out"),
)


def doc_comment_set(
    spec: DocCommentSet, archives: Path, *, max_cases: int = 150
) -> tuple[dict[str, str], list[EvalCase], dict[str, str]]:
    """The archive's files, every docstring and doc comment removed, up to ``max_cases``
    cases from the doc comments of ``spec.language`` files (seeded sample), and the files as
    the archive has them (what the index calibrates on)."""
    if spec.registry == "npm":
        archive = npm_archive(spec.name, spec.version, archives)
    else:
        archive = sdist_archive(spec.name, spec.version, archives)
    files = archive_files(archive, spec.include)
    stripped, cases = docstring_cases(files, doc_comments=strip_doc_comments)
    ours = [c for c in cases if detect_language(c.path) == spec.language]
    if len(ours) > max_cases:
        ours = random.Random(0).sample(ours, max_cases)
    return stripped, ours, files


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


# Conversations over ``urllib3`` (2.x), same shape as ``CONVERSATIONS``: golds are qualified
# names relative to the package, module path included ("util.retry.Retry.sleep"). Written for
# this benchmark from urllib3's source, never looked at with any retriever, and held out: never
# used to tune anything.
CONVERSATIONS_URLLIB3: tuple[tuple[tuple[str, str], ...], ...] = (
    (
        (
            "Where is the delay before the next attempt computed from the number of "
            "consecutive failures?",
            "util.retry.Retry.get_backoff_time",
        ),
        ("Which method uses that value to actually pause?", "util.retry.Retry._sleep_backoff"),
        ("Who calls it?", "util.retry.Retry.sleep"),
    ),
    (
        (
            "How is a server's requested wait, sent either as a number of seconds or as an "
            "HTTP date, converted into seconds?",
            "util.retry.Retry.parse_retry_after",
        ),
        ("What exception does it raise when that value is malformed?", "exceptions.InvalidHeader"),
    ),
    (
        (
            "Where does a retry policy produce a new copy with its counters decremented after "
            "a failed attempt?",
            "util.retry.Retry.increment",
        ),
        ("How does it decide that nothing is left?", "util.retry.Retry.is_exhausted"),
        ("And what is raised in that case?", "exceptions.MaxRetryError"),
    ),
    (
        (
            "How are '.' and '..' steps resolved away in a URL?",
            "util.url._remove_path_dot_segments",
        ),
        ("Who calls it?", "util.url.parse_url"),
    ),
    (
        (
            "How are non-ASCII labels of a host name converted to their ASCII form?",
            "util.url._idna_encode",
        ),
        ("Who calls it?", "util.url._normalize_host"),
        (
            "Which wrapper around that one also strips square brackets from the result?",
            "connectionpool._normalize_host",
        ),
    ),
    (
        (
            "How does the pool manager build a hashable lookup key from a request context, "
            "lower-casing the scheme and host?",
            "poolmanager._default_key_normalizer",
        ),
        (
            "Which method invokes it, through the per-scheme table?",
            "poolmanager.PoolManager.connection_from_context",
        ),
        (
            "What does that method hand the result to?",
            "poolmanager.PoolManager.connection_from_pool_key",
        ),
    ),
    (
        (
            "When a 303 response turns the request into a GET, where are the headers that "
            "described the body removed?",
            "_collections.HTTPHeaderDict._prepare_for_method_change",
        ),
        (
            "What does it use to delete each one without failing when it is absent?",
            "_collections.HTTPHeaderDict.discard",
        ),
    ),
    (
        (
            "How does a connection pool hand out a connection, reusing an idle one when available?",
            "connectionpool.HTTPConnectionPool._get_conn",
        ),
        (
            "How does it tell whether a reused one has gone stale?",
            "util.connection.is_connection_dropped",
        ),
        (
            "And how does the standard socket-based class implement the property that check reads?",
            "connection.HTTPConnection.is_connected",
        ),
    ),
    (
        (
            "When an overall time budget is set, how is the limit for receiving the response "
            "reduced by the time spent connecting?",
            "util.timeout.Timeout.read_timeout",
        ),
        (
            "What does it use to measure that elapsed part?",
            "util.timeout.Timeout.get_connect_duration",
        ),
        ("And what sets that clock going?", "util.timeout.Timeout.start_connect"),
    ),
    (
        (
            "How is a file-upload request body built from a dictionary of fields, each part "
            "separated by a random marker?",
            "filepost.encode_multipart_formdata",
        ),
        (
            "What does it use to normalise each entry into an object first?",
            "filepost.iter_field_objects",
        ),
        (
            "For entries that are not objects yet, which constructor does that call?",
            "fields.RequestField.from_tuples",
        ),
    ),
    (
        (
            "How does a response choose a decompressor based on the Content-Encoding header?",
            "response.BaseHTTPResponse._init_decoder",
        ),
        ("What does it call to build one for a given encoding name?", "response._get_decoder"),
        (
            "And what class does that return when several are listed, comma-separated?",
            "response.MultiDecoder",
        ),
    ),
    (
        (
            "How does a response parse the hexadecimal size line in a body sent with "
            "Transfer-Encoding framing?",
            "response.HTTPResponse._update_chunk_length",
        ),
        (
            "What exception does it raise when that line isn't a valid number?",
            "exceptions.InvalidChunkLength",
        ),
    ),
    (
        (
            "Before a retry or a redirect, how is a file-like request payload moved back to its "
            "recorded position?",
            "util.request.rewind_body",
        ),
        ("Who calls it?", "util.request.set_file_position"),
        ("And who calls that?", "connectionpool.HTTPConnectionPool.urlopen"),
    ),
    (
        (
            "How is a certificate name containing a wildcard like *.example.com compared "
            "against the server's host name?",
            "util.ssl_match_hostname._dnsname_match",
        ),
        ("Who calls it?", "util.ssl_match_hostname.match_hostname"),
        ("And the wrapper around that in the connection module?", "connection._match_hostname"),
    ),
    (
        (
            "When going through a proxy, how is it decided whether to use the CONNECT method "
            "or simply forward the request?",
            "util.proxy.connection_requires_http_tunnel",
        ),
        (
            "When the answer is no, what fills in the extra fields the request then needs?",
            "poolmanager.ProxyManager._set_proxy_headers",
        ),
    ),
    (
        (
            "How does the bounded cache of connection pools evict its oldest entry when a new "
            "one is stored?",
            "_collections.RecentlyUsedContainer.__setitem__",
        ),
        (
            "And what does a lookup do to an entry's position?",
            "_collections.RecentlyUsedContainer.__getitem__",
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


_CONVERSATION_SETS = {"requests": CONVERSATIONS, "urllib3": CONVERSATIONS_URLLIB3}


def _gold_span(
    package: str, gold: str, spans: dict[str, dict[str, tuple[int, int]]]
) -> tuple[str, int, int]:
    """Path and line range of a gold: the longest dotted prefix that names a module file,
    then the qualified name inside it ("util.retry.Retry.sleep" → util/retry.py, Retry.sleep)."""
    parts = gold.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        path = f"{package}/{'/'.join(parts[:cut])}.py"
        if path in spans:
            start, end = spans[path][".".join(parts[cut:])]
            return path, start, end
    msg = f"no module of {package!r} holds {gold!r}"
    raise KeyError(msg)


def conversation_set(
    package: str = "requests",
) -> tuple[dict[str, str], list[EvalCase], list[list[EvalCase]]]:
    """The hand-written conversations over an installed ``requests`` or ``urllib3``: its
    sources (docstrings kept), every turn as a case (the dialogue so far → the turn's gold
    function), and the cases grouped by conversation."""
    if package not in _CONVERSATION_SETS:
        msg = f"no conversations for {package!r}; have {sorted(_CONVERSATION_SETS)}"
        raise ValueError(msg)
    files = installed_sources(package)
    spans = {path: _definitions(text) for path, text in files.items()}
    grouped: list[list[EvalCase]] = []
    for number, conversation in enumerate(_CONVERSATION_SETS[package]):
        history: list[str] = []
        cases = []
        for question, gold in conversation:
            history.append(question)
            path, start, end = _gold_span(package, gold, spans)
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
    reciprocal = found = file_reciprocal = file_found = 0.0
    for case in cases:
        query = case.query if isinstance(case.query, str) else "\n".join(case.query)
        in_file = False
        for rank, hit in enumerate(retriever.retrieve(query), 1):
            node = hit.node
            path = node.metadata["path"]
            if path != case.path:
                continue
            if not in_file:
                in_file = True
                file_reciprocal += 1 / rank
                file_found += 1
            start = files[path][: node.start_char_idx or 0].count("\n") + 1
            end = start + node.get_content().count("\n")
            if start <= case.end_line and case.start_line <= end:
                reciprocal += 1 / rank
                found += 1
                break
    n = max(len(cases), 1)
    return Metrics(reciprocal / n, found / n, len(cases), k, file_reciprocal / n, file_found / n)
