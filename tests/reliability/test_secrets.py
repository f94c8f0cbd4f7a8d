"""Secrets found by content never reach Chroma, the lexical index, the encoder or the CLI
output; they are reported by path, line and detector (issue #10, item 4)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from c2rag.cli import cli
from c2rag.index import CodeIndex
from tests.index.embedders import CountingEmbedder

PEM_BODY = (
    "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n"
    "VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK\n"
    "LxoS2tFczGkPLPgizskuemMghRniWaoLcyehkd3qqGElvW/VDL5AaWTg0nLVkjRo\n"
)
PEM = f"-----BEGIN RSA PRIVATE KEY-----\n{PEM_BODY}-----END RSA PRIVATE KEY-----\n"
# name → (path, content, a string of the secret that must never be seen again)
SECRETS = {
    "aws": (
        "app/settings.py",
        'DEBUG = False\nAWS_ACCESS_KEY_ID = "AKIAZ3MBQ7XPL2RTYWQ4"\n\n\n'
        "def storage_bucket():\n    return 'uploads'\n",
        "AKIAZ3MBQ7XPL2RTYWQ4",
    ),
    "gcp": (
        "deploy/service-account.json",
        json.dumps(
            {
                "type": "service_account",
                "project_id": "demo-project",
                "private_key_id": "0f3c0e8d1b2a49c6a7e5d4c3b2a1908f7e6d5c4b",
                "private_key": PEM.replace("RSA ", ""),
                "client_email": "svc@demo-project.iam.gserviceaccount.com",
            },
            indent=2,
        ),
        "u1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun",
    ),
    "pem": ("keys/private_key.txt", PEM, "LxoS2tFczGkPLPgizskuemMghRniWaoLcyehkd3qqGElvW"),
    "jwt": (
        "web/client.js",
        "const TOKEN = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZ"
        "SI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c';"
        "\nfunction headers() { return { Authorization: TOKEN }; }\n",
        "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
    ),
    "slack": (
        "config.yaml",
        "service: uploader\nslack_token: xoxb-2384729384-2938472938472-AbCdEfGhIjKlMnOpQrStUvWx\n",
        "AbCdEfGhIjKlMnOpQrStUvWx",
    ),
    "entropy": (
        "lib/client.py",
        'API_TOKEN = "9f8e7d6c5b4a39281706f5e4d3c2b1a0ffeeddcc"\n\n\n'
        "def call(path):\n    return path + API_TOKEN\n",
        "9f8e7d6c5b4a39281706f5e4d3c2b1a0ffeeddcc",
    ),
    "shell": (
        "scripts/deploy.sh",
        "#!/bin/sh\nexport GITHUB_TOKEN=ghp_1a2B3c4D5e6F7g8H9i0JkLmNoPqRsTuVwXyZ\n"
        "git push origin main\n",
        "ghp_1a2B3c4D5e6F7g8H9i0JkLmNoPqRsTuVwXyZ",
    ),
    "basic_auth": (
        "lib/urls.py",
        'def join(host):\n    """Join a URL.\n\n    "https://deploy:Vq7rTx2LmZ@example.com/path"\n'
        '    """\n    return "https://" + host\n',
        "Vq7rTx2LmZ",
    ),
    "env": (
        ".env.example",
        "DB_HOST=localhost\nDB_PASSWORD=Qz8vLr2mXk9pWt4n\n",
        "Qz8vLr2mXk9pWt4n",
    ),
}
CLEAN = {"app/views.py": "def render_page(name):\n    return f'<h1>{name}</h1>'\n"}


def _repo(make_repo: Any, extra: dict[str, str] | None = None) -> Any:
    files = {path: content for path, content, _ in SECRETS.values()}
    return make_repo(files={**files, **CLEAN, **(extra or {})})


def _leaks(directory: Path, text: str) -> list[str]:
    found = []
    for path in directory.rglob("*"):
        if path.is_file() and any(s.encode() in path.read_bytes() for *_, s in SECRETS.values()):
            found.append(str(path))
    found += [name for name, (*_, s) in SECRETS.items() if s in text]
    return found


def test_planted_secrets_reach_nothing(make_repo: Any, tiny_encoder: Any, tmp_path: Path) -> None:
    repo = _repo(make_repo)
    store = tmp_path / "store"
    embedder = CountingEmbedder(tiny_encoder)
    report = CodeIndex(repo.root, encoder=embedder, store_dir=store).update()
    skipped = dict(report.files_skipped)
    flagged = dict(report.files_flagged)
    # generic detectors (keywords, entropy) redact their lines; known formats skip the file
    generic = {"entropy", "env", "basic_auth"}
    for name, (path, _, _) in SECRETS.items():
        if name in generic:
            assert flagged.get(path, "").startswith("secret redacted: line "), (name, flagged)
            assert path not in skipped
        else:
            assert skipped.get(path, "").startswith("secret: line "), (name, skipped.get(path))
    assert "app/views.py" not in skipped
    assert _leaks(store, "\n".join(embedder.texts) + report.summary()) == []
    assert any("render_page" in t for t in embedder.texts)
    assert any("def call(path)" in t for t in embedder.texts)  # the code around a redaction
    assert any("def join(host)" in t for t in embedder.texts)  # a URL example: line redacted

    runner = CliRunner()
    outputs = [
        runner.invoke(cli, ["status", str(repo.root), "--store", str(store)]).output,
        runner.invoke(
            cli, ["search", "token password key", str(repo.root), "--store", str(store)]
        ).output,
        runner.invoke(
            cli,
            [
                "search",
                "slack aws token",
                str(repo.root),
                "--store",
                str(store),
                "--context",
                "4000",
            ],
        ).output,
        runner.invoke(cli, ["index", str(repo.root), "--store", str(store), "--json"]).output,
    ]
    assert _leaks(store, "\n".join(outputs)) == []
    shown = outputs[-1]
    assert "AKIA" not in shown


def test_report_names_path_line_and_detector(make_repo: Any, tiny_encoder: Any, tmp_path: Path):
    repo = _repo(make_repo)
    report = CodeIndex(repo.root, encoder=tiny_encoder, store_dir=tmp_path / "s").update()
    skipped = dict(report.files_skipped)
    assert skipped["app/settings.py"] == "secret: line 2 (AWS Access Key)"
    assert "Private Key" in skipped["keys/private_key.txt"]


def test_redact_mode_keeps_the_code_and_drops_the_secret(
    make_repo: Any, tiny_encoder: Any, tmp_path: Path
) -> None:
    repo = _repo(make_repo)
    store = tmp_path / "store"
    embedder = CountingEmbedder(tiny_encoder)
    report = CodeIndex(repo.root, encoder=embedder, store_dir=store, secrets="redact").update()
    flagged = dict(report.files_flagged)
    assert flagged["app/settings.py"].startswith("secret redacted: line 2")
    texts = "\n".join(embedder.texts)
    assert "def storage_bucket" in texts and "[REDACTED AWS Access Key]" in texts
    assert _leaks(store, texts) == []


def test_allowlist_lets_a_false_positive_through(
    make_repo: Any, tiny_encoder: Any, tmp_path: Path
) -> None:
    fake = 'FAKE_KEY = "AKIAZ3MBQ7XPL2RTYWQ4"  # a documented test fixture\n'
    repo = make_repo(
        files={"tests/fixtures/fake_key.py": fake, ".c2ragsecrets": "tests/fixtures/\n"}
    )
    embedder = CountingEmbedder(tiny_encoder)
    report = CodeIndex(repo.root, encoder=embedder, store_dir=tmp_path / "s").update()
    assert "tests/fixtures/fake_key.py" not in dict(report.files_skipped)
    assert any("FAKE_KEY" in t for t in embedder.texts)


def test_turning_scanning_on_reaches_files_that_did_not_change(
    make_repo: Any, tiny_encoder: Any, tmp_path: Path
) -> None:
    """An index built with ``secrets="off"`` holds a key; indexing the same commit again with
    scanning on must drop it, though git reports no change."""
    repo = _repo(make_repo)
    store = tmp_path / "store"
    CodeIndex(repo.root, encoder=tiny_encoder, store_dir=store, secrets="off").update()
    assert _leaks(store, "") != []  # the unscanned index holds the planted secrets
    embedder = CountingEmbedder(tiny_encoder)
    report = CodeIndex(repo.root, encoder=embedder, store_dir=store).update()
    assert report.mode == "full"
    assert dict(report.files_skipped)["app/settings.py"].startswith("secret: line 2")
    texts = "\n".join(embedder.texts)
    assert "AKIAZ3MBQ7XPL2RTYWQ4" not in texts
    from c2rag.store import IndexStore, StoreLocation

    stored = IndexStore.open(StoreLocation.for_repo(repo.root, store_dir=store))
    documents = stored.collection.get(include=["documents"])["documents"]
    assert documents and not any("AKIAZ3MBQ7XPL2RTYWQ4" in d for d in documents)
    assert "app/settings.py" not in stored.lexical.symbols.paths()  # skipped whole
    assert not any("render_page" in t for t in embedder.texts)  # unchanged code: cached vectors


def test_a_changed_allowlist_reaches_files_that_did_not_change(
    make_repo: Any, tiny_encoder: Any, tmp_path: Path
) -> None:
    """Narrowing ``.c2ragsecrets`` must drop a key from a file that git reports unchanged
    (its stored chunks were cut under the old list), and widening it must index the file."""
    fake = 'FAKE_KEY = "AKIAZ3MBQ7XPL2RTYWQ4"\n\n\ndef fixture_key():\n    return FAKE_KEY\n'
    repo = make_repo(
        files={"tests/fixtures/fake_key.py": fake, ".c2ragsecrets": "tests/fixtures/\n"}
    )
    store = tmp_path / "store"

    def stored_key() -> bool:
        from c2rag.store import IndexStore, StoreLocation

        with IndexStore.open(StoreLocation.for_repo(repo.root, store_dir=store)) as stored:
            documents = stored.collection.get(include=["documents"])["documents"]
            return any("AKIAZ3MBQ7XPL2RTYWQ4" in d for d in documents)

    CodeIndex(repo.root, encoder=tiny_encoder, store_dir=store).update()
    assert stored_key()  # allowed: the key is stored

    repo.write(".c2ragsecrets", "docs/examples/\n")
    repo.commit("the fixtures are no longer allowed")
    embedder = CountingEmbedder(tiny_encoder)
    report = CodeIndex(repo.root, encoder=embedder, store_dir=store).update()
    assert dict(report.files_skipped)["tests/fixtures/fake_key.py"].startswith("secret: line 1")
    # (the bytes can linger in unused space of Chroma's SQLite pages until it is vacuumed)
    assert not stored_key()
    # the rebuild reuses cached vectors: only the edited allowlist file is new text
    assert [t.strip() for t in embedder.texts] == ["docs/examples/"]

    repo.write(".c2ragsecrets", "tests/fixtures/\n")
    repo.commit("allowed again")
    report = CodeIndex(repo.root, encoder=tiny_encoder, store_dir=store).update()
    assert "tests/fixtures/fake_key.py" not in dict(report.files_skipped)
    assert stored_key()


def test_a_lock_file_is_skipped_before_its_checksums_are_scanned(
    make_repo: Any, tiny_encoder: Any, tmp_path: Path, caplog: Any
) -> None:
    checksum = "4f5a4d7a3b0c8e9f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7a8b"
    lock = f'[[package]]\nname = "anyhow"\nversion = "1.0.86"\nchecksum = "{checksum}"\n'
    repo = make_repo(files={"Cargo.lock": lock, "src/lib.rs": "pub fn one() -> u8 { 1 }\n"})
    with caplog.at_level("WARNING", logger="c2rag"):
        report = CodeIndex(repo.root, encoder=tiny_encoder, store_dir=tmp_path / "s").update()
    assert dict(report.files_skipped)["Cargo.lock"] == "lock_file"
    assert "Cargo.lock" not in dict(report.files_flagged)
    assert not [r for r in caplog.records if "secret in Cargo.lock" in r.getMessage()]
