"""Secrets found by content, before a file is chunked, embedded or stored.

File-name rules (``*.pem``, ``.env``) miss a key pasted into ``settings.py`` or a token in
``deploy.sh``. :class:`SecretScanner` runs the plugins of `detect-secrets
<https://github.com/Yelp/detect-secrets>`_ (AWS, GCP/PEM private keys, JWT, Slack, GitHub,
Stripe, high-entropy strings, ``password = ...`` keywords, ...) with its default false-positive
filters, in-process, over each file's bytes. A file with a finding is skipped (the default)
or redacted; the finding names the path, the line and the detector, never the secret.

In ``skip`` mode only findings of detectors that recognise a credential's own format (AWS
keys, private keys, tokens of named services, JWTs) skip the file. The generic detectors
(``password = "..."`` keywords, high-entropy strings, ``user:pass@host`` in URLs) also fire
on ordinary code: on
c2rag's own sources they flagged ``secrets: SecretMode = "skip"`` and git SHAs in tests,
which would have dropped the indexer's core module from its own index. Their lines are
redacted instead, so the flagged value still never reaches an index or a prompt.

False positives are allowed by path in ``.c2ragsecrets`` at the repository root
(``.gitignore`` syntax, read from the indexed commit), or by detect-secrets' inline
``pragma: allowlist secret`` comment on the line.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

import pathspec

__all__ = ["ALLOWLIST_FILE", "SecretFinding", "SecretMode", "SecretScanner"]

logger = logging.getLogger(__name__)

ALLOWLIST_FILE = ".c2ragsecrets"
SecretMode = Literal["skip", "redact", "off"]
# detect-secrets plugins left out: an IP address in code is not a credential.
_EXCLUDED_PLUGINS = {"IPPublicDetector"}
_VERIFY_FILTER = "detect_secrets.filters.common.is_ignored_due_to_verification_policies"
_SHELL_SUFFIXES = {"sh", "bash", "zsh", "ksh", "env"}
# Detectors that match shapes common in ordinary code: their lines are redacted, not the
# whole file skipped (see the module docstring). Basic Auth fires on every documented URL
# example ("https://username:password@host"): it dropped urllib3's whole ``util/url.py``.
_GENERIC_DETECTORS = frozenset(
    {
        "Secret Keyword",
        "Hex High Entropy String",
        "Base64 High Entropy String",
        "Basic Auth Credentials",
    }
)
# Detectors of a fixed-length key ID, which must not be a slice of a longer base64 token.
_BOUNDED_DETECTORS = frozenset({"AWS Access Key"})
_TOKEN_CHAR = re.compile(r"[A-Za-z0-9+/]")
_TOKEN_TAIL = re.compile(r"[A-Za-z0-9+/=]")
# Bumped when a detector changes between skipping and redacting: indexes notice and re-scan.
_POLICY_VERSION = "3"
# detect-secrets keeps its plugin and filter choice in process-wide settings; one scan at a
# time holds them.
_SETTINGS_LOCK = threading.Lock()


@dataclass(frozen=True, slots=True)
class SecretFinding:
    """Where a secret is; the secret itself is never kept."""

    path: str
    line: int
    detector: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line} ({self.detector})"


class SecretScanner:
    """Scan files for secrets with detect-secrets' plugins.

    Args:
        allow: ``.gitignore``-style patterns of paths whose findings are allowed.
        mode: ``skip`` files with a credential of a known format (and redact generic
            findings), ``redact`` every finding, or ``off``.
    """

    @staticmethod
    def policy(mode: SecretMode) -> str:
        """What an index records of the scanning it was built with (mode and detector
        policy); a different value means stored files must be scanned again."""
        return f"secrets={mode}/{_POLICY_VERSION}"

    def __init__(self, allow: str = "", *, mode: SecretMode = "skip") -> None:
        if mode not in ("skip", "redact", "off"):
            msg = f"secret mode must be 'skip', 'redact' or 'off', got {mode!r}"
            raise ValueError(msg)
        self.mode: SecretMode = mode
        self._allow = pathspec.GitIgnoreSpec.from_lines(allow.splitlines())

    @contextlib.contextmanager
    def _settings(self) -> Iterator[Any]:
        from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
        from detect_secrets.settings import transient_settings

        plugins = [
            {"name": cls.__name__}
            for cls in get_mapping_from_secret_type_to_class().values()
            if cls.__name__ not in _EXCLUDED_PLUGINS
        ]
        with _SETTINGS_LOCK, transient_settings({"plugins_used": plugins}) as settings:
            # never send a candidate secret to its service to "verify" it
            settings.filters.pop(_VERIFY_FILTER, None)
            yield settings

    def _hits(self, path: str, text: str) -> list[SecretFinding]:
        from detect_secrets.core.scan import _process_line_based_plugins
        from detect_secrets.settings import get_plugins

        name = _syntax_name(path)
        lines = list(enumerate(text.splitlines(), start=1))
        with self._settings():
            # Plugins alone first, called directly: detect-secrets' own loop binds every
            # argument by signature inspection for every plugin on every line, ~5x slower.
            # Only lines where a plugin matched go through its loop with the filters.
            patterns, plugins = _split_plugins(get_plugins())
            candidates = []
            for n, line in lines:
                stripped = line.rstrip()
                if any(pattern.search(stripped) for pattern in patterns) or any(
                    plugin.analyze_line(filename=name, line=stripped, line_number=n)
                    for plugin in plugins
                ):
                    candidates.append((n, line))
            found = (
                list(_process_line_based_plugins(candidates, filename=name)) if candidates else []
            )
        by_line = dict(candidates)
        return sorted(
            {
                SecretFinding(path, s.line_number, s.type)
                for s in found
                if not _inside_a_longer_token(s, by_line.get(s.line_number, ""))
            },
            key=_order,
        )

    def scan(self, path: str, data: bytes) -> list[SecretFinding]:
        """The secrets in ``data`` (the file at repository path ``path``), by line."""
        if self.mode == "off" or self._allow.match_file(path):
            return []
        return self._hits(path, data.decode("utf-8", "replace"))

    def check(self, path: str, data: bytes) -> tuple[bytes | None, list[SecretFinding]]:
        """Apply the mode to one file.

        Returns:
            ``(data to index, findings)``: ``data`` itself when nothing was found, ``None``
            when the file is to be skipped, or the redacted bytes.
        """
        if self.mode == "off" or self._allow.match_file(path):
            return data, []
        text = data.decode("utf-8", "replace")
        findings = self._hits(path, text)
        if not findings:
            return data, []
        skip = self.mode == "skip" and any(f.detector not in _GENERIC_DETECTORS for f in findings)
        where = ", ".join(f"line {f.line} ({f.detector})" for f in findings)
        logger.warning(
            "secret in %s: %s: %s", path, where, "skipping the file" if skip else "redacted"
        )
        if skip:
            return None, findings
        return _redact(text, findings).encode("utf-8"), findings


def _inside_a_longer_token(secret: Any, line: str) -> bool:
    """Whether a key-ID match is only a slice of a longer token: detect-secrets' AWS pattern
    (``ABIA``/``AKIA``… and 16 more) has no word boundary, so a base64 run such as a class
    diagram's ``AAAAAABIAAABDAAAIAIAAAA…=`` hash "held" a key and skipped the file. A real
    key ID stands alone."""
    value = getattr(secret, "secret_value", None)
    if secret.type not in _BOUNDED_DETECTORS or not value:
        return False
    spans = [m.start() for m in re.finditer(re.escape(value), line)]
    # base64 padding ("=") may follow a token, never precede it: KEY=AKIA… is a key
    return bool(spans) and all(
        _TOKEN_CHAR.match(line[i - 1 : i] or " ") is not None
        or _TOKEN_TAIL.match(line[i + len(value) : i + len(value) + 1] or " ") is not None
        for i in spans
    )


def _split_plugins(plugins: list[Any]) -> tuple[list[re.Pattern[str]], list[Any]]:
    """The regexes of the plugins that match by regex alone, and the other plugins.

    A line for which one of these regexes finds nothing yields nothing from its plugin, so a
    regex search stands in for the plugin call when choosing candidate lines (a search that
    finds only empty groups lets a line through to the full loop, which decides). On click's
    sources this cut the scan by ~28%: 22 of the 26 plugins are such detectors.
    """
    from detect_secrets.plugins.base import RegexBasedDetector

    patterns: list[re.Pattern[str]] = []
    others: list[Any] = []
    for plugin in plugins:
        if type(plugin).analyze_string is RegexBasedDetector.analyze_string:
            patterns.extend(plugin.denylist)
        else:
            others.append(plugin)
    return patterns, others


def _order(finding: SecretFinding) -> tuple[int, str]:
    return finding.line, finding.detector


def _syntax_name(path: str) -> str:
    """The name detect-secrets sees: it picks its keyword rules by extension, and reads
    ``.env`` files, ``.env.example`` and shell scripts (``KEY=value`` lines) as unknown or
    as examples, which it does not search for ``PASSWORD=...``; they are scanned as
    ``.properties`` (the same syntax)."""
    base = path.rsplit("/", 1)[-1]
    suffix = base.rsplit(".", 1)[-1] if "." in base.lstrip(".") else ""
    if base.startswith(".env") or base.endswith(".env") or suffix in _SHELL_SUFFIXES:
        return f"{path}.properties"
    return path


def _redact(text: str, findings: list[SecretFinding]) -> str:
    """Replace each line holding a secret by a marker (keeping its indentation); a private
    key loses its whole PEM block. Whole lines, because a detector's match can be part of
    the secret (a JWT's header and payload without its signature)."""
    lines = text.splitlines(keepends=True)
    for finding in findings:
        first = finding.line - 1
        last = first
        if finding.detector == "Private Key":
            last = next((j for j in range(first, len(lines)) if "-----END" in lines[j]), first)
        for j in range(first, last + 1):
            line = lines[j]
            indent = line[: len(line) - len(line.lstrip())]
            newline = "\n" if line.endswith("\n") else ""
            marker = f"[REDACTED {finding.detector}]" if j == first else ""
            lines[j] = f"{indent}{marker}{newline}"
    return "".join(lines)
