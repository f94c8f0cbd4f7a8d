"""Shared helpers for benchmark scripts: machine description and writing results into
``docs/benchmarks.md`` between ``<!-- bench:NAME -->`` markers."""

from __future__ import annotations

import os
import platform
import re
from collections.abc import Iterable
from datetime import date
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def machine() -> str:
    """One line describing where a benchmark ran."""
    import torch

    cpu = platform.processor() or platform.machine()
    cpu += _cpu_model()
    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    return (
        f"{date.today().isoformat()}, {cpu}, {os.cpu_count()} cores, torch {torch.__version__} "
        f"({torch.get_num_threads()} threads), {device}, Python {platform.python_version()}"
    )


def _cpu_model() -> str:
    """The CPU model and the vector extensions that decide bf16 speed, in brackets (empty
    where /proc/cpuinfo is missing): bf16 ran 4x faster than fp32 on one machine of a kind
    and slower on another."""
    from c2rag.encode.probe import cpu_name

    try:
        info = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    flags = re.search(r"^flags\s*:\s*(.+)$", info, re.MULTILINE)
    have = set(flags.group(1).split()) if flags else set()
    wanted = ("avx2", "avx512f", "avx512_bf16", "amx_bf16")
    return f" ({cpu_name()}; {' '.join(f for f in wanted if f in have) or 'no AVX2'})"


def data_versions(packages: Iterable[str]) -> str:
    """The installed version of each package whose code a benchmark uses as data (its
    questions name that version's functions, and another release scores differently)."""
    from importlib.metadata import PackageNotFoundError, packages_distributions, version

    # import names to distributions ("yaml" is PyYAML's)
    distributions = packages_distributions()

    def one(name: str) -> str:
        for dist in (name, *distributions.get(name, ())):
            try:
                return f"{name} {version(dist)}"
            except PackageNotFoundError:
                continue
        return f"{name} (not installed)"

    return ", ".join(one(name) for name in dict.fromkeys(packages))


def write_section(name: str, markdown: str, doc: Path = DOC) -> None:
    """Replace the text between ``<!-- bench:name -->`` and ``<!-- /bench:name -->``."""
    text = doc.read_text(encoding="utf-8")
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    block = f"{start}\n{markdown.strip()}\n{end}"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text)
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    doc.write_text(text, encoding="utf-8")


def table(header: list[str], rows: list[list[object]]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)
