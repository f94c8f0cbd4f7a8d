"""open_citation on a real repository: unchanged, moved, changed and deleted code."""

from __future__ import annotations

import pytest

from c2rag.citations import open_citation
from c2rag.errors import GitError
from c2rag.git import GitRepo
from c2rag.types import Citation

SOURCE = """import os


def first():
    return 1


def second(x):
    y = x * 2
    return y
"""
SECOND = "def second(x):\n    y = x * 2\n    return y"


@pytest.fixture
def scratch(make_repo):
    return make_repo(files={"pkg/mod.py": SOURCE, "README.md": "hi\n"})


def cite(repo, start=8, end=10) -> str:
    return str(Citation("pkg/mod.py", start, end, repo.head))


def test_unchanged_file_gives_the_cited_lines(scratch):
    opened = open_citation(GitRepo(scratch.root), cite(scratch))
    assert (opened.status, opened.changed_since) == ("unchanged", False)
    assert (opened.start_line, opened.end_line, opened.text) == (8, 10, SECOND)
    assert opened.commit == scratch.head and opened.cited_text is None


def test_lines_moved_by_an_edit_above_are_found_at_their_new_place(scratch):
    citation = cite(scratch)
    scratch.write("pkg/mod.py", "# header\n# more\n" + SOURCE)
    opened = open_citation(GitRepo(scratch.root), citation)
    assert (opened.status, opened.changed_since) == ("moved", True)
    assert (opened.start_line, opened.end_line, opened.text) == (10, 12, SECOND)


def test_edited_lines_report_both_versions(scratch):
    citation = cite(scratch)
    scratch.write("pkg/mod.py", SOURCE.replace("x * 2", "x * 3"))
    scratch.commit("triple")
    opened = open_citation(GitRepo(scratch.root), citation)
    assert opened.status == "changed"
    assert opened.text == SECOND.replace("x * 2", "x * 3")
    assert opened.cited_text == SECOND


def test_deleted_file_returns_the_cited_text(scratch):
    citation = cite(scratch)
    scratch.remove("pkg/mod.py")
    opened = open_citation(GitRepo(scratch.root), citation)
    assert (opened.status, opened.text) == ("deleted", SECOND)


def test_context_lines_widen_the_range_within_the_file(scratch):
    opened = open_citation(GitRepo(scratch.root), cite(scratch, 4, 5), context_lines=2)
    assert (opened.start_line, opened.end_line) == (2, 7)
    assert opened.text.splitlines()[2] == "def first():"
    tail = open_citation(GitRepo(scratch.root), cite(scratch), context_lines=5)
    assert tail.end_line == 10


@pytest.mark.parametrize(
    ("citation", "error", "match"),
    [
        ("pkg/mod.py:8-10", ValueError, "not a citation"),
        ("pkg/mod.py:8-99@HEAD", ValueError, "lines 8-99 do not exist"),
        ("pkg/nope.py:1-2@HEAD", GitError, "not an indexable file"),
        ("pkg/mod.py:1-2@0123456789ab", GitError, "unknown revision"),
    ],
)
def test_bad_citations_are_refused_with_the_reason(scratch, citation, error, match):
    with pytest.raises(error, match=match):
        open_citation(GitRepo(scratch.root), citation)


def test_negative_context_is_refused(scratch):
    with pytest.raises(ValueError, match="context_lines"):
        open_citation(GitRepo(scratch.root), cite(scratch), context_lines=-1)
