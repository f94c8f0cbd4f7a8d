"""Searching several repositories at once: both repositories' code, repository-qualified
citations, one query embedding."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from c2rag.cli import cli
from c2rag.errors import IndexNotFoundError
from c2rag.org import OrgIndex
from c2rag.org.search import MultiRepoRetriever, RepoCitation, RepoHit
from tests.index.embedders import CountingEmbedder


class QueryCounter(CountingEmbedder):
    """Counts query embeddings too."""

    query_calls = 0

    def encode_queries(self, texts, *, task=None, instruction=None):  # type: ignore[no-untyped-def]
        self.query_calls += 1
        return super().encode_queries(texts, task=task, instruction=instruction)


@pytest.fixture
def org_store(two_repos, tiny_encoder, tmp_path: Path) -> Path:
    alpha, beta = two_repos
    beta.write(
        "src/parse.py",
        "def parse_config(text):\n    return dict(line.split('=') for line in text)\n",
    )
    beta.commit("parser")
    store = tmp_path / "org"
    OrgIndex([alpha.root, beta.root], encoder=tiny_encoder, store_dir=store).update()
    return store


def test_search_returns_both_repositories_with_qualified_citations(
    two_repos, org_store: Path, tiny_encoder
) -> None:
    alpha, beta = two_repos
    counting = QueryCounter(tiny_encoder)
    with MultiRepoRetriever.from_paths(
        [alpha.root, beta.root], encoder=counting, store_dir=org_store
    ) as multi:
        hits = multi.search("shared_3", k=4)
        assert counting.query_calls == 1  # one embedding for both repositories
        assert all(isinstance(h, RepoHit) for h in hits)
        top = {(h.repo, h.chunk.path, h.chunk.name.rsplit(".", 1)[-1]) for h in hits[:2]}
        assert top == {
            ("alpha", "pkg/util.py", "shared_3"),
            ("beta", "lib/util_copy.py", "shared_3"),
        }
        cited = [str(h.citation) for h in hits]
        assert cited[0].startswith(("alpha:pkg/util.py:", "beta:lib/util_copy.py:"))
        for hit, text in zip(hits, cited, strict=True):
            parsed = RepoCitation.parse(text)
            assert (parsed.repo, parsed.path, parsed.start_line) == (
                hit.repo,
                hit.chunk.path,
                hit.chunk.start_line,
            )
            assert hit.commit.startswith(parsed.commit)
        assert len({h.id for h in hits}) == len(hits)
        # a name only one repository has
        only = multi.search("parse_config", k=1)
        assert only[0].repo == "beta"
        assert str(only[0].citation).startswith(f"beta:src/parse.py:1-2@{beta.head[:12]}")


def test_cli_search_several_repositories(two_repos, org_store: Path, tiny_c2llm_dir: Path) -> None:
    alpha, beta = two_repos
    args = ["search", "shared_3", "--repo", str(alpha.root), "--repo", str(beta.root)]
    args += ["--store", str(org_store), "-k", "2"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "alpha:pkg/util.py:" in result.output
    assert "beta:lib/util_copy.py:" in result.output
    packed = CliRunner().invoke(cli, [*args, "--context", "400"])
    assert packed.exit_code == 0, packed.output
    assert "### alpha:pkg/util.py:" in packed.output
    assert "### beta:lib/util_copy.py:" in packed.output


def test_a_repository_without_an_index_is_named(two_repos, make_repo, org_store: Path) -> None:
    other = make_repo("gamma", files={"g.py": "def g():\n    return 1\n"})
    with pytest.raises(IndexNotFoundError, match="gamma"):
        MultiRepoRetriever.from_paths([two_repos[0].root, other.root], store_dir=org_store)


def test_langchain_and_llamaindex_retrievers_over_several_repositories(
    two_repos, org_store: Path, tiny_c2llm_dir: Path
) -> None:
    from langchain_c2rag import C2RAGRetriever as LangChainRetriever
    from llama_index.retrievers.c2rag import C2RAGRetriever as LlamaRetriever

    paths = [str(r.root) for r in two_repos]
    docs = LangChainRetriever.from_paths(paths, store_dir=str(org_store), k=2).invoke("shared_3")
    assert {d.metadata["citation"].split(":", 1)[0] for d in docs} == {"alpha", "beta"}
    nodes = LlamaRetriever.from_paths(paths, store_dir=str(org_store), k=2).retrieve("shared_3")
    assert {n.node.metadata["citation"].split(":", 1)[0] for n in nodes} == {"alpha", "beta"}
