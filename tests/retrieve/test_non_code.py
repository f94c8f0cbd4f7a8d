"""Documentation, configuration and tests step back for questions and reports about code.

A real repository (made here) holds a retry helper beside files that repeat its words: a
Makefile target that runs it, a YAML config of its settings, a docs page describing it and the
tests that exercise it. MiniLM embeds everything. ``search`` must put the helper first, give
each non-code file one slot with its penalty shown, and drop the penalty when the question is
about that kind of file; ``localize`` must rank the helper's file first for a report whose
traceback passes through the tests, with the steps back reported as evidence.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from c2rag.retrieve import CodeRetriever
from c2rag.retrieve.localize import LocalizeWeights, localize
from tests.fixtures.codeqa import CODEQA_FILES, UPLOAD_TESTS
from tests.fixtures.repos import init_repo

MAKEFILE = """\
.PHONY: retry-check retry-bench

# Retry failed uploads with backoff until they succeed (the retry_with_backoff helper).
retry-check:
\tpython -c "from storage.upload import retry_with_backoff; retry_with_backoff(print)"

retry-bench:
\tpython -m storage.bench --retry-with-backoff --attempts 5 --base-delay 0.5
"""

CONFIG = """\
# Settings of retry_with_backoff: how failed uploads are retried until they succeed.
retry:
  attempts: 5
  base_delay: 0.5
  backoff: exponential
  honour_retry_after: true
"""

DOCS = """\
# Retries

Failed uploads are retried with backoff until they succeed: `retry_with_backoff` calls the
upload again, sleeping exponentially longer after each failure, and a 429 response waits as
long as its Retry-After header asks.
"""

# The first test of UPLOAD_TESTS fails on its assertion: the traceback holds only the test.
_TEST_NAME = "test_retry_with_backoff_retries_failed_calls_until_they_succeed"
_LINE = UPLOAD_TESTS.splitlines().index("    assert sleeps == [0.5, 1.0]") + 1
REPORT = (
    "retry_with_backoff sleeps the wrong time after a failed upload\n\n"
    "Retrying failed uploads with backoff waits 0.5 s after every failure instead of "
    "doubling:\n\n"
    "Traceback (most recent call last):\n"
    f'  File "/home/ci/repo/tests/test_upload.py", line {_LINE}, in {_TEST_NAME}\n'
    "    assert sleeps == [0.5, 1.0]\n"
    "AssertionError: assert [0.5, 0.5] == [0.5, 1.0]\n"
)


@pytest.fixture(scope="module")
def repo_with_non_code(tmp_path_factory: pytest.TempPathFactory, minilm_encoder) -> Path:
    from c2rag.index import CodeIndex

    files = {p: CODEQA_FILES[p] for p in ("src/storage/upload.py", "src/storage/client.py")}
    files |= {
        "Makefile": MAKEFILE,
        "config/retry.yaml": CONFIG,
        "docs/retries.md": DOCS,
        "tests/test_upload.py": UPLOAD_TESTS,
    }
    root = tmp_path_factory.mktemp("non-code") / "repo"
    init_repo(root, files=files)
    CodeIndex(root, encoder=minilm_encoder, store_dir=root.parent / "store").update()
    return root


def _open(root: Path, encoder) -> CodeRetriever:
    from c2rag.git import GitRepo
    from c2rag.store import IndexStore, StoreLocation

    store = IndexStore.open(StoreLocation.for_repo(root, store_dir=root.parent / "store"))
    return CodeRetriever(store, encoder, GitRepo(root))


def test_search_puts_the_code_before_files_that_repeat_its_words(
    repo_with_non_code, minilm_encoder
) -> None:
    with _open(repo_with_non_code, minilm_encoder) as retriever:
        hits = retriever.search("how are failed uploads retried with backoff?", k=8)
    paths = [h.chunk.path for h in hits]
    assert paths[0] == "src/storage/upload.py", paths
    assert "storage.upload.retry_with_backoff" in [h.chunk.name for h in hits[:4]]
    for path in ("Makefile", "config/retry.yaml", "docs/retries.md"):
        assert paths.count(path) <= 1, paths  # one slot per file, its other windows members
        for hit in (h for h in hits if h.chunk.path == path):
            assert hit.contributions["prose_or_data_penalty"] < 0
            assert sum(hit.contributions.values()) == pytest.approx(hit.score)


def test_a_question_about_the_makefile_gets_it_unpenalised(
    repo_with_non_code, minilm_encoder
) -> None:
    with _open(repo_with_non_code, minilm_encoder) as retriever:
        hits = retriever.search("which Makefile target runs the retry check?", k=8)
    make = [h for h in hits if h.chunk.path == "Makefile"]
    assert make and hits[0].chunk.path == "Makefile", [h.citation for h in hits]
    assert "prose_or_data_penalty" not in make[0].contributions


def test_localize_ranks_the_code_above_the_test_the_traceback_ran(
    repo_with_non_code, minilm_encoder
) -> None:
    with _open(repo_with_non_code, minilm_encoder) as retriever:
        found = retriever.localize(REPORT, k=5)
        neutral = localize(
            retriever, REPORT, k=5, weights=LocalizeWeights(test_prior=1.0, prose_prior=1.0)
        )
    files = [f.path for f in found.files]
    assert files[0] == "src/storage/upload.py", found.render()
    test_file = next(f for f in found.files if f.path == "tests/test_upload.py")
    prior = [e for e in test_file.evidence if e.source == "prior"]
    assert prior and prior[0].score < 0 and "test code" in prior[0].detail
    assert sum(e.score for e in test_file.evidence) == pytest.approx(test_file.score)
    for f in found.files:
        if f.path in ("Makefile", "config/retry.yaml", "docs/retries.md"):
            assert any(e.source == "prior" for e in f.evidence), f.path
    # without the priors the test the traceback ran is first: the step back is what reorders
    assert neutral.files[0].path == "tests/test_upload.py", neutral.render()
    assert all(e.source != "prior" for f in neutral.files for e in f.evidence)


def _titled(title: str) -> str:
    return title + REPORT[REPORT.index("\n") :]


def _stepped_back(found, path: str) -> bool:
    """Whether ``path`` is among the files found with a ``prior`` in its evidence."""
    file = next(f for f in found.files if f.path == path)
    return any(e.source == "prior" for e in file.evidence)


def test_a_report_about_a_test_keeps_the_test_file_in_full(
    repo_with_non_code, minilm_encoder
) -> None:
    with _open(repo_with_non_code, minilm_encoder) as retriever:
        found = retriever.localize(_titled(f"Flaky test: {_TEST_NAME}"), k=5)
        scoped = retriever.localize(REPORT, k=5, filters={"paths": ["tests/**"]})
    assert not _stepped_back(found, "tests/test_upload.py")
    assert [f.path for f in scoped.files] == ["tests/test_upload.py"]
    assert all(e.source != "prior" for f in scoped.files for e in f.evidence)


def test_a_report_titled_about_docs_keeps_them_and_a_version_word_does_not(
    repo_with_non_code, minilm_encoder
) -> None:
    # "version" would make a search question about prose; in a title it is a code bug's
    with _open(repo_with_non_code, minilm_encoder) as retriever:
        about_docs = retriever.localize(_titled("Docs: the retries page says it doubles"), k=6)
        versioned = retriever.localize(_titled("retry_with_backoff broke in version 2.0"), k=6)
    assert not _stepped_back(about_docs, "docs/retries.md")
    assert _stepped_back(versioned, "docs/retries.md")
    assert versioned.files[0].path == "src/storage/upload.py"
