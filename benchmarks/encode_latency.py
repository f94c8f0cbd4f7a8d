"""Single-query embedding latency: 1 thread against 2, idle against a parallel job.

A coding agent embeds one question at a time, often while the machine does other work (tests,
builds, another index). This measures the p50 of one query's embedding at 1 thread (c2rag's
default for a query) and at ``--threads`` threads (torch's default: one per core) in two
conditions: the machine as found (its load recorded), and with a parallel job this script
starts itself (a process multiplying matrices on ``--job-threads`` threads, as a test run or a
build would load the cores). Rounds alternate the order of the conditions, and within a
condition the thread settings alternate query by query, so slow drifts of the other work on a
shared machine hit every cell alike.

Load is recorded two ways: the 1-minute load average at the end of each condition (it lags),
and the mean number of runnable threads machine-wide (``/proc/loadavg``'s 4th field) sampled
at every query, which is instantaneous.

    python benchmarks/encode_latency.py --queries 9 --rounds 3
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
# A parallel job: matrices multiplied on every thread it is given, until it is stopped.
_LOAD_JOB = (
    "import torch\n"
    "torch.set_num_threads({threads})\n"
    "a = torch.randn(1024, 1024)\n"
    "while True:\n"
    "    a @ a\n"
)
IDLE, LOADED = "as found", "with a parallel job"


def with_threads(encoder: Encoder, threads: int) -> Encoder:
    """The same loaded encoder with another thread setting (shares the model in memory)."""
    variant = copy.copy(encoder)
    variant._threads = threads  # benchmark-only: one model in memory for both settings
    return variant


def runnable() -> int:
    """Threads runnable machine-wide right now (``/proc/loadavg``), minus this sampler."""
    try:
        fields = Path("/proc/loadavg").read_text().split()
        return int(fields[3].split("/")[0]) - 1
    except (OSError, IndexError, ValueError):
        return -1


def timed_queries(
    encoders: dict[str, Encoder], queries: int, flip: bool
) -> tuple[dict[str, list[float]], list[int], dict[str, list[float]]]:
    """Seconds per single-query embedding for each encoder, settings alternating query by
    query (the first setting swaps every query), the runnable count at each query, and the
    CPU seconds of the calling thread per query (all of a 1-thread query's work)."""
    times: dict[str, list[float]] = {name: [] for name in encoders}
    cpu: dict[str, list[float]] = {name: [] for name in encoders}
    busy: list[int] = []
    names = list(encoders)
    for i in range(queries):
        question = QUESTIONS[i % len(QUESTIONS)]
        order = names if (i % 2 == 0) != flip else names[::-1]
        for name in order:
            busy.append(runnable())
            start, start_cpu = time.perf_counter(), time.thread_time()
            encoders[name].encode_queries([question])
            times[name].append(time.perf_counter() - start)
            cpu[name].append(time.thread_time() - start_cpu)
    return times, busy, cpu


def autogroup() -> str:
    """Whether the kernel shares CPU time between sessions before threads (autogroup)."""
    try:
        return (
            "on"
            if Path("/proc/sys/kernel/sched_autogroup_enabled").read_text()[0] == "1"
            else "off"
        )
    except (OSError, IndexError):
        return "unknown"


def start_job(threads: int, *, own_session: bool) -> subprocess.Popen[bytes]:
    job = subprocess.Popen(
        [sys.executable, "-c", _LOAD_JOB.format(threads=threads)], start_new_session=own_session
    )
    time.sleep(3)  # let the job reach full speed
    return job


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="checkpoint dir or hub id (default: random C2LLM-0.5B)")
    parser.add_argument("--label", help="how the report names --model (default: its path)")
    parser.add_argument("--queries", type=int, default=9, help="queries per setting per round")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (3)")
    parser.add_argument(
        "--threads", type=int, default=os.cpu_count() or 1, help="the many-thread setting"
    )
    parser.add_argument("--job-threads", type=int, default=2, help="the parallel job's threads")
    parser.add_argument(
        "--job-session",
        choices=["own", "shared"],
        default="own",
        help="run the job in a session of its own, as another program (a build, tests in "
        "another shell) runs, or in this script's session, as its own child would",
    )
    parser.add_argument("--no-write", action="store_true", help="do not update docs/benchmarks.md")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        if args.model:
            model, label = args.model, args.label or f"`{args.model}`"
        else:
            print("no --model given: building a full-size C2LLM-0.5B with RANDOM weights")
            model = str(build_random_c2llm(Path(tmp) / "C2LLM-random", real_functions(3000)))
            label = "full-size C2LLM-0.5B architecture, **random weights**"
        encoder = Encoder(model, device="cpu")
        settings = {
            "1 thread (c2rag's default for a query)": with_threads(encoder, 1),
            f"{args.threads} threads (torch's default)": with_threads(encoder, args.threads),
        }
        timed_queries(settings, 2, flip=False)  # warm-up
        times = {(c, s): [] for c in (IDLE, LOADED) for s in settings}
        busy: dict[str, list[int]] = {IDLE: [], LOADED: []}
        thread_cpu: dict[str, list[float]] = {IDLE: [], LOADED: []}
        one = next(iter(settings))
        loads: dict[str, list[float]] = {IDLE: [], LOADED: []}
        for round_number in range(args.rounds):
            conditions = (IDLE, LOADED) if round_number % 2 == 0 else (LOADED, IDLE)
            for condition in conditions:
                own = args.job_session == "own"
                job = start_job(args.job_threads, own_session=own) if condition == LOADED else None
                try:
                    got, seen, spent = timed_queries(
                        settings, args.queries, flip=round_number % 2 == 1
                    )
                finally:
                    if job is not None:
                        job.terminate()
                        job.wait()
                for name, values in got.items():
                    times[condition, name] += values
                busy[condition] += seen
                thread_cpu[condition] += spent[one]
                loads[condition].append(os.getloadavg()[0])
                print(
                    f"round {round_number + 1} {condition}: "
                    + ", ".join(f"{n.split(' (')[0]} {statistics.median(v) * 1000:.0f} ms"
                                for n, v in got.items())
                    + f"; runnable {statistics.mean(seen):.1f}, load {loads[condition][-1]:.1f}"
                )  # fmt: skip

    p50 = {key: statistics.median(values) for key, values in times.items()}
    body = [
        [name, f"{p50[IDLE, name] * 1000:.0f} ms", f"{p50[LOADED, name] * 1000:.0f} ms",
         f"{p50[LOADED, name] / p50[IDLE, name]:.2f}×"]
        for name in settings
    ]  # fmt: skip
    many = list(settings)[1]
    session_text = (
        "in a session of its own, as another program runs"
        if args.job_session == "own"
        else "in this script's own session, as its child"
    ) + f" (kernel autogroup scheduling: {autogroup()})"

    def describe(condition: str) -> str:
        return (
            f"1-minute load average {', '.join(f'{x:.1f}' for x in loads[condition])} by "
            f"round, {statistics.mean(busy[condition]):.1f} threads runnable on average"
        )

    markdown = "\n".join([
        "## Single-query latency (`benchmarks/encode_latency.py`)",
        "",
        f"Model: {label}, {encoder.dtype_reason.split(';')[0]} → "
        f"{str(encoder.dtype).removeprefix('torch.')}. p50 of {args.rounds} × {args.queries} "
        f"one-question embeddings per cell; {args.rounds} rounds alternating the order of the "
        f"two conditions, settings alternating query by query. Machine: {machine()}. "
        f"'As found': the machine as this script found it ({describe(IDLE)}; it is shared "
        f"with other work, so it is rarely idle). 'With a parallel job': plus a "
        f"{args.job_threads}-thread matrix-multiplying process this script starts "
        f"{session_text} ({describe(LOADED)}).",
        "",
        table(["threads per query", f"p50 {IDLE}", f"p50 {LOADED}", "ratio"], body),
        "",
        f"- 1 thread vs {args.threads} threads: {p50[IDLE, many] / p50[IDLE, one]:.2f}× as "
        f"found, {p50[LOADED, many] / p50[LOADED, one]:.2f}× with the parallel job (above 1: "
        "one thread is faster). Goal: one thread's p50 with the job within 2× of as found.",
        f"- CPU time of the query's thread, 1 thread, p50: "
        f"{statistics.median(thread_cpu[IDLE]) * 1000:.0f} ms as found, "
        f"{statistics.median(thread_cpu[LOADED]) * 1000:.0f} ms with the job: what the wall "
        "time adds beyond it is waiting for a core.",
        "",
        f"Reproduce: `python benchmarks/encode_latency.py --queries {args.queries} --rounds "
        f"{args.rounds} --threads {args.threads} --job-threads {args.job_threads} "
        f"--job-session {args.job_session}`.",
    ])  # fmt: skip
    print(markdown)
    if not args.no_write:
        write_section("encode_latency", markdown)


if __name__ == "__main__":
    main()
