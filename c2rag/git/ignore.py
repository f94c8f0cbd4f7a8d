"""Which paths are never indexed: built-in secret and vendor excludes, plus ``.c2ragignore``.

``.gitignore`` needs no code here: files come from git objects, so what git ignores was
never committed. These rules exclude more, for three reasons:

* **secrets** must never reach an embedding model, an index on disk or an agent's prompt,
  even when someone committed them;
* **vendored and generated** code (``node_modules/``, ``dist/``, ``*.min.js`` …) is not the
  project's own and would crowd its code out of search results;
* **translation catalogs** (gettext ``.po``/``.pot``, XLIFF) repeat every user-facing string
  of the code once per language: in Django they are 17,150 of 30,884 chunks, and a report's
  prose matched them before any code.

A ``.c2ragignore`` at the repository root (gitignore syntax) is applied after the built-ins,
so its negations can take a built-in back: ``!vendor/`` indexes a vendor directory that
holds the project's own code. The last matching pattern decides, as in gitignore.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pathspec

from c2rag.git.records import Skipped

__all__ = ["BUILTIN_EXCLUDES", "C2RAGIGNORE", "IgnoreRules", "vendored_directories"]

C2RAGIGNORE = ".c2ragignore"
"""File name of the per-repository ignore file, read from the repository root only."""

# (reason, pattern). Patterns without a slash match at any depth, like in .gitignore.
BUILTIN_EXCLUDES: tuple[tuple[str, str], ...] = (
    # Environment files hold live credentials; ``.envrc`` (direnv) usually exports them
    # too. Committed templates (``.env.example``) document variable names and are kept.
    ("secret", ".env"),
    ("secret", ".env.*"),
    ("secret", ".envrc"),
    ("secret", "!.env.example"),
    ("secret", "!.env.sample"),
    ("secret", "!.env.template"),
    # Keys, certificates and key stores.
    ("secret", "*.pem"),
    ("secret", "*.key"),
    ("secret", "*.p12"),
    ("secret", "*.pfx"),
    ("secret", "*.keystore"),
    ("secret", "*.jks"),
    ("secret", "*.kdbx"),
    ("secret", "id_rsa*"),
    ("secret", "id_dsa*"),
    ("secret", "id_ecdsa*"),
    ("secret", "id_ed25519*"),
    # Credential and token files of common tools.
    ("secret", "credentials.json"),
    ("secret", "client_secret*.json"),
    ("secret", "**/.aws/credentials"),
    ("secret", ".npmrc"),
    ("secret", ".pypirc"),
    ("secret", ".netrc"),
    ("secret", "_netrc"),
    ("secret", ".git-credentials"),
    ("secret", ".pgpass"),
    ("secret", ".htpasswd"),
    ("secret", "*.tfstate"),
    ("secret", "*.tfstate.*"),
    # Other people's code, checked in.
    ("vendored", "node_modules/"),
    ("vendored", "bower_components/"),
    ("vendored", "vendor/"),
    ("vendored", "_vendor/"),  # Python's convention: pip/_vendor/, pkg_resources/_vendor/
    ("vendored", "third_party/"),
    ("vendored", ".venv/"),
    ("vendored", "site-packages/"),
    # Build output and caches.
    ("generated", "dist/"),
    ("generated", "build/"),
    ("generated", "__pycache__/"),
    ("generated", "*.pyc"),
    ("generated", "*.egg-info/"),
    ("generated", ".tox/"),
    ("generated", ".nox/"),
    ("generated", ".mypy_cache/"),
    ("generated", ".pytest_cache/"),
    ("generated", ".ruff_cache/"),
    ("generated", "*.min.js"),
    ("generated", "*.min.css"),
    ("generated", "*.js.map"),
    ("generated", "*.css.map"),
    # Translation catalogs: the code's messages again, once per language. The code keeps
    # the source strings, so a quoted message still finds the code that shows it.
    ("translation", "*.po"),
    ("translation", "*.pot"),
    ("translation", "*.xlf"),
    ("translation", "*.xliff"),
)


@dataclass(frozen=True, slots=True)
class _Rule:
    reason: str
    text: str
    pattern: pathspec.Pattern


def _compile(lines: Sequence[str]) -> list[pathspec.Pattern]:
    # One line at a time so each compiled pattern keeps its source text; blank lines and
    # comments compile to patterns with ``include is None``, which never match.
    out = []
    for line in lines:
        out.extend(pathspec.GitIgnoreSpec.from_lines([line]).patterns)
    return out


def _user_lines(text: str | bytes) -> list[str]:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return text.removeprefix("\ufeff").splitlines()


class IgnoreRules:
    """Decide whether a repository-relative path is indexed, and say why not.

    Args:
        c2ragignore: Content of a ``.c2ragignore`` file (gitignore syntax), or ``None``.
        builtin: Apply :data:`BUILTIN_EXCLUDES` first (default). Turning them off is meant
            for tests and for users who vet every file themselves.

    Example:
        >>> rules = IgnoreRules("docs/\\n!docs/api.md\\n")
        >>> rules.check("config/server.pem").reason
        'secret'
        >>> rules.check("docs/intro.md").reason, rules.check("docs/api.md")
        ('c2ragignore', None)
    """

    def __init__(self, c2ragignore: str | bytes | None = None, *, builtin: bool = True) -> None:
        rules: list[_Rule] = []
        if builtin:
            for reason, text in BUILTIN_EXCLUDES:
                rules.extend(_Rule(reason, text, p) for p in _compile([text]))
        self._user_text = _user_lines(c2ragignore) if c2ragignore is not None else []
        for line in self._user_text:
            rules.extend(_Rule("c2ragignore", line.strip(), p) for p in _compile([line]))
        # Tried last to first: the last matching pattern decides.
        self._rules = [r for r in reversed(rules) if r.pattern.include is not None]

    @property
    def user_patterns(self) -> tuple[str, ...]:
        """The ``.c2ragignore`` lines these rules were built from."""
        return tuple(self._user_text)

    def check(self, path: str) -> Skipped | None:
        """Return a :class:`Skipped` if ``path`` is excluded, else ``None``."""
        for rule in self._rules:
            if rule.pattern.match_file(path) is not None:
                if rule.pattern.include:
                    return Skipped(path, rule.reason, rule.text)
                return None  # a negation re-included it
        return None

    def is_ignored(self, path: str) -> bool:
        """Whether ``path`` is excluded."""
        return self.check(path) is not None

    def partition(self, paths: Iterable[str]) -> tuple[list[str], list[Skipped]]:
        """Split ``paths`` into kept paths and :class:`Skipped` records, keeping order."""
        kept: list[str] = []
        skipped: list[Skipped] = []
        for path in paths:
            skip = self.check(path)
            if skip is None:
                kept.append(path)
            else:
                skipped.append(skip)
        return kept, skipped

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, IgnoreRules):
            return NotImplemented
        return [(r.reason, r.text) for r in self._rules] == [
            (r.reason, r.text) for r in other._rules
        ]

    def __hash__(self) -> int:
        return hash(tuple((r.reason, r.text) for r in self._rules))

    def __repr__(self) -> str:
        return f"IgnoreRules(user_patterns={len(self._user_text)})"


def vendored_directories(paths: Iterable[str]) -> dict[str, int]:
    """Files per vendored directory (``third_party/``, ``web/node_modules/``) among ``paths``
    skipped as ``vendored``, as the built-in excludes name them."""
    names = {pattern.strip("/") for reason, pattern in BUILTIN_EXCLUDES if reason == "vendored"}
    found: dict[str, int] = {}
    for path in paths:
        parts = path.split("/")
        at = next((i for i, part in enumerate(parts[:-1]) if part in names), None)
        if at is not None:
            folder = "/".join(parts[: at + 1]) + "/"
            found[folder] = found.get(folder, 0) + 1
    return found
