"""The index measures its channels per language, and fusion sets lexical floors from it."""

from __future__ import annotations

from pathlib import Path

import pytest

from c2rag.retrieve.fusion import FusionWeights, QueryEvidence, adaptive_fuse
from c2rag.store.manifest import Calibration, ChannelCalibration, Manifest
from c2rag.types import Chunk
from tests.fixtures.repos import init_repo

# Twenty documented functions of one small library: each docstring's first sentence is what
# the calibration searches for, with the docstring removed from the function.
_TOPICS = [
    ("parse_retry_after", "header", "Parse the retry after header into seconds"),
    ("compress_payload", "data", "Compress a payload with zlib before upload"),
    ("load_config", "path", "Read the configuration file from the user's home directory"),
    ("render_table", "rows", "Render rows of values as an aligned text table"),
    ("hash_password", "password", "Derive a salted hash of a password for storage"),
    ("open_socket", "host", "Open a TCP connection to the given host and port"),
    ("slugify_title", "title", "Turn an article title into a lowercase URL slug"),
    ("merge_intervals", "intervals", "Merge overlapping numeric intervals into disjoint ones"),
    ("read_csv_rows", "stream", "Iterate over the rows of a CSV stream as dictionaries"),
    ("send_email", "message", "Deliver an email message through the SMTP relay"),
    ("resize_image", "image", "Scale an image down so its longest side fits a limit"),
    ("tokenize_words", "text", "Split free text into lowercase word tokens"),
    ("schedule_job", "job", "Queue a background job to run after a delay"),
    ("validate_email", "address", "Check that an email address has a valid shape"),
    ("format_bytes", "count", "Format a byte count as a human readable size"),
    ("retry_request", "request", "Send an HTTP request again after transient failures"),
    ("checksum_file", "path", "Compute the SHA-256 digest of a file on disk"),
    ("parse_iso_date", "value", "Parse an ISO 8601 date string into a date object"),
    ("mask_secret", "token", "Hide all but the last four characters of a token"),
    ("flatten_dict", "nested", "Flatten nested dictionaries into dotted keys"),
]


def _module(documented: bool, variant: str = "") -> str:
    out = []
    for name, arg, doc in _TOPICS:
        name, doc = name + variant, doc + (f" ({variant.strip('_')} variant)" if variant else "")
        body = f'    """{doc}.\n\n    More detail follows here.\n    """\n' if documented else ""
        out.append(
            f"def {name}({arg}):\n{body}    result = [{arg}]\n"
            f"    for item in result:\n        result.append(str(item))\n    return result\n"
        )
    return "\n\n".join(out)


def _indexed(tmp_path: Path, encoder, *, documented: bool, calibrate: bool = True):
    """A repository of one module of ``_TOPICS``, indexed with MiniLM."""
    from c2rag.index import CodeIndex

    repo = init_repo(tmp_path / "repo", files={"lib/util.py": _module(documented=documented)})
    index = CodeIndex(repo.root, encoder=encoder, store_dir=tmp_path / "store", calibrate=calibrate)
    return index, index.update()


def _retriever(root: Path, store: Path, encoder):
    from c2rag.retrieve import CodeRetriever
    from c2rag.store import IndexStore, StoreLocation

    location = StoreLocation.for_repo(root, store_dir=store)
    return CodeRetriever(IndexStore.open(location), encoder)


def test_floors_follow_the_measured_ratio() -> None:
    weights = FusionWeights(lexical_base=0.1, floor_slope=2.0, floor_pivot=0.9, floor_max=1.2)
    floors = weights.lexical_floors({"python": 0.7, "rust": 1.2, "c": 3.0})
    assert floors["python"] == pytest.approx(0.1)  # read well by the embedding: the base
    assert floors["rust"] == pytest.approx(0.1 + 2.0 * 0.3)
    assert floors["c"] == pytest.approx(1.2)  # capped
    assert FusionWeights(adaptive=False).lexical_floors({"rust": 2.0}) == {}
    assert FusionWeights(floor_slope=0.0).lexical_floors({"rust": 2.0}) == {}
    with pytest.raises(ValueError, match="floor_slope"):
        FusionWeights(floor_slope=-1.0)


def test_a_calibrated_language_gets_more_say_from_bm25() -> None:
    rankings = {
        "dense": [("py", 0.80), ("rs", 0.60), ("x", 0.50)],
        "lexical": [("rs", 9.0), ("py", 8.9), ("y", 1.0)],
    }
    params = FusionWeights()
    plain = {f.id: f for f in adaptive_fuse(rankings, QueryEvidence(), params)}
    floors = {"rs": 1.0}
    tuned = {f.id: f for f in adaptive_fuse(rankings, QueryEvidence(), params, floor_of=floors.get)}
    assert tuned["rs"].contributions["lexical"] > plain["rs"].contributions["lexical"]
    assert tuned["py"].contributions == plain["py"].contributions  # no floor: unchanged
    assert plain["py"].score > plain["rs"].score
    assert tuned["rs"].score > tuned["py"].score


def test_the_manifest_keeps_the_calibration() -> None:
    calibration = Calibration({"rust": ChannelCalibration(40, 0.25, 0.4)}, chunks=1000)
    manifest = Manifest(fingerprint="f", dim=4, model_name="m", chunker_version="v")
    back = Manifest.from_metadata(
        Manifest(**{**manifest.__dict__, "calibration": calibration}).to_metadata()
    )
    assert back is not None and back.calibration == calibration
    assert back.calibration.languages["rust"].lexical_ratio == pytest.approx(1.6)
    old = Manifest.from_metadata(manifest.to_metadata())  # written before calibration
    assert old is not None and old.calibration is None
    assert calibration.outdated(1600) and not calibration.outdated(1400)


def test_lexical_score_of_an_outside_chunk_matches_an_indexed_one(tmp_path: Path) -> None:
    from c2rag.store.lexical import LexicalIndex

    def chunk(name: str, text: str) -> Chunk:
        return Chunk(path=f"{name}.py", language="python", kind="function", name=name,
                     start_line=1, end_line=3, text=text, signature=f"def {name}()")  # fmt: skip

    lexical = LexicalIndex(tmp_path)
    target = chunk("retry_upload", "def retry_upload():\n    backoff = 2\n    return backoff")
    lexical.upsert([("a", target), ("b", chunk("other", "def other():\n    return 1"))])
    tokens = ["retry", "upload", "backoff"]
    row = lexical.row_ids.index("a")
    assert lexical.score_chunk(tokens, target) == pytest.approx(float(lexical.scores(tokens)[row]))
    assert lexical.score_chunk(["nothing"], target) == 0.0


def test_an_index_measures_its_documented_functions(tmp_path: Path, minilm_encoder) -> None:
    from c2rag.calibrate import MIN_QUERIES, measure_channels
    from c2rag.store.vectors import VectorSource

    index, report = _indexed(tmp_path, minilm_encoder, documented=True)
    store = tmp_path / "store"
    assert report.calibration_seconds is not None and report.calibration_seconds > 0
    assert "channels measured on documented functions in" in report.summary()
    with _retriever(index.repo_root, store, minilm_encoder) as r:
        calibration = r.store.manifest.calibration
        assert calibration is not None and set(calibration.languages) == {"python"}
        python = calibration.languages["python"]
        assert python.queries == len(_TOPICS) >= MIN_QUERIES
        assert 0.0 < python.dense_mrr <= 1.0 and 0.0 < python.lexical_mrr <= 1.0
        assert set(r.lexical_floors()) == {"python"}
        # every question left out: nothing to measure on
        chunker = index._chunker(minilm_encoder)
        files = {"lib/util.py": _module(documented=True)}
        names = {("lib/util.py", name) for name, _, _ in _TOPICS}
        vectors = VectorSource(r.store.cache, minilm_encoder)
        empty = measure_channels(
            r.store.collection, r.lexical, vectors, chunker, files.get, exclude=names
        )
        assert empty.languages == {}
    assert "channels on documented functions, dense / BM25 MRR@10: python" in (
        index.status().summary()
    )
    # measured once: an update that finds nothing new keeps it
    assert index.update().calibration_seconds is None
    with _retriever(index.repo_root, store, minilm_encoder) as r:
        assert r.store.manifest.calibration == calibration
    # measuring again on demand reads the indexed files from git and finds the same
    assert index.calibrate() == calibration

    def unreadable(path: str) -> str:
        raise OSError(f"cannot read {path}")

    # a measurement that fails keeps the last one and loses nothing stored
    assert index.calibrate(unreadable) == calibration
    with _retriever(index.repo_root, store, minilm_encoder) as r:
        assert r.store.manifest.calibration == calibration
        assert r.search("parse the retry after header", k=1)


def test_calibrating_an_unindexed_repository_says_so(tmp_path: Path, minilm_encoder) -> None:
    from c2rag.errors import IndexNotFoundError
    from c2rag.index import CodeIndex

    repo = init_repo(tmp_path / "repo", files={"lib/util.py": _module(documented=True)})
    index = CodeIndex(repo.root, encoder=minilm_encoder, store_dir=tmp_path / "store")
    with pytest.raises(IndexNotFoundError):
        index.calibrate()


def test_stripped_files_calibrate_from_their_originals(tmp_path: Path, minilm_encoder) -> None:
    index, _ = _indexed(tmp_path, minilm_encoder, documented=False)
    store = tmp_path / "store"
    with _retriever(index.repo_root, store, minilm_encoder) as r:
        assert r.store.manifest.calibration == Calibration({}, chunks=r.store.collection.count())
        assert r.lexical_floors() == {}
    originals = {"lib/util.py": _module(documented=True)}
    measured = index.calibrate(originals.get, exclude={("lib/util.py", "parse_retry_after")})
    assert measured.languages["python"].queries == len(_TOPICS) - 1
    with _retriever(index.repo_root, store, minilm_encoder) as r:
        assert r.store.manifest.calibration == measured


def test_calibration_can_be_turned_off(tmp_path: Path, minilm_encoder) -> None:
    index, report = _indexed(tmp_path, minilm_encoder, documented=True, calibrate=False)
    assert report.calibration_seconds is None
    with _retriever(index.repo_root, tmp_path / "store", minilm_encoder) as r:
        assert r.store.manifest.calibration is None
        assert r.lexical_floors() == {}


def test_evaluation_calibrates_without_the_fold_it_scores(tmp_path: Path, minilm_encoder) -> None:
    from c2rag.eval_runner import (
        calibration_folds,
        calibrator,
        evaluate_configs,
        scratch_index,
        scratch_retriever,
    )
    from c2rag.retrieve.evaluate import docstring_cases

    originals = {
        "lib/util.py": _module(documented=True),
        "lib/batch.py": _module(documented=True, variant="_batch"),
    }
    stripped, cases = docstring_cases(originals)
    folds = calibration_folds(cases)
    assert len(folds) == 2 and sorted(c.name for f in folds for c in f) == sorted(
        c.name for c in cases
    )
    assert calibration_folds(list(reversed(cases)))[0] == list(reversed(folds[0]))
    seen: list[int] = []
    with scratch_retriever(stripped, tmp_path, minilm_encoder) as retriever:
        measure = calibrator(
            scratch_index(stripped, tmp_path, minilm_encoder), retriever, originals
        )

        def calibrate(fold) -> None:
            measure(fold)
            # the retriever reads the measurement that left this fold out
            calibration = retriever.store.manifest.calibration
            seen.append(calibration.languages["python"].queries)

        metrics = evaluate_configs(retriever, cases, calibrate=calibrate)
    assert seen == [len(cases) - len(folds[0]), len(cases) - len(folds[1])]
    assert all(m.n == len(cases) for m in metrics.values())
