"""A localization set of real fixes: Debian's patches to Python packages.

Debian carries upstream fixes (security backports, cherry-picked bug fixes) as patches with a
description: a commit message, written by the project's developers, of the bug and its fix.
Each patch that edits code of the package (not only tests, docs or packaging) is a case: its
description is the issue text, the code files it edits are the gold files, and the functions
its changed lines fall in (in the file as it was before the patch) are the gold functions.
What gets indexed is the release the patches apply to, as its source archive on PyPI ships it,
so every case is asked of the code the bug was in.

The texts are real, unlike the injected bugs of ``_localization_sets.py``: most are short,
many name the function, some only the feature ("attr filter uses env.getattr"), a few nothing
at all ("Backport 493f067 to 3.9").

Downloads: Debian's patch archives (``deb.debian.org``, pinned below) and the releases' source
archives (PyPI), once, into the work directory.
"""

from __future__ import annotations

import ast
import difflib
import json
import re
import shutil
import subprocess
import tarfile
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

from benchmarks._repositories import sdist_archive

__all__ = ["FIX_SOURCES", "FixCase", "FixSource", "build_fix_cases", "fix_files"]

_DEBIAN = "https://deb.debian.org/debian"
_SECURITY = "https://deb.debian.org/debian-security/pool/updates"


@dataclass(frozen=True)
class FixSource:
    """Where a package's release and its Debian patches come from.

    Attributes:
        patches: URL of Debian's ``*.debian.tar.xz`` for that release.
        dist: Distribution name on PyPI.
        version: The release the patches apply to.
        under: Index only this directory of the archive ("" for all of it).
    """

    patches: str
    dist: str
    version: str
    under: str = ""


# One release per line: key, Debian source package, the Debian version whose patches are
# read, the archive serving it (main or sec: security), PyPI distribution ("=": the key),
# release, the directory indexed ("-": all of it). Each Debian version was the newest the
# archive served on 2026-12-07 for that release; the last four are Debian 13's.
_RELEASES = """
django             python-django             3.2.25-0+deb12u4        sec  Django  3.2.25    django
pip                python-pip                20.3.4-4+deb11u1        main =       20.3.4    -
jinja2             jinja2                    2.11.3-1+deb11u4        sec  Jinja2  2.11.3    -
aiohttp            python-aiohttp            3.8.4-1+deb12u1         sec  =       3.8.4     -
authlib            python-authlib            1.2.0-1+deb12u2         sec  Authlib 1.2.0     -
tornado            python-tornado            6.2.0-3+deb12u4         sec  =       6.2       -
urllib3            python-urllib3            1.26.12-1+deb12u4       sec  =       1.26.12   -
httplib2           python-httplib2           0.20.4-3+deb12u1        sec  =       0.20.4    -
internetarchive    python-internetarchive    3.3.0-2~deb12u1         main =       3.3.0     -
oslo.messaging     python-oslo.messaging     14.0.3-0+deb12u1        main =       14.0.3    -
nbxmpp             python-nbxmpp             2.0.2-1+deb11u1         main =       2.0.2     -
idna               python-idna               2.10-1+deb11u1          sec  =       2.10      -
python-sql         python-sql                1.4.0-1+deb12u1         main =       1.4.0     -
django-storages    python-django-storages    1.13.2-1+deb12u1        main =       1.13.2    -
aiohttp-3.11       python-aiohttp            3.11.16-1+deb13u1       sec  aiohttp 3.11.16   -
urllib3-2          python-urllib3            2.3.0-3+deb13u2         sec  urllib3 2.3.0     -
keystonemiddleware python-keystonemiddleware 10.9.0-2+deb13u1        main =       10.9.0    -
parsl              python-parsl              2025.01.13+ds-1+deb13u1 main =       2025.1.13 -
"""
_ARCHIVES = {"main": f"{_DEBIAN}/pool", "sec": _SECURITY}


def _patches_url(source: str, version: str, archive: str) -> str:
    return f"{_ARCHIVES[archive]}/main/{source[0]}/{source}/{source}_{version}.debian.tar.xz"


def _sources() -> dict[str, FixSource]:
    out = {}
    for line in _RELEASES.strip().splitlines():
        key, source, deb, archive, dist, version, under = line.split()
        url = _patches_url(source, deb, archive)
        directory = "" if under == "-" else f"{under}/"
        out[key] = FixSource(url, key if dist == "=" else dist, version, directory)
    return out


FIX_SOURCES: dict[str, FixSource] = _sources()


@dataclass(frozen=True)
class FixCase:
    """A patch's description and the code it edits.

    Attributes:
        package: Key of :data:`FIX_SOURCES`.
        patch: The patch's file name in ``debian/patches``.
        text: Its description (subject and body, without trailers and thanks).
        gold_paths: Code files it edits, relative to the release's root.
        gold_functions: ``(path, qualified name, start, end)`` of each function whose lines
            it changes, as the function is in the indexed release.
    """

    package: str
    patch: str
    text: str
    gold_paths: tuple[str, ...]
    gold_functions: tuple[tuple[str, str, int, int], ...]


_TRAILER = re.compile(
    r"^(signed-off-by|co-authored-by|reviewed-by|reviewed-on|acked-by|origin|bug(-\w+)?|"
    r"forwarded|last-update|applied-upstream|author|from|date|index|gbp-pq|patch-name|change-id|"
    r"mime-version|content-type|content-transfer-encoding|backport of|\(cherry picked)\b",
    re.IGNORECASE,
)
# git format-patch folds a non-ASCII message's MIME headers into a long subject line.
_MIME = re.compile(
    r"\s*MIME-Version: 1\.0\s+Content-Type:.*?Content-Transfer-Encoding:\s*\S+", re.DOTALL
)
_DROP_PARAGRAPH = re.compile(r"^(thanks|co-authored|signed-off|backport of|\(cherry)", re.I)
_NOT_CODE_DIRS = {"tests", "test", "testing", "docs", "doc", "examples", "debian", "_vendor"}


def _is_code(path: str) -> bool:
    parts = path.split("/")
    name = parts[-1]
    return (
        name.endswith(".py")
        and not _NOT_CODE_DIRS.intersection(parts[:-1])
        and not name.startswith("test_")
        and not name.endswith("_test.py")
        and name not in {"setup.py", "conftest.py", "noxfile.py"}
    )


def _description(header: str) -> str:
    """Subject and body of a patch header (DEP-3 or ``git format-patch``)."""
    lines: list[str] = []
    for line in _MIME.sub("", header).splitlines():
        m = re.match(r"^(Subject|Description):\s*(.*)", line)
        if m:
            lines.append(re.sub(r"^\[PATCH[^\]]*\]\s*(\[[\d.]+\.x\]\s*)?", "", m.group(2)))
        elif not _TRAILER.match(line.strip()):
            lines.append("" if line.strip() == "." else line.strip())
    paragraphs = re.split(r"\n\s*\n", "\n".join(lines))
    kept = [p.strip() for p in paragraphs if p.strip() and not _DROP_PARAGRAPH.match(p.strip())]
    return "\n\n".join(kept)


def _sections(patch: str) -> tuple[str, dict[str, str]]:
    """The header and each file's part of a patch, by the path it patches."""
    lines = patch.splitlines(keepends=True)
    starts = [
        i
        for i, line in enumerate(lines)
        if line.startswith("--- ") and i + 1 < len(lines) and lines[i + 1].startswith("+++ ")
    ]
    if not starts:
        return patch, {}
    header_end = starts[0]
    while header_end > 0 and lines[header_end - 1].startswith(("diff ", "index ", "Index:", "==")):
        header_end -= 1
    header = "".join(lines[:header_end])
    header = header.split("\n---\n", 1)[0]  # git format-patch: the diffstat follows '---'
    out: dict[str, str] = {}
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        target = lines[start + 1][4:].split("\t")[0].strip()
        path = target.split("/", 1)[1] if "/" in target else target
        out[path] = "".join(lines[start:end])
    return header, out


def _changed(before: str, after: str) -> list[tuple[int, int]]:
    """Old-file line spans ``(first, last)`` a patch changed, from the file before and after
    it (not from the hunk headers: a patch applied at an offset has them wrong). An
    insertion is the empty span between the lines around it: ``(n + 1, n)``."""
    a, b = before.splitlines(), after.splitlines()
    spans = []
    for op, i1, i2, _, _ in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op != "equal":
            spans.append((i1 + 1, i2))
    return spans


def _touched(functions: list[tuple[str, int, int]], first: int, last: int) -> set[str]:
    """The innermost function around each changed line of a span; an insertion between
    lines ``last`` and ``first`` counts for a function that holds both."""
    lines = [(n, n) for n in range(first, last + 1)] if first <= last else [(last, first)]
    out = set()
    for lo, hi in lines:
        around = [f for f in functions if f[1] <= lo and hi <= f[2]]
        if around:
            out.add(max(around, key=lambda f: f[1])[0])
    return out


def _functions(source: str) -> list[tuple[str, int, int]]:
    """``(qualified name, start, end)`` of each function and method; a function nested in
    another is part of it (its lines count for the outer one)."""
    out: list[tuple[str, int, int]] = []

    def walk(node: ast.AST, prefix: str, *, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                start = min([d.lineno for d in child.decorator_list] + [child.lineno])
                name = prefix + child.name
                if not isinstance(child, ast.ClassDef) and not in_function:
                    out.append((name, start, child.end_lineno or start))
                is_fn = in_function or not isinstance(child, ast.ClassDef)
                walk(child, name + ".", in_function=is_fn)
            else:
                walk(child, prefix, in_function=in_function)

    walk(ast.parse(source), "", in_function=False)
    return out


def _fetch(url: str, dest: Path) -> Path:
    if not dest.exists():
        tmp = dest.with_suffix(".part")
        urllib.request.urlretrieve(url, tmp)
        tmp.rename(dest)
    return dest


def _release(source: FixSource, work: Path) -> Path:
    """The release unpacked under ``work`` (downloaded from PyPI once)."""
    root = work / f"{source.dist}-{source.version}"
    if root.is_dir():
        return root
    archive = sdist_archive(source.dist, source.version, work / "archives")
    unpack = work / "unpack"
    shutil.rmtree(unpack, ignore_errors=True)
    with tarfile.open(archive) as tar:
        tar.extractall(unpack, filter="data")
    (top,) = unpack.iterdir()
    top.rename(root)
    unpack.rmdir()
    return root


def fix_files(package: str, work: Path, source: FixSource | None = None) -> dict[str, str]:
    """The files of the release to index: ``{path: text}`` (UTF-8 text files up to 1 MB)."""
    source = source or FIX_SOURCES[package]
    root = _release(source, work / package)
    out: dict[str, str] = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        if not p.is_file() or p.stat().st_size > 1_000_000 or not rel.startswith(source.under):
            continue
        try:
            out[rel] = p.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
    return out


def build_fix_cases(package: str, work: Path, source: FixSource | None = None) -> list[FixCase]:
    """The cases of one package (``source`` defaults to its entry in :data:`FIX_SOURCES`),
    built once and cached as JSON under ``work``."""
    cache = work / package / "cases.json"
    if cache.exists():
        return [
            FixCase(
                **{
                    **c,
                    "gold_paths": tuple(c["gold_paths"]),
                    "gold_functions": tuple(tuple(f) for f in c["gold_functions"]),
                }
            )
            for c in json.loads(cache.read_text())
        ]
    source = source or FIX_SOURCES[package]
    root = _release(source, work / package)
    archive = _fetch(source.patches, work / package / source.patches.rsplit("/", 1)[1])
    with tarfile.open(archive) as tar:
        members = [m for m in tar.getmembers() if m.name.startswith("debian/patches/")]
        patches = {m.name.removeprefix("debian/patches/"): m for m in members if m.isfile()}
        series_member = patches.get("series")
        series = (
            tar.extractfile(series_member).read().decode().splitlines() if series_member else []
        )
        texts = {
            n: tar.extractfile(m).read().decode("utf-8", "replace") for n, m in patches.items()
        }
    tree = work / package / "patched"
    shutil.rmtree(tree, ignore_errors=True)
    shutil.copytree(root, tree)
    cases: list[FixCase] = []
    for entry in series:
        name = entry.split("#", 1)[0].strip().split(" ")[0]
        if not name or name not in texts:
            continue
        header, sections = _sections(texts[name])
        code = {p: s for p, s in sections.items() if _is_code(p) and (tree / p).exists()}
        before = {p: (tree / p).read_text(encoding="utf-8") for p in code}
        applied = {
            p: s
            for p, s in code.items()
            if subprocess.run(
                ["patch", "-p1", "-s", "-f", "--no-backup-if-mismatch", "-d", str(tree)],
                input=s,
                text=True,
                capture_output=True,
            ).returncode
            == 0
        }
        text = _description(header)
        if not applied or len(text.split()) < 4:
            continue
        gold: list[tuple[str, str, int, int]] = []
        for path in applied:
            try:
                was = _functions(before[path])
                release = {n: (s, e) for n, s, e in _functions((root / path).read_text("utf-8"))}
            except SyntaxError:
                continue
            after = (tree / path).read_text(encoding="utf-8")
            spans = _changed(before[path], after)
            names = set().union(*(_touched(was, first, last) for first, last in spans))
            gold += [(path, n, *release[n]) for n in sorted(names) if n in release]
        cases.append(FixCase(package, name, text, tuple(sorted(applied)), tuple(gold)))
    cache.write_text(json.dumps([asdict(c) for c in cases], indent=1))
    return cases
