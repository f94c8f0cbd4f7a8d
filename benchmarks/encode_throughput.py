"""Encoder throughput: c2rag's engine against a naive embedding loop on the same model.

Measures real (non-padding) tokens per second of wall time on real Python functions taken
from the installed site-packages with ``ast``, so the lengths have the natural skew of code.

* naive: what a user writes with ``AutoModel`` — batches of 16 in input order, padded to the
  longest text of each batch, fp32, eager attention;
* c2rag default: ``Encoder(model)`` as shipped — length-sorted token-budget batches, SDPA,
  ``inference_mode``, the dtype its probe picks on this machine, its thread policy;
* c2rag in the probed dtype at each ``--budgets`` token budget;
* with ``--other-dtype``: c2rag in the dtype the default did not pick (bf16 or fp32);
* with ``--int8``: dynamic int8 ``Linear`` layers on the fp32 engine (not offered by c2rag:
  its cosine is reported to show why).

Every row reports the minimum cosine of its vectors to the naive loop's (fp32). Rounds
alternate the strategies; each keeps its best time and the load average is recorded per round.
Without ``--model`` it builds a full-size C2LLM architecture (``--size``) with random weights in
the official layout (and a tokenizer trained on the same code), and says so.

On a GPU (``--device cuda``) the engine runs in bf16 and the report adds model FLOP
utilisation: FLOPs per real token (2 × non-embedding parameters + causal attention) × tok/s,
over the GPU's dense bf16 peak (``--peak-tflops``, known for A100/H100/H200).

    python benchmarks/encode_throughput.py --n 48 --max-length 512 --rounds 2
    python benchmarks/encode_throughput.py --device cuda --size 7B --n 2000 --max-length 1024
"""

from __future__ import annotations

import argparse
import ast
import copy
import json
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _report import machine, table, write_section  # noqa: E402

from c2rag.encode.engine import Encoder, plan_batches  # noqa: E402

NAIVE_BATCH = 16
T = TypeVar("T")


def real_functions(n: int, *, seed: int = 0, pool_size: int = 4000) -> list[str]:
    """``n`` function definitions sampled from installed packages (deterministic per seed)."""
    site = Path(np.__file__).resolve().parents[1]
    packages = ["click", "pydantic", "jinja2", "httpx", "tqdm", "git", "pathspec", "numpy"]
    pool: list[str] = []
    for package in packages:
        for path in sorted((site / package).rglob("*.py")):
            try:
                source = path.read_text(encoding="utf-8")
                tree = ast.parse(source)
            except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    text = ast.get_source_segment(source, node)
                    if text and text.count("\n") >= 2:
                        pool.append(text)
            if len(pool) >= pool_size:
                break
    return random.Random(seed).sample(pool, min(n, len(pool)))


def build_random_c2llm(directory: Path, corpus: list[str], *, size: str = "0.5B") -> Path:
    """Full-size C2LLM with random weights (bf16, official layout) and a trained tokenizer."""
    from c2rag.encode.c2llm import C2LLMConfig, C2LLMModel
    from c2rag.encode.save import save_c2llm
    from tests.fixtures.models import tiny_qwen_tokenizer_json, write_qwen_tokenizer

    torch.manual_seed(0)
    config = C2LLMConfig.preset(size, attn_implementation="flash_attention_2")
    with torch.device("meta"):
        model = C2LLMModel(config)
    # Straight in bf16: a 7B never needs an fp32 copy in memory.
    model = model.to_empty(device="cpu").to(torch.bfloat16)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if name.endswith("norm.weight") or (".ln" in name and name.endswith("weight")):
                param.fill_(1.0)
            elif name.endswith("bias"):
                param.zero_()
            else:
                param.normal_(0.0, 0.02)
    save_c2llm(model, directory)
    # The released config.json has no tie_word_embeddings: write it as released.
    config_file = directory / "config.json"
    data = json.loads(config_file.read_text())
    data.pop("tie_word_embeddings", None)
    config_file.write_text(json.dumps(data, indent=2))
    write_qwen_tokenizer(directory, tiny_qwen_tokenizer_json(32000, tuple(corpus)))
    return directory


@contextmanager
def attention(module: torch.nn.Module, kind: str) -> Iterator[None]:
    """Run the block with every attention config of ``module`` set to ``kind``."""
    configs = [
        sub.config
        for sub in module.modules()
        if hasattr(getattr(sub, "config", None), "_attn_implementation")
    ]
    before = [c._attn_implementation for c in configs]
    for config in configs:
        config._attn_implementation = kind
    try:
        yield
    finally:
        for config, value in zip(configs, before, strict=True):
            config._attn_implementation = value


def naive_encode(encoder: Encoder, texts: list[str]) -> tuple[np.ndarray, int, int]:
    """Batches of 16 in input order, padded to the longest, fp32, eager attention."""
    module, tokenizer = encoder.module, encoder.tokenizer
    tokenizer.padding_side = encoder.padding_side
    prompt = encoder.document_prompt
    out, real, padded = [], 0, 0
    with torch.no_grad(), attention(module, "eager"):
        for start in range(0, len(texts), NAIVE_BATCH):
            batch = [prompt + text for text in texts[start : start + NAIVE_BATCH]]
            enc = tokenizer(
                batch, padding=True, truncation=True, max_length=encoder.max_length,
                return_tensors="pt",
            ).to(encoder.device)  # fmt: skip
            real += int(enc["attention_mask"].sum())
            padded += enc["attention_mask"].numel()
            if hasattr(module, "mha_pma"):
                vectors = module(enc["input_ids"], enc["attention_mask"])
            else:
                states = module(**enc).last_hidden_state
                mask = enc["attention_mask"].unsqueeze(-1).to(states.dtype)
                vectors = (states * mask).sum(1) / mask.sum(1)
            out.append(torch.nn.functional.normalize(vectors.float(), dim=-1).cpu().numpy())
    return np.vstack(out), real, padded


def token_lengths(encoder: Encoder, texts: list[str]) -> list[int]:
    """Tokens per document as the engine feeds them (prompt included, truncated)."""
    prompt, limit = encoder.document_prompt, encoder.max_length
    return [
        len(encoder.tokenizer(prompt + text, truncation=True, max_length=limit)["input_ids"])
        for text in texts
    ]


def with_budget(encoder: Encoder, budget: int, threads: int | None = None) -> Encoder:
    """The same loaded encoder with another token budget and thread setting (shares the model
    in memory)."""
    variant = copy.copy(encoder)
    # Benchmark-only: avoids loading the model once per setting.
    variant._batch_tokens = budget
    variant._threads = threads
    return variant


def int8_variant(encoder: Encoder) -> Encoder:
    """An fp32 encoder whose Linear layers are dynamically quantised to int8 (a copy)."""
    from torch.ao.quantization import quantize_dynamic

    variant = copy.copy(encoder)
    variant._loaded = copy.copy(encoder._loaded)
    variant._loaded.module = quantize_dynamic(
        copy.deepcopy(encoder.module), {torch.nn.Linear}, dtype=torch.qint8
    )
    return variant


class Within:
    """An engine whose calls run inside a context, e.g. another attention kernel."""

    def __init__(self, engine: Encoder, context: Callable[[], Any]) -> None:
        self.engine, self.context = engine, context
        self.batch_tokens = engine.batch_tokens

    def encode_documents(self, texts: list[str]) -> np.ndarray:
        with self.context():
            return self.engine.encode_documents(texts)


def compiled_variant(encoder: Encoder, warm_up: list[str]) -> tuple[Encoder, float]:
    """The encoder with its module under ``torch.compile`` (inductor, dynamic shapes), and
    the seconds the compilation took: the first call's time minus the eager call's time."""
    variant = copy.copy(encoder)
    variant._loaded = copy.copy(encoder._loaded)
    variant._loaded.module = torch.compile(encoder.module, dynamic=True)
    _, eager = timed(encoder.encode_documents, warm_up)
    _, first = timed(variant.encode_documents, warm_up)
    return variant, max(first - eager, 0.0)


def timed(fn: Callable[..., T], *args: object) -> tuple[T, float]:
    start = time.perf_counter()
    result = fn(*args)
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return result, time.perf_counter() - start


def flops_per_token(encoder: Encoder, mean_context: float) -> float:
    """Forward FLOPs per real token: 2 × non-embedding parameters + causal attention
    (QKᵀ and AV, 4 × hidden FLOPs per layer per key, over ``mean_context`` keys)."""
    module = encoder.module
    params = sum(p.numel() for p in module.parameters())
    embeddings = sum(
        m.weight.numel() for m in module.modules() if isinstance(m, torch.nn.Embedding)
    )
    config = getattr(getattr(module, "config", None), "backbone", None) or module.config
    layers, hidden = int(config.num_hidden_layers), int(config.hidden_size)
    return 2.0 * (params - embeddings) + 4.0 * layers * hidden * mean_context


_PEAK_BF16_TFLOPS = {"H200": 989.0, "H100": 989.0, "A100": 312.0, "L40S": 362.0, "A10": 125.0}


def peak_tflops(given: float | None) -> float | None:
    if given or not torch.cuda.is_available():
        return given
    name = torch.cuda.get_device_name(0)
    return next((v for k, v in _PEAK_BF16_TFLOPS.items() if k in name), None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="checkpoint dir or hub id (default: random C2LLM)")
    parser.add_argument("--label", help="how the report names --model (default: its path)")
    parser.add_argument("--size", default="0.5B", choices=["0.5B", "7B"], help="random model")
    parser.add_argument("--n", type=int, default=48, help="number of functions (default 48)")
    parser.add_argument("--max-length", type=int, default=512, help="tokens per text (512)")
    parser.add_argument(
        "--budgets",
        default="1024,512",
        help="token budgets to compare, in the probed dtype (CPU)",
    )
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds, best kept (2)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--int8", action="store_true", help="add a dynamic-int8 row (CPU)")
    parser.add_argument(
        "--eager", action="store_true", help="add the fp32 engine with eager attention (CPU)"
    )
    parser.add_argument(
        "--compile", action="store_true", help="add the fp32 engine under torch.compile (CPU)"
    )
    parser.add_argument(
        "--other-dtype", action="store_true", help="add a row in the dtype the probe rejected"
    )
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--peak-tflops", type=float, default=None, help="GPU bf16 dense peak")
    parser.add_argument("--no-write", action="store_true", help="do not update docs/benchmarks.md")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    gpu = args.device.startswith("cuda")

    texts = real_functions(args.n)
    with tempfile.TemporaryDirectory() as tmp:
        if args.model:
            model, label = args.model, args.label or f"`{args.model}`"
        else:
            print(f"no --model given: building a full-size C2LLM-{args.size} with RANDOM weights")
            corpus = real_functions(3000, seed=1)
            model = str(build_random_c2llm(Path(tmp) / "C2LLM-random", corpus, size=args.size))
            label = (
                f"full-size C2LLM-{args.size} architecture, **random weights** (official "
                "layout, config.json without tie_word_embeddings)"
            )
        options = {"device": args.device, "max_length": args.max_length}
        default = Encoder(model, **options)  # what a user gets: dtype probe, thread policy
        other_dtype = "fp32" if default.dtype == torch.bfloat16 else "bf16"
        needed = gpu or args.other_dtype or default.dtype != torch.float32
        other = Encoder(model, dtype=other_dtype, **options) if needed else default
        fp32 = default if default.dtype == torch.float32 else other
        strategies: list[tuple[str, Any]] = [
            (
                f"**c2rag default**: sorted, {default.batch_tokens}-token budget, sdpa, "
                f"{str(default.dtype).removeprefix('torch.')} (probed), threads auto",
                default,
            )
        ]
        if gpu:
            strategies.append((f"c2rag {other_dtype}", other))
        else:
            chosen = str(default.dtype).removeprefix("torch.")
            for budget in (int(b) for b in args.budgets.split(",")):
                strategies.append(
                    (f"c2rag {chosen}, {budget}-token budget", with_budget(default, budget))
                )
            strategies.append(
                ("c2rag fp32, 2048-token budget, 1 thread", with_budget(fp32, 2048, threads=1))
            )
            if args.other_dtype and other is not fp32:
                strategies.append((f"c2rag {other_dtype}", other))
            if args.int8:
                strategies.append(("dynamic int8 Linear (not offered)", int8_variant(fp32)))
            if args.eager:
                eager = Within(with_budget(fp32, 2048), lambda: attention(fp32.module, "eager"))
                strategies.append(("c2rag fp32, 2048-token budget, eager attention", eager))
            if args.compile:
                compiled, compile_seconds = compiled_variant(fp32, texts[:4])
                strategies.append(
                    ("c2rag fp32, 2048-token budget, torch.compile (not offered)", compiled)
                )
        naive_encode(fp32, texts[:2])  # warm-ups
        for _, engine in strategies:
            engine.encode_documents(texts[:2])
        best = [float("inf")] * (1 + len(strategies))
        outputs: list[np.ndarray] = [np.empty(0)] * len(strategies)
        loads = []
        for round_number in range(1, args.rounds + 1):
            (naive, real, padded), seconds = timed(naive_encode, fp32, texts)
            best[0] = min(best[0], seconds)
            for position, (_, engine) in enumerate(strategies, start=1):
                vectors, seconds = timed(engine.encode_documents, texts)
                best[position] = min(best[position], seconds)
                outputs[position - 1] = vectors
            loads.append(os.getloadavg()[0])
            print(
                f"round {round_number} (load {loads[-1]:.1f}): "
                + ", ".join(f"{real / s:.0f}" for s in best)
                + " tok/s"
            )
        lengths = token_lengths(default, texts)
        peak = peak_tflops(args.peak_tflops) if gpu else None
        per_token = flops_per_token(default, sum(lengths) / len(lengths) / 2)

    compile_note = []
    if args.compile and not gpu:
        names = [name for name, _ in strategies]
        eager_rate = real / best[1]  # the default engine
        compiled_rate = real / best[1 + next(i for i, n in enumerate(names) if "compile" in n)]
        saved_per_token = 1 / eager_rate - 1 / compiled_rate
        pays = (
            f"it pays after {compile_seconds / saved_per_token:,.0f} real tokens"
            if saved_per_token > 0
            else "it never pays back"
        )
        compile_note = [
            "",
            f"torch.compile: {compile_seconds:.0f} s to compile (first call minus an eager "
            f"call on the same 4 texts), then {compiled_rate:.0f} tok/s against "
            f"{eager_rate:.0f} for the default engine; {pays}.",
        ]
    header = ["strategy", "real tok/s", "× naive", "padding", "min cosine to naive"]
    body = [[
        "naive: input order, batch 16, pad to longest, fp32, eager", f"{real / best[0]:.0f}",
        "1.0×", f"{1 - real / padded:.0%}", "1.00000",
    ]]  # fmt: skip
    for (name, engine), seconds, vectors in zip(strategies, best[1:], outputs, strict=True):
        batches = plan_batches(lengths, batch_tokens=engine.batch_tokens)
        engine_padded = sum(max(lengths[i] for i in b) * len(b) for b in batches)
        cosine = float((vectors * naive).sum(axis=1).min())
        row = [
            name, f"{real / seconds:.0f}", f"{best[0] / seconds:.1f}×",
            f"{1 - real / engine_padded:.0%}", f"{cosine:.5f}",
        ]  # fmt: skip
        if peak:
            row.append(f"{real / seconds * per_token / (peak * 1e12):.1%}")
        body.append(row)
    if peak:
        header.append("model FLOP utilisation")
        body[0].append(f"{real / best[0] * per_token / (peak * 1e12):.1%}")
    where = f"{torch.cuda.get_device_name(0)}, peak {peak} TFLOP/s bf16" if gpu else "CPU"
    markdown = "\n".join([
        "## Encoder throughput (`benchmarks/encode_throughput.py`)",
        "",
        f"Model: {label}. {len(texts)} real Python functions from installed packages, "
        f"max length {args.max_length}, {real} real tokens, best of {args.rounds} alternating "
        f"rounds on {where}. Machine: {machine()}; load average per round "
        f"{', '.join(f'{x:.1f}' for x in loads)} (other work shares the CPU: compare ratios "
        "within this table, not with other runs).",
        "",
        table(header, body),
        "",
        f"c2rag's dtype here: {default.dtype_reason}. Real tokens exclude padding; the naive "
        "loop is what `AutoModel` code does by default.",
        *compile_note,
    ])  # fmt: skip
    print(markdown)
    if not args.no_write:
        write_section("encode_throughput", markdown)


if __name__ == "__main__":
    main()
