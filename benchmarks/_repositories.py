"""Whole repositories for benchmarks: a package's source archive from PyPI (its tests, docs,
configuration and changelog beside the code), so that retrieval is measured on the layout a
user indexes rather than on the installed package alone.

The archive of the *installed* version is downloaded once (from PyPI's simple index) and its
Python files are replaced by the installed ones, which are the same text for the packages used
here; golds found on the installed package keep their lines. The doc comment sets of other
languages come from npm tarballs and from PyPI source archives the same way.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import re
import tarfile
import urllib.request
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from c2rag.retrieve.evaluate import EvalCase, docstring_cases

__all__ = [
    "archive_files",
    "in_repository",
    "installed_sources",
    "npm_archive",
    "repository_files",
    "sdist_archive",
]


def installed_sources(package: str) -> dict[str, str]:
    """The installed package's Python files as ``{package}/relative/path.py`` → text."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        msg = f"package {package!r} is not installed"
        raise ValueError(msg)
    root = Path(next(iter(spec.submodule_search_locations)))
    return {
        f"{package}/{p.relative_to(root).as_posix()}": p.read_text("utf-8", "replace")
        for p in sorted(root.rglob("*.py"))
    }


# The PyPI distribution whose source archive holds each package's repository.
_DISTRIBUTIONS = {"yaml": "pyyaml"}
# Larger files in a source archive are test data, not code anyone would index.
_MAX_REPO_FILE = 256_000


def sdist_archive(dist: str, version: str, directory: Path) -> Path:
    """The source archive of ``dist==version`` in ``directory``, downloaded from PyPI's simple
    index the first time. No build backend runs (unlike ``pip download --no-binary``), so the
    archives of packages built with Rust or C toolchains (maturin, scikit-build) come too. Its
    name may spell ``-`` as ``_`` (``django_storages-1.13.2.tar.gz``)."""
    directory.mkdir(parents=True, exist_ok=True)
    project = re.sub(r"[-_.]+", "-", dist).lower()  # the registry's normalised name
    pattern = re.escape(f"{project}-{version}.tar.gz").replace(re.escape("-"), "[-_.]")
    for archive in sorted(directory.iterdir()):
        if re.fullmatch(pattern, archive.name.lower()):
            return archive
    url = f"https://pypi.org/simple/{project}/"
    with urllib.request.urlopen(url, timeout=60) as response:
        page = response.read().decode("utf-8")
    for href in re.findall(r'href="([^"#]+)', page):
        name = href.rsplit("/", 1)[-1]
        if re.fullmatch(pattern, name.lower()):
            return _download(href, directory / name)
    msg = f"{url} lists no source archive of {dist} {version}"
    raise FileNotFoundError(msg)


def _download(url: str, target: Path) -> Path:
    """``url`` saved as ``target``, unless an earlier run saved it."""
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        with urllib.request.urlopen(url, timeout=120) as response:
            data = response.read()
        target.with_suffix(".part").write_bytes(data)
        target.with_suffix(".part").replace(target)  # never a half-written archive
    return target


def npm_archive(name: str, version: str, directory: Path) -> Path:
    """The npm registry's tarball of ``name@version`` in ``directory``, downloaded once."""
    base = name.rsplit("/", 1)[-1]  # "@scope/name" is published as name-version.tgz
    url = f"https://registry.npmjs.org/{name}/-/{base}-{version}.tgz"
    return _download(url, directory / f"{base}-{version}.tgz")


def archive_files(archive: Path, include: Sequence[str] = ()) -> dict[str, str]:
    """The text files of a ``.tar.gz`` or ``.tgz`` archive, their paths without the
    archive's top directory, at most ``_MAX_REPO_FILE`` bytes each; only those under one of
    the ``include`` prefixes when given."""
    files: dict[str, str] = {}
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            parts = member.name.split("/", 1)
            if not member.isfile() or len(parts) < 2 or member.size > _MAX_REPO_FILE:
                continue
            if include and not parts[1].startswith(tuple(include)):
                continue
            data = tar.extractfile(member).read()  # type: ignore[union-attr]
            try:
                files[parts[1]] = data.decode("utf-8")
            except UnicodeDecodeError:
                continue
    return files


def repository_files(package: str, sdist_dir: Path) -> tuple[dict[str, str], dict[str, str]]:
    """The package's whole repository as its source archive on PyPI ships it (tests, docs,
    configuration, changelog), with its Python files as installed: ``(files, gold_paths)``
    where ``gold_paths`` maps ``{package}/relative/path.py`` to the file's path in the
    repository. Downloads the archive of the installed version into ``sdist_dir`` once.
    """
    dist = _DISTRIBUTIONS.get(package, package)
    archive = sdist_archive(dist, importlib.metadata.version(dist), sdist_dir)
    files = archive_files(archive)
    installed = installed_sources(package)
    # Where the repository keeps the package ("src/", "lib/" or the top): the directory whose
    # __init__.py is the installed one (pyyaml also has a yaml/ of Cython shims).
    init = installed[f"{package}/__init__.py"]
    roots = [p[: -len("__init__.py")] for p in files if p.endswith(f"{package}/__init__.py")]
    roots = [r for r in roots if files[f"{r}__init__.py"] == init]
    if len(roots) != 1:
        msg = f"{archive.name}: {len(roots)} directories hold {package}/__init__.py as installed"
        raise ValueError(msg)
    prefix = roots[0][: -len(f"{package}/")]
    gold_paths = {path: prefix + path for path in installed}
    for path, text in installed.items():  # as installed: the lines the cases were built on
        files[gold_paths[path]] = text
    return files, gold_paths


def in_repository(
    package: str, cases: Sequence[EvalCase], sdist_dir: Path
) -> tuple[dict[str, str], list[EvalCase], dict[str, str]]:
    """The package's whole repository (tests, docs, configuration; every Python file's
    docstrings removed), the same cases, their paths moved to where the repository keeps
    the package (stripping a file gives the same lines either way), and the repository's
    files as the archive has them (what the index calibrates on)."""
    files, gold_paths = repository_files(package, sdist_dir)
    stripped, _ = docstring_cases(files)  # Python's docstrings; other doc comments stay
    return stripped, [replace(c, path=gold_paths[c.path]) for c in cases], files
