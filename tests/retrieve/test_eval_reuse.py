"""``c2rag eval`` reuses the repository index's vectors and says what it will cost first."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from c2rag.cli import cli
from c2rag.eval_runner import EvalCost, code_files, docstring_eval
from c2rag.store import StoreLocation
from tests.index.embedders import CountingEmbedder


def test_scratch_index_embeds_only_what_the_stripping_changed(
    codeqa_index, minilm_encoder, tmp_path: Path
) -> None:
    from c2rag.index import CodeIndex

    files = code_files(codeqa_index.root)
    # an index that was not calibrated: calibrating embeds the documented functions without
    # their docs, which is what the scratch index needs, and would leave it nothing to embed
    own = tmp_path / "own"
    CodeIndex(codeqa_index.root, encoder=minilm_encoder, store_dir=own, calibrate=False).update()
    cache = StoreLocation.for_repo(codeqa_index.root, store_dir=own).cache_path
    counting = CountingEmbedder(minilm_encoder)
    costs: list[EvalCost] = []
    results = docstring_eval(
        files, counting, tmp_path / "eval", max_cases=8, reuse_cache=cache, on_cost=costs.append
    ).results
    [cost] = costs
    assert results and 0 < cost.reused < cost.texts  # unchanged functions come from the cache
    assert len(set(counting.texts)) == cost.texts - cost.reused  # and nothing else is embedded
    assert cost.tokens_per_second and cost.tokens_per_second > 0

    counting.reset()
    fresh: list[EvalCost] = []
    docstring_eval(files, counting, tmp_path / "cold", max_cases=8, on_cost=fresh.append)
    assert fresh[0].reused == 0 and len(set(counting.texts)) == fresh[0].texts


def test_eval_says_the_cost_first_and_reads_the_table(
    codeqa_index, minilm_encoder, tmp_path: Path
) -> None:
    from c2rag.index import CodeIndex

    own = tmp_path / "own"  # not calibrated: the stripped functions are still to embed
    CodeIndex(codeqa_index.root, encoder=minilm_encoder, store_dir=own, calibrate=False).update()
    args = ["eval", str(codeqa_index.root), "--store", str(own)]
    result = CliRunner().invoke(cli, [*args, "--max-queries", "6"])
    assert result.exit_code == 0, result.output
    assert "reused from cached vectors" in result.stderr and "tokens/s (measured now)" in (
        result.stderr
    )
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith("Reading: ") and "MRR@10" in last and "single channel" in last
