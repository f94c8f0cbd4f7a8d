"""The notebook runs top to bottom in a fresh kernel, as a new user runs it."""

from __future__ import annotations

import nbformat
from nbclient import NotebookClient

from tests.examples.support import CITATION, EXAMPLES, QUESTIONS

NOTEBOOK = EXAMPLES / "repo_qa_agent.ipynb"


def cell_text(cell: nbformat.NotebookNode) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.output_type == "stream")


def test_notebook_runs_and_shows_cited_context_each_turn(example_env, monkeypatch):
    # The kernel is a child process: it inherits this environment (and this interpreter,
    # through ipykernel's native "python3" kernel spec).
    for key, value in example_env.items():
        monkeypatch.setenv(key, value)
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(
        nb,
        kernel_name="python3",
        timeout=300,
        resources={"metadata": {"path": str(EXAMPLES)}},
    )
    client.execute()  # raises CellExecutionError on any failing cell

    outputs = [cell_text(c) for c in nb.cells if c.cell_type == "code"]
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors == []
    langchain = next(o for o in outputs if "--- code_search(" in o)
    llamaindex = next(o for o in outputs if "--- retrieved:" in o)
    for transcript in (langchain, llamaindex):
        turns = transcript.split("=== user: ")[1:]
        assert [t.splitlines()[0] for t in turns] == list(QUESTIONS)
        for turn in turns:
            context, answer = turn.split("=== assistant:")
            assert CITATION.findall(context), turn
            assert CITATION.findall(answer), turn
    assert "retry_with_backoff" in langchain.split("=== assistant:")[0]


def test_notebook_is_stored_with_the_outputs_of_a_real_run():
    """The committed outputs come from running it on this repository: every code cell ran in
    order without an error, each turn shows cited context, and every cited file exists here.
    (The test above re-runs it, so what it shows stays true.)"""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    cells = [c for c in nb.cells if c.cell_type == "code"]
    assert [c.execution_count for c in cells] == list(range(1, len(cells) + 1))
    assert not [o for c in cells for o in c.outputs if o.output_type == "error"]
    outputs = [cell_text(c) for c in cells]
    langchain = next(o for o in outputs if "--- code_search(" in o)
    llamaindex = next(o for o in outputs if "--- retrieved:" in o)
    root = EXAMPLES.parent
    for transcript in (langchain, llamaindex):
        turns = transcript.split("=== user: ")[1:]
        assert len(turns) == 3
        for turn in turns:
            cited = CITATION.findall(turn.split("=== assistant:")[0])
            assert cited, turn
    for match in CITATION.finditer(langchain + llamaindex):
        assert (root / match.group(0).split(":")[0]).is_file(), match.group(0)
