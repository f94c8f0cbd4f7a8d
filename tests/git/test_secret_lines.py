"""The scanner's fast choice of candidate lines finds what detect-secrets' own loop finds."""

from __future__ import annotations

from pathlib import Path

import pytest

import c2rag
from c2rag.git.secrets import SecretFinding, SecretScanner, _syntax_name
from tests.reliability.test_secrets import CLEAN, SECRETS

# Shapes of the regex-only detectors, each on a line of ordinary code.
LINES = [
    'ARTIFACTORY = "AKCp8jQ8tYqCwPd7RxKzMoPq1"',
    'AZURE = "DefaultEndpointsProtocol=https;AccountKey=' + "a" * 86 + '=="',
    'url = "https://user:s3cretPass@example.com/path"',
    'DISCORD = "MTk4NjIyNDgzNDcxOTI1MjQ4.Cl2FMQ.ZnCjm1XVW7vRze4b7Cq4se7kKWs"',
    'GITLAB = "glpat-xxxxxxxxxxxxxxxxxxxx1"',
    'MAILCHIMP = "abcdef0123456789abcdef0123456789-us12"',
    "//registry.npmjs.org/:_authToken=npm_abcdefghijklmnopqrstuvwxyz0123456789",
    'PYPI = "pypi-AgEIcHlwaS5vcmc' + "A" * 70 + '"',
    'SENDGRID = "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"',
    'SQUARE = "sq0csp-0p9h7g6f5e4d3c2b1a0-A1B2C3D4E5F6G7H8I9J0K1L"',
    'STRIPE = "sk_live_abcdefghijklmnopqrstuvwx"',
    'TELEGRAM = "110201543:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawX"',
    'TWILIO = "AC0123456789abcdef0123456789abcdef"',
    'password = "hunter2hunter2"',
    "    return value  # nothing here",
]


def reference(path: str, text: str) -> list[SecretFinding]:
    """detect-secrets' own loop over every line (what the scanner shortcuts)."""
    from detect_secrets.core.scan import _process_line_based_plugins

    scanner = SecretScanner()
    lines = list(enumerate(text.splitlines(), start=1))
    with scanner._settings():
        found = list(_process_line_based_plugins(lines, filename=_syntax_name(path)))
    return sorted(
        {SecretFinding(path, s.line_number, s.type) for s in found},
        key=lambda f: (f.line, f.detector),
    )


def cases() -> list[tuple[str, str]]:
    planted = [(path, content) for path, content, _ in SECRETS.values()]
    own = sorted(Path(c2rag.__file__).parent.rglob("*.py"))[:12]
    sources = [(str(p.name), p.read_text(encoding="utf-8")) for p in own]
    return [*planted, *CLEAN.items(), ("lines.py", "\n".join(LINES) + "\n"), *sources]


@pytest.mark.parametrize(("path", "text"), cases())
def test_scan_equals_detect_secrets_loop(path: str, text: str) -> None:
    expected = reference(path, text)
    assert SecretScanner().scan(path, text.encode()) == expected


def test_every_regex_detector_line_is_found() -> None:
    found = reference("lines.py", "\n".join(LINES) + "\n")
    # all but the last (clean) line hold a finding, so the comparison above is not vacuous
    assert {f.line for f in found} >= set(range(1, len(LINES)))


def test_an_aws_key_id_inside_a_longer_token_is_no_key() -> None:
    # pythonnet's class diagram: detect-secrets' AWS pattern ("ABIA" + 16) matched inside a
    # base64 hash and skipped the whole file. A key ID standing alone still counts.
    diagram = "<HashCode>AAAAAABIAAABDAAAIAIAAAAAAAAAAAAAAAAACAiAAAQ=</HashCode>\n"
    assert [f.detector for f in reference("Types.cd", diagram)] == ["AWS Access Key"]
    assert SecretScanner().scan("Types.cd", diagram.encode()) == []
    keys = 'AWS_ACCESS_KEY_ID = "AKIAZ3MBQ7XPL2RTYWQ4"\nAWS_KEY=AKIAZ3MBQ7XPL2RTYWQ4\n'
    assert [f.line for f in SecretScanner().scan("deploy.env", keys.encode())] == [1, 2]
    data, _ = SecretScanner().check("deploy.py", keys.encode())
    assert data is None  # still skipped
