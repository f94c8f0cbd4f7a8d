"""The model-mismatch error prints commands that work as printed: the model by the path it
loads from, and the --store in use (issue #10, item 9, first half)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from c2rag.cli import cli
from c2rag.index import CodeIndex
from tests.index.conftest import PROJECT


def test_both_commands_in_the_hint_run_as_printed(
    make_repo: Any, tiny_encoder: Any, tiny_c2llm_dir: Path, minilm_dir: Path, tmp_path: Path
) -> None:
    repo = make_repo(files=PROJECT)
    store = tmp_path / "my store"  # a space: the printed commands must quote it
    CodeIndex(repo.root, model=tiny_c2llm_dir, store_dir=store).update()
    runner = CliRunner()
    args = ["search", "shout", str(repo.root), "--store", str(store), "--model", str(minilm_dir)]
    refused = runner.invoke(cli, args)
    assert refused.exit_code == 1
    assert "Traceback" not in refused.output
    message = refused.output.strip().splitlines()[-1]  # after any model-loading bar
    assert message.startswith("Error: "), refused.output
    keep = re.search(r"pass `--model ([^`]+)`", message)
    rebuild = re.search(r"`(c2rag index [^`]+)`", message)
    assert keep and rebuild, message

    kept = runner.invoke(cli, [*args[:-1], *shlex.split(keep.group(1))])
    assert kept.exit_code == 0 and "shout" in kept.output, kept.output
    rebuilt = runner.invoke(cli, shlex.split(rebuild.group(1))[1:])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert runner.invoke(cli, args).exit_code == 0  # the new model now fits the index
