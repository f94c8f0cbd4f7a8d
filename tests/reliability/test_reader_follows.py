"""A reader process stays open while another process updates the index: its next answers come
from the new generation, never empty, never with the removed code (issue #10, item 2).

The reader is a real child process holding the MCP tools (session + retriever) and a LangChain
retriever over one CodeRetriever; the test process is the writer.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from c2rag.index import CodeIndex

OLD = "def alpha_original_helper(values):\n    return sorted(values)[0]\n"
NEW = (
    "def beta_fresh_function(values):\n    return max(values) - min(values)\n\n\n"
    "def gamma_second_addition(text):\n    return text.strip().lower()\n"
)
FILES = {
    "calc.py": OLD,
    "other.py": "def stable_thing(a, b):\n    return a * b + 1\n",
    "README.md": "# calc\n",
}

# Answers each stdin line (a query) with the symbols the MCP tools and LangChain return.
_READER = """
import json, sys
from c2rag.mcp_server import RepoTools
from langchain_c2rag import C2RAGRetriever

args = json.loads(sys.argv[1])
tools = RepoTools(args["repo"], model=args["model"], **args["options"])
lc = C2RAGRetriever(code_retriever=tools.retriever(), k=5)
print("ready", flush=True)
for line in sys.stdin:
    query = line.strip()
    found = tools.search(query, limit=5)
    docs = lc.invoke(query)
    print(json.dumps({
        "mcp": sorted({s.rsplit(".", 1)[-1] for snip in found.snippets for s in snip.symbols}),
        "mcp_texts": [snip.text for snip in found.snippets],
        "langchain": sorted({str(d.metadata.get("name", "")).rsplit(".", 1)[-1] for d in docs}),
        "indexed": tools.status().indexed_commit,
    }), flush=True)
"""


@pytest.fixture(params=["embedded", pytest.param("server", marks=pytest.mark.server)])
def options(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    opts: dict[str, Any] = {"store_dir": str(tmp_path / "store")}
    if request.param == "server":
        server = request.getfixturevalue("chroma_server")
        opts.update(chroma_host=server.host, chroma_port=server.port)
    return opts


def test_reader_process_follows_an_update(
    make_repo: Any, tiny_encoder: Any, tiny_c2llm_dir: Path, options: dict[str, Any]
) -> None:
    repo = make_repo(files=FILES)
    writer = CodeIndex(repo.root, encoder=tiny_encoder, **options)
    writer.update()
    rootdir = Path(__file__).resolve().parents[2]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            [str(rootdir), str(rootdir / "integrations/langchain-c2rag")]
        ),
        "OMP_NUM_THREADS": "1",
    }
    payload = {"repo": str(repo.root), "model": str(tiny_c2llm_dir), "options": options}
    reader = subprocess.Popen(
        [sys.executable, "-c", _READER, json.dumps(payload)],
        cwd=rootdir,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )

    def ask(query: str) -> dict[str, Any]:
        assert reader.stdin is not None and reader.stdout is not None
        reader.stdin.write(query + "\n")
        reader.stdin.flush()
        line = reader.stdout.readline()
        assert line, reader.stderr.read() if reader.stderr else ""
        return json.loads(line)

    try:
        assert reader.stdout is not None
        assert reader.stdout.readline().strip() == "ready", reader.stderr.read()
        before = ask("alpha_original_helper")
        assert "alpha_original_helper" in before["mcp"]
        assert "alpha_original_helper" in before["langchain"]

        repo.write("calc.py", NEW)
        head = repo.commit("replace the helper")
        writer.update()  # another process than the reader

        after = ask("beta_fresh_function gamma_second_addition")
        assert after["indexed"] == head
        assert {"beta_fresh_function", "gamma_second_addition"} <= set(after["mcp"])
        assert "beta_fresh_function" in after["langchain"]
        gone = ask("alpha_original_helper")
        assert gone["mcp"] and gone["langchain"]  # never empty because of the update
        assert "alpha_original_helper" not in gone["mcp"] + gone["langchain"]
        assert all("alpha_original_helper" not in text for text in gone["mcp_texts"])
    finally:
        if reader.stdin:
            reader.stdin.close()
        reader.wait(timeout=120)
