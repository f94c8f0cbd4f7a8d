"""Single-query embedding latency: one thread against all cores, with and without a parallel job.

A coding agent embeds one question at a time, often while the machine does other work (tests,
builds, another index). torch's default of one thread per core then waits for cores held by
others. This measures the p50 of one query's embedding at 1 thread and at ``os.cpu_count()``
threads, first on the machine as found, then with a parallel job (a process multiplying
matrices on every core) running; settings alternate query by query.

    python benchmarks/encode_latency.py --queries 15
"""

from __future__ import annotations

import argparse
import copy
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _report import machine, table, write_section  # noqa: E402
from encode_throughput import build_random_c2llm, real_functions  # noqa: E402

from c2rag.encode.engine import Encoder  # noqa: E402

QUESTIONS = [
    "read a file line by line",
    "where is the retry logic for http requests",
    "parse command line arguments into options",
    "how are template variables escaped",
    "sort a list of dictionaries by a key",
    "validate an email field on a model",
    "progress bar that updates in place",
    "compute the hash of a git object",
    "which function opens the database connection",
    "convert a datetime to an iso string",
]
# A parallel job: every core multiplying matrices, as a test run or a build would load them.
_LOAD_JOB = (
    "import torch, time\n"
    "torch.set_num_threads({threads})\n"
    "a = torch.randn(1024, 1024)\n"
    "end = time.time() + {seconds}\n"
    "while time.time() < end:\n"
    "    a @ a\n"
)


def with_threads(encoder: Encoder, threads: int) -> Encoder:
    """The same loaded encoder with another thread setting (shares the model in memory)."""
    variant = copy.copy(encoder)
    variant._threads = threads  # benchmark-only: one model in memory for both settings
    return variant


def p50s(encoders: dict[str, Encoder], queries: int) -> dict[str, float]:
    """Median seconds per single-query embedding for each encoder, alternating query by query."""
    times: dict[str, list[float]] = {name: [] for name in encoders}
    for i in range(queries):
        question = QUESTIONS[i % len(QUESTIONS)]
        for name, encoder in encoders.items():
            start = time.perf_counter()
            encoder.encode_queries([question])
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="checkpoint dir or hub id (default: random C2LLM-0.5B)")
    parser.add_argument("--queries", type=int, default=15, help="queries per setting (15)")
    parser.add_argument("--no-write", action="store_true", help="do not update docs/benchmarks.md")
    args = parser.parse_args()
    cores = os.cpu_count() or 1

    with tempfile.TemporaryDirectory() as tmp:
        if args.model:
            model, label = args.model, f"`{args.model}`"
        else:
            print("no --model given: building a full-size C2LLM-0.5B with RANDOM weights")
            model = str(build_random_c2llm(Path(tmp) / "C2LLM-random", real_functions(3000)))
            label = "full-size C2LLM-0.5B architecture, **random weights**"
        encoder = Encoder(model, device="cpu")
        settings = {
            "1 thread (c2rag's default for a query)": with_threads(encoder, 1),
            f"{cores} threads (torch's default)": with_threads(encoder, cores),
        }
        p50s(settings, 2)  # warm-up
        as_found_load = os.getloadavg()[0]
        as_found = p50s(settings, args.queries)
        seconds = 30 + 4 * args.queries
        job = subprocess.Popen(
            [sys.executable, "-c", _LOAD_JOB.format(threads=cores, seconds=seconds)]
        )
        try:
            time.sleep(3)  # let the job reach full speed
            loaded = p50s(settings, args.queries)
            loaded_load = os.getloadavg()[0]
        finally:
            job.terminate()
            job.wait()

    body = [
        [name, f"{as_found[name] * 1000:.0f} ms", f"{loaded[name] * 1000:.0f} ms",
         f"{loaded[name] / as_found[name]:.1f}×"]
        for name in settings
    ]  # fmt: skip
    markdown = "\n".join([
        "## Single-query latency (`benchmarks/encode_latency.py`)",
        "",
        f"Model: {label}, {encoder.dtype_reason.split(';')[0]} → "
        f"{str(encoder.dtype).removeprefix('torch.')}. p50 of {args.queries} one-question "
        f"embeddings per setting, settings alternating. Machine: {machine()}. 'As found': load "
        f"average {as_found_load:.1f} (this machine is shared with other work, so it is never "
        f"idle); 'with a parallel job': plus a {cores}-thread matrix-multiplying process, load "
        f"average {loaded_load:.1f}.",
        "",
        table(["threads per query", "p50 as found", "p50 with a parallel job", "ratio"], body),
    ])  # fmt: skip
    print(markdown)
    if not args.no_write:
        write_section("encode_latency", markdown)


if __name__ == "__main__":
    main()
