"""Conversations over several repositories: the multi-turn session, ``c2rag chat --repo``,
``c2rag localize --repo`` and ``c2rag mcp --repo`` (driven by the MCP client over stdio)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from click.testing import CliRunner
from mcp import Client, StdioServerParameters

from c2rag.cli import cli
from c2rag.org import OrgIndex
from c2rag.org.search import MultiRepoRetriever, RepoCitation, RepoHit
from c2rag.retrieve import CodeQASession
from tests.examples.support import subprocess_pythonpath

STORE = (
    "class Store:\n"
    "    def put_item(self, key, value):\n        self.items[key] = value\n\n"
    "    def get_item(self, key):\n        return self.items[key]\n\n"
    "    def drop_item(self, key):\n        del self.items[key]\n"
)
PARSE = "def parse_config(text):\n    return dict(line.split('=') for line in text)\n"
APP = (
    "from src.parse import parse_config\n\n\n"
    "def load_settings(path):\n    with open(path) as f:\n        return parse_config(f)\n"
)
REPORT = (
    "Settings do not load\n\nTraceback (most recent call last):\n"
    '  File "/srv/beta/src/app.py", line 6, in load_settings\n'
    '  File "/srv/beta/src/parse.py", line 2, in parse_config\n'
    "ValueError: not enough values to unpack"
)


@pytest.fixture
def org(two_repos, tiny_encoder, tmp_path: Path) -> tuple[Any, Any, Path]:
    """``alpha`` (with a class) and ``beta`` (a parser and its caller) in one store."""
    alpha, beta = two_repos
    alpha.write("pkg/store.py", STORE)
    alpha.commit("store")
    beta.write("src/parse.py", PARSE)
    beta.write("src/app.py", APP)
    beta.commit("settings")
    store = tmp_path / "org"
    OrgIndex([alpha.root, beta.root], encoder=tiny_encoder, store_dir=store).update()
    return alpha, beta, store


def _cited(text: str) -> RepoCitation:
    return RepoCitation.parse(text)


def test_session_follows_up_within_the_right_repository(org, tiny_encoder) -> None:
    alpha, beta, store = org
    with MultiRepoRetriever.from_paths(
        [alpha.root, beta.root], encoder=tiny_encoder, store_dir=store
    ) as multi:
        # no neighbours of the top hit: the callers come only from the follow-up
        session = CodeQASession(multi, budget_tokens=1500, k=4, neighbours=0)
        first = session.ask("where is parse_config defined?")
        cited = [_cited(str(c)) for c in first.new_citations]
        assert (cited[0].repo, cited[0].path) == ("beta", "src/parse.py")
        assert cited[0].commit == beta.head[:12]
        assert "### beta:src/parse.py:1-2@" in first.render()

        callers = session.ask("and who calls it?")
        assert callers.follow_up and callers.focus[0] == "parse.parse_config"
        new = {(_cited(str(c)).repo, _cited(str(c)).path) for c in callers.new_citations}
        assert ("beta", "src/app.py") in new
        assert "load_settings" in callers.render()

        again = session.ask("parse_config")
        referenced = {str(r.citation) for r in again.context.references}
        assert str(first.new_citations[0]) in referenced  # given before: a reference now
        assert all(h.id.split(":", 1)[0] in {"alpha", "beta"} for h in again.hits)


def test_class_outline_and_fetch_stay_in_their_repository(org, tiny_encoder) -> None:
    alpha, beta, store = org
    with MultiRepoRetriever.from_paths(
        [alpha.root, beta.root], encoder=tiny_encoder, store_dir=store
    ) as multi:
        member = next(
            h for h in multi.search("put_item", k=3) if h.chunk.name.endswith("Store.put_item")
        )
        outline = multi.class_outline(member)
        assert outline and all(cid.startswith("alpha:") for cid in outline)
        found = multi.fetch(outline)
        assert list(found) == outline
        whole = found[outline[0]]
        assert isinstance(whole, RepoHit) and whole.chunk.name.endswith("Store")
        assert str(whole.citation).startswith(f"alpha:pkg/store.py:1-9@{alpha.head[:12]}")
        callers = multi.neighbours(multi.search("parse_config", k=1)[0], direction="callers")
        assert ("beta", "app.load_settings") in [(h.repo, h.chunk.name) for h in callers]
        assert {h.repo for h in callers} == {"beta"}


def _repo_args(alpha, beta, store: Path) -> list[str]:
    return ["--repo", str(alpha.root), "--repo", str(beta.root), "--store", str(store)]


def test_cli_chat_over_several_repositories(org, tiny_c2llm_dir: Path) -> None:
    alpha, beta, store = org
    args = ["chat", *_repo_args(alpha, beta, store), "--json", "--budget", "5000", "-k", "4"]
    args += ["--turn", "where is parse_config defined?", "--turn", "and who calls it?"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    top = _cited(first["snippets"][0]["citation"])
    assert (top.repo, top.path) == ("beta", "src/parse.py")
    assert second["follow_up"]
    assert any(s["citation"].startswith("beta:src/app.py:") for s in second["snippets"])

    plain = CliRunner().invoke(
        cli, ["chat", *_repo_args(alpha, beta, store), "--turn", "shared_3", "-k", "2"]
    )
    assert plain.exit_code == 0, plain.output
    assert "alpha:pkg/util.py:" in plain.stdout and "beta:lib/util_copy.py:" in plain.stdout


def test_cli_localize_over_several_repositories(org, tiny_c2llm_dir: Path) -> None:
    alpha, beta, store = org
    args = ["localize", *_repo_args(alpha, beta, store), "--text", REPORT, "--json", "-k", "3"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    files = json.loads(result.stdout)
    assert [f["path"] for f in files[:2]] == ["beta:src/parse.py", "beta:src/app.py"]
    symbol = files[0]["symbols"][0]
    assert symbol["name"].endswith("parse_config")
    assert symbol["citation"].startswith(f"beta:src/parse.py:1-2@{beta.head[:12]}")
    assert all(c.startswith("beta:src/parse.py:") for c in symbol["citations"])


def _server(alpha, beta, store: Path, model: Path) -> StdioServerParameters:
    args = ["-m", "c2rag", "mcp", *_repo_args(alpha, beta, store), "--model", str(model)]
    env = {"PYTHONPATH": subprocess_pythonpath(), "HF_HUB_OFFLINE": "1"}
    return StdioServerParameters(command=sys.executable, args=args, env=env, cwd=str(beta.root))


async def _call(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return result.structured_content


def test_mcp_serves_several_repositories_over_stdio(org, tiny_c2llm_dir: Path) -> None:
    alpha, beta, store = org

    async def session() -> None:
        async with Client(_server(alpha, beta, store, tiny_c2llm_dir)) as client:
            tools = {t.name for t in (await client.list_tools()).tools}
            assert tools == {"search_code", "open_chunk", "index_status", "localize"}

            found = await _call(client, "search_code", query="shared_3", limit=2)
            repos = {(s["repository"], s["path"]) for s in found["snippets"]}
            assert repos == {("alpha", "pkg/util.py"), ("beta", "lib/util_copy.py")}
            snippet = next(s for s in found["snippets"] if s["repository"] == "beta")
            assert snippet["citation"].startswith("beta:lib/util_copy.py:")
            assert snippet["stale"] is False

            parser = await _call(client, "search_code", query="parse_config", limit=2)
            defined = parser["snippets"][0]
            assert defined["citation"].startswith("beta:src/parse.py:1-2@")
            callers = await _call(client, "search_code", query="who calls it?", follow_up=True)
            assert callers["follow_up"]
            assert defined["citation"] in callers["already_given"]
            assert any(s["citation"].startswith("beta:src/app.py:") for s in callers["snippets"])

            opened = await _call(client, "open_chunk", citation=snippet["citation"])
            assert opened["repository"] == "beta" and opened["status"] == "unchanged"
            assert opened["citation"] == snippet["citation"]
            assert opened["text"] == snippet["text"]

            status = await _call(client, "index_status")
            assert set(status["repositories"]) == {"alpha", "beta"}
            assert all(s["up_to_date"] for s in status["repositories"].values())
            beta.write("src/parse.py", PARSE.replace("'='", "':'"))
            beta.commit("colon separated")
            status = await _call(client, "index_status")
            assert status["repositories"]["alpha"]["up_to_date"]
            assert status["repositories"]["beta"]["files_changed"] == ["src/parse.py"]

            located = await _call(client, "localize", text=REPORT, k=2)
            assert located["files"][0]["path"] == "beta:src/parse.py"

            unknown = await client.call_tool(
                "open_chunk", {"citation": f"gamma:src/parse.py:1-2@{beta.head}"}
            )
            assert unknown.is_error and "alpha, beta" in unknown.content[0].text

    anyio.run(session)


def test_mcp_and_chat_name_a_repository_without_an_index(org, make_repo, tmp_path) -> None:
    alpha, _, store = org
    other = make_repo("gamma", files={"g.py": "def g():\n    return 1\n"})
    args = ["chat", "--repo", str(alpha.root), "--repo", str(other.root), "--store", str(store)]
    result = CliRunner().invoke(cli, [*args, "--turn", "g"])
    assert result.exit_code == 1
    assert "gamma" in result.output and "c2rag index" in result.output
    plain = tmp_path / "plain"  # a directory, not a git repository
    plain.mkdir()
    served = CliRunner().invoke(cli, ["mcp", "--repo", str(alpha.root), "--repo", str(plain)])
    assert served.exit_code == 1 and str(plain) in served.output
