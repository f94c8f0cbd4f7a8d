"""Test code steps back for questions about behaviour, on a real repository with MiniLM.

The repository holds a retry helper and the tests that exercise it. The tests repeat the
helper's name and vocabulary, so both channels rank them high: for "retry failed calls until
they succeed" the test named after that behaviour outscores the helper before the test-code
penalty. The helper must come first, the test must show the penalty it took, and a question
about tests must get the test first, unpenalised.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from c2rag.retrieve import CodeRetriever, FusionWeights
from tests.fixtures.codeqa import CODEQA_FILES, UPLOAD_TESTS
from tests.fixtures.repos import init_repo


@pytest.fixture(scope="module")
def with_tests(tmp_path_factory: pytest.TempPathFactory, minilm_encoder) -> tuple[Path, Path]:
    from c2rag.index import CodeIndex

    files = {p: CODEQA_FILES[p] for p in ("src/storage/upload.py", "src/storage/client.py")}
    repo = init_repo(
        tmp_path_factory.mktemp("tests") / "repo",
        files={**files, "tests/test_upload.py": UPLOAD_TESTS},
    )
    store_dir = tmp_path_factory.mktemp("tests-store")
    CodeIndex(repo.root, encoder=minilm_encoder, store_dir=store_dir).update()
    return Path(repo.root), store_dir


def _search(with_tests, encoder, question: str, paths=None, **options) -> list:
    from c2rag.git import GitRepo
    from c2rag.store import IndexStore, StoreLocation

    root, store_dir = with_tests
    store = IndexStore.open(StoreLocation.for_repo(root, store_dir=store_dir))
    with GitRepo(root) as repo, CodeRetriever(store, encoder, repo, **options) as retriever:
        return retriever.search(question, k=4, filters={"paths": paths} if paths else None)


def test_the_code_comes_before_the_test_that_repeats_its_words(with_tests, minilm_encoder):
    hits = _search(with_tests, minilm_encoder, "retry failed calls until they succeed")
    assert hits[0].chunk.name == "storage.upload.retry_with_backoff"
    test = next(h for h in hits if h.chunk.path == "tests/test_upload.py")
    penalty = test.contributions["test_code_penalty"]
    assert penalty < 0 and sum(test.contributions.values()) == pytest.approx(test.score)
    # before the penalty the test scored above the helper: the penalty is what reorders them
    assert test.score - penalty > hits[0].score
    assert "test_code_penalty" not in hits[0].contributions


def test_a_question_about_tests_gets_the_test_first(with_tests, minilm_encoder):
    hits = _search(with_tests, minilm_encoder, "tests for retrying failed calls")
    assert hits[0].chunk.path == "tests/test_upload.py"
    assert all("test_code_penalty" not in h.contributions for h in hits)
    # filters that name paths say what is wanted: no penalty either
    scoped = _search(
        with_tests, minilm_encoder, "retry failed calls until they succeed", paths=["**/*.py"]
    )
    assert scoped[0].chunk.path == "tests/test_upload.py"
    assert all("test_code_penalty" not in h.contributions for h in scoped)
    # the baselines (plain RRF) are not arranged by the penalty either
    plain = _search(
        with_tests,
        minilm_encoder,
        "retry failed calls until they succeed",
        weights=FusionWeights(adaptive=False),
    )
    assert all("test_code_penalty" not in h.contributions for h in plain)
