"""Files per second: c2rag's git layer (subprocess + one ``git cat-file --batch``) vs GitPython.

The issue asked whether to build the git layer on GitPython (its persistent ``cat-file``
object database, ``Repo.iter_commits``, ``Commit.diff``) or drop the dependency. Both sides do
the work one index update does: list every file of a commit with its blob id, read every blob,
and diff two commits with rename detection. Rounds alternate (c2rag, GitPython, c2rag, …) on
the same repositories; the median of each is reported.

    python benchmarks/git_layer.py [--repo PATH ...] [--rounds 5]

Repositories: this one (real history), and a generated one with many small files (made under
a temporary directory: 3000 Python files in 60 packages, two commits).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._report import write_section
from c2rag.git import GitRepo


def _generated(root: Path, n_files: int = 3000) -> Path:
    env = {**os.environ, "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@x",
           "GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@x"}  # fmt: skip
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    for i in range(n_files):
        path = root / f"pkg{i % 60}" / f"mod{i}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"def f{i}(x):\n    return x + {i}\n" * 8)
    subprocess.run(["git", "-C", str(root), "add", "-A"], check=True, env=env)
    subprocess.run(["git", "-C", str(root), "commit", "-qm", "a"], check=True, env=env)
    for i in range(0, n_files, 10):
        (root / f"pkg{i % 60}" / f"mod{i}.py").write_text(f"def g{i}():\n    return {i}\n")
    subprocess.run(["git", "-C", str(root), "mv", "pkg1", "pkg_renamed"], check=True)
    subprocess.run(["git", "-C", str(root), "commit", "-qam", "b"], check=True, env=env)
    return root


def c2rag_pass(root: Path) -> int:
    with GitRepo(root) as repo:
        head = repo.resolve("HEAD")
        entries, _ = repo.list_files(head)
        for entry in entries:
            repo.read(entry)
        if repo.commit_exists("HEAD~1"):
            repo.diff(repo.resolve("HEAD~1"), head)
        return len(entries)


def gitpython_pass(root: Path) -> int:
    import git

    repo = git.Repo(root)  # odbt=GitCmdObjectDB: a persistent `git cat-file --batch`
    try:
        head = repo.head.commit
        blobs = [b for b in head.tree.traverse() if b.type == "blob" and b.mode != 0o120000]
        for blob in blobs:
            blob.data_stream.read()
        if head.parents:
            head.parents[0].diff(head, M=True)
        return len(blobs)
    finally:
        repo.close()


def _time(fn: Callable[[Path], int], root: Path) -> tuple[float, int]:
    start = time.perf_counter()
    files = fn(root)
    return time.perf_counter() - start, files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", action="append", type=Path, default=[])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        repos = [Path(__file__).resolve().parent.parent, *args.repo, _generated(Path(tmp) / "gen")]
        before = os.getloadavg()[0]
        lines = [
            "| repository | files | c2rag files/s | GitPython files/s | c2rag / GitPython |",
            "|---|---|---|---|---|",
        ]
        for root in repos:
            times: dict[str, list[float]] = {"c2rag": [], "gitpython": []}
            files = 0
            for _ in range(args.rounds):
                for name, fn in (("c2rag", c2rag_pass), ("gitpython", gitpython_pass)):
                    seconds, files = _time(fn, root)
                    times[name].append(seconds)
            ours, theirs = (files / statistics.median(times[n]) for n in ("c2rag", "gitpython"))
            lines.append(
                f"| {root.name} | {files} | {ours:.0f} | {theirs:.0f} | {ours / theirs:.2f}x |"
            )
        lines.append(
            f"\nMedians of {args.rounds} alternating rounds; load average "
            f"{before:.1f} → {os.getloadavg()[0]:.1f}."
        )
    report = "\n".join(lines)
    print(report)
    write_section("git_layer", report)


if __name__ == "__main__":
    main()
