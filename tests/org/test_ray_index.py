"""Embedding on a real local Ray cluster (one per module: it takes seconds to start)."""

from __future__ import annotations

import functools
import logging
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from c2rag.encode.engine import Encoder
from c2rag.errors import C2RAGError
from c2rag.index import CodeIndex
from c2rag.org import OrgIndex
from c2rag.org.ray_embed import RayEmbedding, RaySettings
from c2rag.store.cache import EmbeddingCache
from tests.org.conftest import assert_same_index, functions, snapshot

ray = pytest.importorskip("ray")

pytestmark = [pytest.mark.ray, pytest.mark.timeout(300)]

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def ray_address() -> str:
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        _node_ip_address="127.0.0.1",
        logging_level=logging.WARNING,
        # workers import c2rag from this checkout, as the driver does
        runtime_env={"env_vars": {"PYTHONPATH": os.pathsep.join([str(ROOT), *sys.path])}},
    )
    try:
        yield ray.get_runtime_context().gcs_address
    finally:
        ray.shutdown()


def _ray(address: str, model: Path, encoder: Encoder, **settings: int) -> RayEmbedding:
    embedding = RayEmbedding(RaySettings(address=address, **settings))
    embedding.use(functools.partial(Encoder, str(model), device="cpu", dtype="fp32"), encoder)
    return embedding


def _reference(repos, encoder: Encoder, tmp_path: Path) -> None:
    for repo in repos:
        CodeIndex(repo.root, encoder=encoder, store_dir=tmp_path / f"ref-{repo.root.name}").update()


def test_ray_index_is_the_single_process_index(
    ray_address, two_repos, tiny_encoder, tiny_c2llm_dir, tmp_path: Path
) -> None:
    embedding = _ray(
        ray_address, tiny_c2llm_dir, tiny_encoder, actors=2, threads=1, batch_tokens=256
    )
    try:
        report = OrgIndex(
            [r.root for r in two_repos],
            encoder=tiny_encoder,
            store_dir=tmp_path / "org",
            ray=embedding,
        ).update()
    finally:
        embedding.close()
    assert report.backend == "ray"
    assert report.actors == 2
    assert not report.failed
    assert report.texts_planned > report.texts_unique == report.texts_embedded
    assert report.tokens_embedded > 0
    _reference(two_repos, tiny_encoder, tmp_path)
    for repo in two_repos:
        assert_same_index(
            snapshot(repo.root, tmp_path / "org"),
            snapshot(repo.root, tmp_path / f"ref-{repo.root.name}"),
        )


def test_killed_ray_job_resumes_embedding_only_what_is_missing(
    ray_address, two_repos, make_repo, tiny_encoder, tiny_c2llm_dir, tmp_path: Path
) -> None:
    big = make_repo("big", files={f"m{i}.py": functions(f"m{i}", 60) for i in range(4)})
    repos = [*two_repos, big]
    store = tmp_path / "org"
    command = [sys.executable, "-m", "c2rag", "-v", "index", *(str(r.root) for r in repos)]
    command += ["--store", str(store), "-m", str(tiny_c2llm_dir), f"--ray={ray_address}"]
    command += ["--ray-actors", "1", "--ray-threads", "1", "--ray-batch-tokens", "128"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), *sys.path])}
    driver = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=env)
    seen = []
    assert driver.stderr is not None
    for line in driver.stderr:
        seen.append(line)
        if "embedded batch 1/" in line:
            driver.send_signal(signal.SIGKILL)
            # progress across the cluster, on the driver: tokens, tokens/s, time left
            assert re.search(r"batch 1/\d+: \d+/\d+ tokens, \d+ tokens/s, ETA \d+s", line)
            break
    driver.wait(timeout=60)
    assert driver.returncode == -signal.SIGKILL, "".join(seen[-20:])
    with EmbeddingCache(store / "embeddings.sqlite") as cache:
        cached_before = len(cache)

    embedding = _ray(
        ray_address, tiny_c2llm_dir, tiny_encoder, actors=1, threads=1, batch_tokens=128
    )
    try:
        report = OrgIndex(
            [r.root for r in repos], encoder=tiny_encoder, store_dir=store, ray=embedding
        ).update()
    finally:
        embedding.close()
    assert 0 < cached_before < report.texts_unique
    assert report.cache_hits == cached_before
    assert report.texts_embedded == report.texts_unique - cached_before
    _reference(repos, tiny_encoder, tmp_path)
    for repo in repos:
        assert_same_index(
            snapshot(repo.root, store), snapshot(repo.root, tmp_path / f"ref-{repo.root.name}")
        )


def test_cli_without_verbose_shows_no_ray_data_chatter(
    ray_address, two_repos, tiny_c2llm_dir, tmp_path: Path
) -> None:
    command = [sys.executable, "-m", "c2rag", "index", str(two_repos[0].root)]
    command += ["--store", str(tmp_path / "org"), "-m", str(tiny_c2llm_dir)]
    command += [f"--ray={ray_address}", "--ray-actors", "1", "--ray-threads", "1"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), *sys.path])}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=240)
    assert done.returncode == 0, done.stderr
    assert "in Ray, 1 actors" in done.stdout
    for chatter in ("Starting execution", "Execution plan", "Progress bars disabled"):
        assert chatter not in done.stderr, done.stderr


def test_each_finished_batch_is_cached_before_the_next_one_is_embedded(
    ray_address, tiny_encoder, tiny_c2llm_dir, tmp_path: Path
) -> None:
    from tests.org.gated_encoder import GatedEncoder

    cache_path = tmp_path / "cache.sqlite"
    embedding = RayEmbedding(RaySettings(address=ray_address, actors=1, threads=1, batch_tokens=64))
    # the actor embeds batch n only once the driver holds batches 1..n-1 in the cache
    embedding.use(
        functools.partial(
            GatedEncoder, str(tiny_c2llm_dir), cache_path=str(cache_path), dtype="fp32"
        ),
        tiny_encoder,
    )
    texts = {f"h{i}": f"def f{i}(x):\n    return x + {i}\n" * (1 + i % 3) for i in range(12)}
    try:
        with EmbeddingCache(cache_path) as cache:
            stats = embedding.embed_into(cache, texts)
            assert stats.batches >= 3
            assert len(cache) == len(texts)
    finally:
        embedding.close()


def test_actors_with_another_encoder_are_refused_before_anything_is_cached(
    ray_address, tiny_encoder, tiny_c2llm_dir, tmp_path: Path
) -> None:
    embedding = RayEmbedding(RaySettings(address=ray_address, actors=1, threads=1))
    # a shorter window is another fingerprint: vectors that would not match the index
    embedding.use(functools.partial(Encoder, str(tiny_c2llm_dir), max_length=64), tiny_encoder)
    with EmbeddingCache(tmp_path / "cache.sqlite") as cache:
        with pytest.raises(C2RAGError, match="fingerprint") as caught:
            embedding.embed_into(cache, {"h1": "def f():\n    return 1\n"})
        assert len(cache) == 0
    assert tiny_encoder.fingerprint in str(caught.value)
    embedding.close()
