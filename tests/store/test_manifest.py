from __future__ import annotations

from c2rag.store.manifest import BranchState, Manifest


def test_manifest_round_trips_through_flat_metadata() -> None:
    manifest = Manifest(fingerprint="fp", dim=8, model_name="m", chunker_version="c1")
    manifest = manifest.with_pending("main", "a" * 40)
    manifest = manifest.with_branch("main", BranchState("a" * 40, ("x.py",), "now"))
    metadata = manifest.to_metadata()
    assert all(isinstance(v, (str, int, float, bool)) for v in metadata.values())
    back = Manifest.from_metadata(metadata)
    assert back == manifest
    assert back is not None
    assert back.pending == {}
    assert back.branches["main"].worktree_paths == ("x.py",)


def test_generations_never_repeat_and_count_up() -> None:
    manifest = Manifest(fingerprint="fp", dim=8, model_name="m", chunker_version="c1")
    first = manifest.with_branch("main", BranchState("a" * 40))
    second = first.with_branch("dev", BranchState("b" * 40))
    assert first.generation is not None
    assert second.generation is not None
    assert first.generation.startswith("1-")
    assert second.generation.startswith("2-")
    assert set(second.branches) == {"main", "dev"}
    again = manifest.with_branch("main", BranchState("a" * 40))
    assert again.generation != first.generation
    dropped = second.with_branch("x", BranchState("c" * 40), drop=True)
    assert set(dropped.branches) == {"x"}


def test_no_manifest_in_foreign_metadata() -> None:
    assert Manifest.from_metadata(None) is None
    assert Manifest.from_metadata({"other": 1}) is None
