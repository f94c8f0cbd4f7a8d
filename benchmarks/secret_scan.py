"""Cost of secret scanning: detect-secrets' plugins over each file, against chunking it.

Files are real source read into memory first (Python, JS/TS, YAML, shell, JSON and text files
of the installed site-packages), so that only scanning and chunking are timed. Rounds
alternate scan / chunk on the same files; the median round is reported, with the ratio of the
two (the machine is shared and noisy, so the ratio within one run is the figure to trust).

    python benchmarks/secret_scan.py --max-files 600 --rounds 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import sysconfig
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._report import machine, table, write_section
from c2rag.chunk import Chunker, estimate_tokens
from c2rag.git.secrets import SecretScanner

SUFFIXES = (".py", ".js", ".ts", ".yaml", ".yml", ".sh", ".json", ".txt", ".md", ".cfg")


def _files(root: Path, limit: int) -> list[tuple[str, bytes]]:
    by_suffix: dict[str, list[Path]] = {s: [] for s in SUFFIXES}
    for path in sorted(root.rglob("*")):
        if path.suffix in by_suffix and path.is_file() and path.stat().st_size < 200_000:
            by_suffix[path.suffix].append(path)
    picked: list[Path] = []
    while len(picked) < limit and any(by_suffix.values()):  # round-robin over suffixes
        for paths in by_suffix.values():
            if paths and len(picked) < limit:
                picked.append(paths.pop(0))
    return [(str(p.relative_to(root)), p.read_bytes()) for p in picked]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--max-files", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args()
    files = _files(Path(sysconfig.get_paths()["purelib"]), args.max_files)
    size_mb = sum(len(d) for _, d in files) / 1e6
    scanner = SecretScanner()
    chunker = Chunker(count_tokens=estimate_tokens, max_tokens=512)
    scan_s, chunk_s, found = [], [], 0
    for _ in range(args.rounds):
        t = time.perf_counter()
        found = sum(bool(scanner.scan(path, data)) for path, data in files)
        scan_s.append(time.perf_counter() - t)
        t = time.perf_counter()
        for path, data in files:
            chunker.chunk(path, data)
        chunk_s.append(time.perf_counter() - t)
    scan, chunk = statistics.median(scan_s), statistics.median(chunk_s)
    load = os.getloadavg()
    rows = [
        ["secret scan (detect-secrets 1.5.0)", f"{len(files) / scan:.0f}", f"{size_mb / scan:.2f}"],
        ["chunking (c2rag Chunker)", f"{len(files) / chunk:.0f}", f"{size_mb / chunk:.2f}"],
    ]
    text = (
        f"{len(files)} files ({size_mb:.1f} MB) of site-packages, round-robin over "
        f"{', '.join(SUFFIXES)}; median of {args.rounds} alternating rounds; load average "
        f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (shared machine: noisy).\n\n"
        + table(["step", "files/s", "MB/s"], rows)
        + f"\n\nScanning costs {scan / chunk:.2f}x the chunking time of the same files; "
        f"{found} of the {len(files)} files had a finding (files with a finding are skipped "
        f"by default; most are test fixtures and docs of the packages).\n\n_{machine()}_"
    )
    print(text)
    if args.write:
        write_section("secret-scan", text)


if __name__ == "__main__":
    main()
