"""IgnoreRules: built-in secret/vendor excludes, .c2ragignore syntax, negation, reasons."""

from __future__ import annotations

import pytest

from c2rag.git import BUILTIN_EXCLUDES, IgnoreRules, Skipped


@pytest.mark.parametrize(
    ("path", "reason", "detail"),
    [
        (".env", "secret", ".env"),
        ("services/api/.env.production", "secret", ".env.*"),
        (".envrc", "secret", ".envrc"),
        ("deploy/tls/server.pem", "secret", "*.pem"),
        ("keys/signing.key", "secret", "*.key"),
        ("certs/client.p12", "secret", "*.p12"),
        ("android/release.keystore", "secret", "*.keystore"),
        ("home/.ssh/id_rsa", "secret", "id_rsa*"),
        ("id_ed25519.pub", "secret", "id_ed25519*"),
        ("config/credentials.json", "secret", "credentials.json"),
        ("home/.aws/credentials", "secret", "**/.aws/credentials"),
        (".npmrc", "secret", ".npmrc"),
        ("pkg/.pypirc", "secret", ".pypirc"),
        ("infra/terraform.tfstate", "secret", "*.tfstate"),
        ("node_modules/left-pad/index.js", "vendored", "node_modules/"),
        ("web/node_modules/x/y.js", "vendored", "node_modules/"),
        ("vendor/github.com/pkg/errors/errors.go", "vendored", "vendor/"),
        ("third_party/zlib/inflate.c", "vendored", "third_party/"),
        ("src/pip/_vendor/urllib3/poolmanager.py", "vendored", "_vendor/"),
        (".venv/lib/python3.12/site.py", "vendored", ".venv/"),
        ("dist/bundle.js", "generated", "dist/"),
        ("pkg/build/lib/mod.py", "generated", "build/"),
        ("pkg/__pycache__/lock.json", "generated", "__pycache__/"),
        ("old/mod.pyc", "generated", "*.pyc"),
        ("static/app.min.js", "generated", "*.min.js"),
        ("mylib.egg-info/PKG-INFO", "generated", "*.egg-info/"),
        ("django/conf/locale/fr/LC_MESSAGES/django.po", "translation", "*.po"),
        ("po/messages.pot", "translation", "*.pot"),
        ("src/locale/messages.de.xlf", "translation", "*.xlf"),
    ],
)
def test_builtin_excludes_name_reason_and_pattern(path: str, reason: str, detail: str) -> None:
    assert IgnoreRules().check(path) == Skipped(path, reason, detail)


@pytest.mark.parametrize(
    "path",
    [
        "src/app.py",
        ".env.example",  # committed templates document variable names
        "config/.env.sample",
        ".env.template",
        "src/credentials.py",  # code about credentials is code
        "src/builder.py",  # "build" only as a directory
        "docs/vendoring.md",
        "src/keys.py",
        "static/app.js",
        "environment.yml",
    ],
)
def test_ordinary_files_are_kept(path: str) -> None:
    assert IgnoreRules().check(path) is None
    assert not IgnoreRules().is_ignored(path)


def test_c2ragignore_patterns_and_negation() -> None:
    rules = IgnoreRules("# generated docs\n\ndocs/\n!docs/api.md\n*.snap\n/top.txt\n")
    intro = "docs/guide/intro.md"
    assert rules.check(intro) == Skipped(intro, "c2ragignore", "docs/")
    assert rules.check("docs/api.md") is None
    assert rules.check("tests/__snapshots__/a.snap") == Skipped(
        "tests/__snapshots__/a.snap", "c2ragignore", "*.snap"
    )
    assert rules.check("top.txt") is not None
    assert rules.check("sub/top.txt") is None  # anchored pattern
    assert rules.check("src/app.py") is None


def test_c2ragignore_negation_takes_back_a_builtin() -> None:
    rules = IgnoreRules("!vendor/\n!build/\n")
    assert rules.check("vendor/ourlib/core.go") is None
    assert rules.check("build/scripts/gen.py") is None
    # the others still hold
    assert rules.check("node_modules/x.js") is not None
    assert rules.check("secrets/prod.pem") is not None


def test_translation_catalogs_can_be_taken_back() -> None:
    path = "app/locale/fr/LC_MESSAGES/django.po"
    assert IgnoreRules("!*.po\n").check(path) is None
    # the code that holds the source strings is indexed either way
    assert IgnoreRules().check("app/locale/__init__.py") is None


def test_last_matching_pattern_decides() -> None:
    rules = IgnoreRules("!keep.pem\n")
    assert rules.check("keep.pem") is None
    rules = IgnoreRules("!keep.pem\n*.pem\n")
    assert rules.check("keep.pem") == Skipped("keep.pem", "c2ragignore", "*.pem")


def test_bytes_with_bom_and_crlf_are_read() -> None:
    rules = IgnoreRules(b"\xef\xbb\xbfgen/\r\n*.tmp\r\n")
    assert rules.user_patterns == ("gen/", "*.tmp")
    assert rules.is_ignored("gen/a.py")
    assert rules.is_ignored("x.tmp")


def test_builtins_can_be_turned_off() -> None:
    rules = IgnoreRules("*.log\n", builtin=False)
    assert rules.check("server.pem") is None
    assert rules.check("node_modules/a.js") is None
    assert rules.check("out.log") is not None


def test_partition_keeps_order() -> None:
    kept, skipped = IgnoreRules().partition(["b.py", ".env", "a.py", "dist/x.js"])
    assert kept == ["b.py", "a.py"]
    assert [(s.path, s.reason) for s in skipped] == [(".env", "secret"), ("dist/x.js", "generated")]


def test_rules_compare_by_content() -> None:
    assert IgnoreRules("a/\n") == IgnoreRules(b"a/\n")
    assert IgnoreRules("a/\n") != IgnoreRules("b/\n")
    assert IgnoreRules() != IgnoreRules(builtin=False)
    assert hash(IgnoreRules("a/\n")) == hash(IgnoreRules("a/\n"))


def test_every_builtin_reason_is_a_known_code() -> None:
    assert {reason for reason, _ in BUILTIN_EXCLUDES} == {
        "secret",
        "vendored",
        "generated",
        "translation",
    }
