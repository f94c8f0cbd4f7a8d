"""CodeIndex: a repository's files at a commit → function chunks → vectors → Chroma.

One update, under the store's write lock:

1. list the files of the commit from git objects (plus the working-tree overlay if asked);
2. pick the paths to look at: all of them for a first build, a branch new to the store or
   after an interrupted run; otherwise the paths ``git diff`` reports since the indexed commit
   (plus overlay paths, old and new);
3. note the update as pending in the manifest, then reconcile those paths
   (:class:`c2rag.store.sync.BranchSync`): chunk only files whose content has no complete
   record set, embed only texts missing from the cache and the store, write in batches;
4. bring the lexical index in step, and write the manifest last.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import sys
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from c2rag.errors import GitError, IndexNotFoundError
from c2rag.git import FileEntry, GitRepo
from c2rag.git.ignore import vendored_directories
from c2rag.git.secrets import ALLOWLIST_FILE, SecretMode, SecretScanner
from c2rag.index_report import IndexReport, IndexStatus
from c2rag.store import BranchState, IndexStore, Manifest, StoreLocation
from c2rag.store.chroma import ChromaWriter, get_all
from c2rag.store.faults import store_faults
from c2rag.store.manifest import Calibration, utc_now
from c2rag.store.records import branch_key
from c2rag.store.sync import BranchSync, FileState, SyncResult
from c2rag.store.vectors import VectorSource
from c2rag.store.views import DEFAULT_SIGNATURE_WEIGHT, SignatureView
from c2rag.types import Chunk

if TYPE_CHECKING:
    from c2rag.chunk import Chunker, ChunkPolicy
    from c2rag.store.lexical import LexicalIndex
    from c2rag.types import Embedder

__all__ = ["CodeIndex", "IndexReport", "IndexStatus"]

logger = logging.getLogger(__name__)

_PROMPT_MARGIN_TOKENS = 16


class CodeIndex:
    """The index of one git repository, kept in step with it by :meth:`update`.

    Args:
        repo_path: Any path inside the repository's work tree.
        encoder: The embedder; default: the model the index was built with, else
            :func:`c2rag.encode.defaults.resolve_default_model` (loaded on first update).
        model: Model name or path for the default encoder (ignored when ``encoder`` is given).
        store_dir: Local data directory (see :mod:`c2rag.store.location`).
        chroma_host: Keep the vectors on this Chroma server instead of embedded Chroma.
        chroma_port: The server's port (default 8000).
        max_tokens: Target chunk size in model tokens (capped at the model's max length).
        chunk_policy: What chunk texts hold (:class:`~c2rag.chunk.ChunkPolicy`; its
            defaults when ``None``). A different policy rebuilds the index.
        embed_batch_size: Texts per model call; each call's vectors are cached at once.
        write_batch_size: Records per Chroma call (capped at the client's maximum).
        show_progress: tqdm bars; default: when stderr is a terminal.
        secrets: What to do with a file in which detect-secrets finds a secret (see
            :mod:`c2rag.git.secrets`): ``skip`` a file holding a credential of a known
            format (reported with path, line and detector) and redact the lines of generic
            findings, ``redact`` every finding, or ``off``.
        signature_weight: Weight of a symbol's signature view (its name, signature and
            docstring embedded on their own) in the vector stored for each of its chunks
            (:mod:`c2rag.store.views`); ``0`` stores the text's vector alone. A different
            weight rebuilds the index from cached vectors.

    Example:
        >>> index = CodeIndex(".", model="path/to/C2LLM-0.5B")  # doctest: +SKIP
        >>> print(index.update().summary())                      # doctest: +SKIP
    """

    def __init__(
        self,
        repo_path: str | os.PathLike[str],
        *,
        encoder: Embedder | None = None,
        model: str | os.PathLike[str] | None = None,
        store_dir: str | os.PathLike[str] | None = None,
        chroma_host: str | None = None,
        chroma_port: int | None = None,
        max_tokens: int = 512,
        embed_batch_size: int = 64,
        write_batch_size: int | None = None,
        show_progress: bool | None = None,
        secrets: SecretMode = "skip",
        chunk_policy: ChunkPolicy | None = None,
        signature_weight: float = DEFAULT_SIGNATURE_WEIGHT,
        calibrate: bool = True,
    ) -> None:
        self.view = SignatureView(weight=signature_weight)  # a bad weight fails here
        self.calibrate_channels = calibrate
        with GitRepo(repo_path) as repo:
            root = repo.root
        self.location = StoreLocation.for_repo(
            root, store_dir=store_dir, host=chroma_host, port=chroma_port
        )
        self._encoder = encoder
        self._model = model
        # what the embedder was actually loaded from, so that the manifest can name it
        self._model_source: str | None = str(model) if model is not None else None
        self.max_tokens = max_tokens
        self.chunk_policy = chunk_policy
        self.embed_batch_size = embed_batch_size
        self.write_batch_size = write_batch_size
        self.show_progress = sys.stderr.isatty() if show_progress is None else show_progress
        SecretScanner(mode=secrets)  # a bad mode fails here, not mid-update
        self.secrets: SecretMode = secrets

    @property
    def repo_root(self) -> Path:
        """The repository's top directory."""
        return self.location.repo_root

    def open_store(self) -> IndexStore:
        """The built index, for reading.

        Raises:
            IndexNotFoundError: Nothing was indexed yet (the message says how to build it).
        """
        return IndexStore.open(self.location)

    def exists(self) -> bool:
        """Whether a finished index of this repository is at the location."""
        try:
            self.open_store().close()
        except IndexNotFoundError:
            return False
        return True

    # -- update ------------------------------------------------------------------------------

    def update(
        self,
        ref: str = "HEAD",
        *,
        worktree: bool = False,
        branch: str | None = None,
        rebuild: bool = False,
    ) -> IndexReport:
        """Index ``ref``: a full build the first time, then incrementally by ``git diff``.

        Args:
            ref: Branch, tag or commit to index.
            worktree: Also index modified and untracked (not ignored) working-tree files.
            branch: Label the records are flagged with; default: the checked-out branch
                for ``HEAD`` (``HEAD`` when detached), else ``ref`` itself.
            rebuild: Drop the stored index first (vectors stay in the cache).

        Raises:
            GitError: ``ref`` does not resolve.
            IndexLockedError: Another process is writing this index.
            IndexMismatchError: The index was built with another model or dimension.
        """
        with GitRepo(self.repo_root) as repo:
            label = branch or _branch_label(repo, ref)
            if not repo.has_commits():
                return IndexReport(
                    repo=str(self.repo_root),
                    store=self.location.describe(),
                    branch=label,
                    commit="",
                    mode="empty",
                    notes=["the repository has no commits yet; nothing was indexed"],
                )
            commit = repo.resolve(ref)
            # The lock comes before Chroma is opened for writing: two first-time indexers
            # would otherwise both create the collection's tables (one dies inside Chroma).
            with (
                store_faults(self.location, "write the index"),
                IndexStore.write_lock(self.location),
            ):
                store = IndexStore.open(self.location, create=True)
                try:
                    return self._update_locked(repo, store, commit, label, worktree, rebuild)
                finally:
                    store.close()

    def _update_locked(
        self,
        repo: GitRepo,
        store: IndexStore,
        commit: str,
        label: str,
        worktree: bool,
        rebuild: bool,
    ) -> IndexReport:
        manifest = store.reload()
        embedder = self._embedder(manifest)
        if rebuild:
            store.reset()
            manifest = None
        store.check_compatible(embedder)
        chunker = self._chunker(embedder)
        plan = self._plan(repo, store, manifest, label, commit, worktree)
        allow = self._allowlist(repo, plan.by_path)
        version = self._content_version(chunker, allow)
        if self._built_otherwise(manifest, chunker, allow):
            logger.warning(
                "the index was built with %s, this version builds %s (chunking, secret "
                "scanning, the secret allowlist or the signature view changed): rebuilding it "
                "(cached vectors are reused)",
                manifest.chunker_version,  # type: ignore[union-attr]
                version,
            )
            store.reset()
            manifest = None
            plan = self._plan(repo, store, manifest, label, commit, worktree)
        if manifest is not None and manifest.fingerprint != embedder.fingerprint:
            # the same model under an earlier version's fingerprint: write the current one
            manifest = replace(manifest, fingerprint=embedder.fingerprint)
        if manifest is None:
            manifest = Manifest(
                fingerprint=embedder.fingerprint,
                dim=embedder.dim,
                model_name=_model_name(embedder),
                model_ref=self._model_ref(embedder),
                chunker_version=version,
            )

        report, by_path, desired = plan.report, plan.by_path, plan.desired
        overlay_paths, paths, renamed = plan.overlay_paths, plan.paths, plan.renamed
        if report.mode == "up_to_date":
            report.chunks_total = store.collection.count()
            lexical = self._update_lexical(store, manifest, manifest, None)
            read = _reader(repo, by_path)
            measured = self._calibrated(
                store, lexical, manifest, embedder, chunker, read, report=report, when_due=True
            )
            if measured is not manifest:
                store.write_manifest(measured)
            return report

        store.write_manifest(manifest.with_pending(label, commit))
        sync = BranchSync(
            store.collection,
            ChromaWriter(store.collection, store.client, max_batch=self.write_batch_size),
            VectorSource(
                store.cache,
                embedder,
                # an empty store has no vectors to reuse
                collection=None if report.mode == "full" else store.collection,
                batch_size=self.embed_batch_size,
                show_progress=self.show_progress,
            ),
            branch=label,
            commit=commit,
            view=self.view,
            show_progress=self.show_progress,
        )
        load = _loader(repo, by_path, chunker, self._scanner(allow), report)
        result = sync.run(paths, desired, load, renamed=renamed, store_empty=report.mode == "full")
        report.add_sync(result)

        final = manifest.with_branch(
            label,
            BranchState(
                commit=commit, worktree_paths=tuple(sorted(overlay_paths)), indexed_at=utc_now()
            ),
        )
        lexical = self._update_lexical(store, manifest, final, result)
        report.chunks_total = store.collection.count()
        read = _reader(repo, by_path)
        final = self._calibrated(
            store, lexical, final, embedder, chunker, read, report=report, when_due=True
        )
        store.write_manifest(final)
        logger.info("%s", report.summary())
        return report

    def _plan(
        self,
        repo: GitRepo,
        store: IndexStore,
        manifest: Manifest | None,
        label: str,
        commit: str,
        worktree: bool,
    ) -> _Plan:
        """The files of ``commit`` (plus the working tree if asked) and the paths an update
        must check (every file when there is no ``manifest``: a first build or a rebuild);
        :meth:`status` reports the same counts :meth:`update` acts on."""
        report = IndexReport(
            repo=str(self.repo_root),
            store=self.location.describe(),
            branch=label,
            commit=commit,
            mode="full",
        )
        by_path, overlay_paths = _wanted_files(repo, commit, worktree, report)
        desired = {p: FileState(p, e.blob_sha, e.source) for p, e in by_path.items()}
        state = manifest.branches.get(label) if manifest is not None else None
        report.previous_commit = state.commit if state else None
        paths, renamed = self._paths_to_check(
            repo, store, manifest, label, commit, state, desired, overlay_paths, report
        )
        report.files_checked = len(paths)
        return _Plan(report, by_path, desired, overlay_paths, paths, renamed)

    def _built_otherwise(
        self, manifest: Manifest | None, chunker: Chunker, allow: str = ""
    ) -> bool:
        """Whether the stored index was chunked or scanned otherwise than this index would
        build it now (then it is rebuilt, from cached vectors)."""
        return manifest is not None and manifest.chunker_version != self._content_version(
            chunker, allow
        )

    def _content_version(self, chunker: Chunker, allow: str = "") -> str:
        """What decides the stored chunks and vectors besides the files and the model: the
        chunker's settings, the secret policy, the secret allowlist's text (turning scanning
        on, a detector moving from skip to redact, or a path leaving the allowlist must reach
        files that did not change) and the signature view."""
        return f"{chunker.version};{self._settings_version(allow)}"

    def _settings_version(self, allow: str = "") -> str:
        """The part of :meth:`_content_version` known without loading the model."""
        version = SecretScanner.policy(self.secrets)
        if self.view.version:
            version += f";{self.view.version}"
        if allow.strip() and self.secrets != "off":
            version += f";allow={hashlib.sha256(allow.encode()).hexdigest()[:12]}"
        return version

    @staticmethod
    def _allowlist(repo: GitRepo, by_path: dict[str, FileEntry]) -> str:
        """The text of the repository's secret allowlist among the files to index."""
        entry = by_path.get(ALLOWLIST_FILE)
        return repo.read(entry).decode("utf-8", "replace") if entry else ""

    def _scanner(self, allow: str) -> SecretScanner:
        """The secret scanner with the repository's allowlist."""
        return SecretScanner(allow, mode=self.secrets)

    def _paths_to_check(
        self,
        repo: GitRepo,
        store: IndexStore,
        manifest: Manifest | None,
        label: str,
        commit: str,
        state: BranchState | None,
        desired: dict[str, FileState],
        overlay_paths: set[str],
        report: IndexReport,
    ) -> tuple[set[str], dict[str, str]]:
        """Which files changed since the last run, so that an update looks at nothing else.

        The paths ``git diff`` reports from the commit indexed last for ``label`` to
        ``commit`` (plus working-tree files), or every file when there is no usable earlier
        run (a first build, an interrupted update, a commit gone from history). Returns the
        paths and the renames among them; sets ``report.mode``.
        """
        renamed: dict[str, str] = {}
        interrupted = manifest is not None and label in manifest.pending
        if state is not None and not interrupted and repo.commit_exists(state.commit):
            if state.commit == commit and not overlay_paths and not state.worktree_paths:
                report.mode = "up_to_date"
                return set(), renamed
            report.mode = "incremental"
            paths = set(overlay_paths) | set(state.worktree_paths)
            for change in repo.diff(state.commit, commit):
                paths.add(change.path)
                if change.old_path is not None:
                    paths.add(change.old_path)
                    if change.status == "R":
                        renamed[change.path] = change.old_path
            return paths, renamed
        if interrupted:
            report.notes.append(f"the previous update of {label} was interrupted; repairing it")
        elif state is not None:
            report.notes.append(
                f"indexed commit {state.commit[:12]} is no longer in the repository "
                f"(shallow clone or rewritten history); comparing every file"
            )
        if store.collection.count() == 0:
            report.mode = "full"
            return set(desired), renamed
        report.mode = "reconcile"
        return set(desired) | _paths_on_branch(store, label), renamed

    def calibrate(
        self,
        read: Callable[[str], str | None] | None = None,
        *,
        exclude: Collection[tuple[str, str]] = (),
    ) -> Calibration:
        """Measure the channels on the index's documented functions again and keep the result
        in the manifest (an update does this by itself when the index has no measurement or
        has grown or shrunk by half since).

        Args:
            read: Path → the file's text (default: the indexed commit's files, from git).
                A benchmark whose index was built from stripped files passes the originals.
            exclude: ``(path, qualified name)`` of functions not to measure on.

        Raises:
            IndexNotFoundError: Nothing was indexed yet.
        """
        with (
            GitRepo(self.repo_root) as repo,
            store_faults(self.location, "calibrate the index"),
            IndexStore.write_lock(self.location),
        ):
            store = IndexStore.open(self.location)  # raises when nothing was indexed
            try:
                manifest = store.reload()
                assert manifest is not None  # open() checked it
                embedder = self._embedder(manifest)
                if read is None:  # the checked-out branch's files, else any indexed branch's
                    state = manifest.branches.get(_branch_label(repo, "HEAD"))
                    commit = (state or next(iter(manifest.branches.values()))).commit
                    by_path = {e.path: e for e in repo.list_files(commit)[0]}
                    read = _reader(repo, by_path)
                chunker = self._chunker(embedder)
                updated = self._calibrated(
                    store, store.lexical, manifest, embedder, chunker, read, exclude
                )
                store.write_manifest(updated)
                return updated.calibration or Calibration({}, chunks=store.collection.count())
            finally:
                store.close()

    def _calibrated(
        self,
        store: IndexStore,
        lexical: LexicalIndex,
        manifest: Manifest,
        embedder: Embedder,
        chunker: Chunker,
        read: Callable[[str], str | None],
        exclude: Collection[tuple[str, str]] = (),
        *,
        report: IndexReport | None = None,
        when_due: bool = False,
    ) -> Manifest:
        """``manifest`` with a new measurement of the channels (see :mod:`c2rag.calibrate`);
        ``report`` says how long it took and what it found. ``when_due``: only when calibration
        is on and ``manifest`` has no measurement or the index grew or shrank by half since
        (``report.chunks_total``); ``manifest`` itself otherwise."""
        from c2rag.calibrate import measure_channels

        if when_due and report is not None:
            calibration = manifest.calibration
            due = calibration is None or calibration.outdated(report.chunks_total)
            if not (self.calibrate_channels and due):
                return manifest

        started = time.perf_counter()
        vectors = VectorSource(store.cache, embedder, collection=store.collection)
        try:
            calibration = measure_channels(
                store.collection,
                lexical,
                vectors,
                chunker,
                read,
                view=self.view,
                exclude=exclude,
            )
        except Exception as exc:  # an optional measurement never fails an update
            logger.warning("could not measure the channels (%s); fusion keeps its defaults", exc)
            return manifest
        if report is not None:
            report.calibration_seconds = time.perf_counter() - started
            if calibration.languages:
                report.notes.append(
                    f"channels measured on documented functions in "
                    f"{report.calibration_seconds:.1f} s, dense / BM25 MRR@10: "
                    + calibration.describe()
                )
        return replace(manifest, calibration=calibration)

    def _update_lexical(
        self, store: IndexStore, before: Manifest, after: Manifest, result: SyncResult | None
    ) -> LexicalIndex:
        """Apply this update to the lexical index, or rebuild it when it was not in step (also
        after an update that changed nothing: ``result`` is ``None``; a file written by an
        earlier version is read as out of step). Returns the index as saved."""
        from c2rag.store.lexical import LexicalIndex

        lexical = LexicalIndex.open(store.location.lexical_dir)
        if before.pending or lexical.generation != before.generation:
            return store.rebuild_lexical(after.generation, save=True)
        if result is None:
            return lexical
        lexical.delete(result.removed_ids)
        lexical.upsert(result.added)
        lexical.set_generation(after.generation)
        lexical.save()
        return lexical

    # -- status ------------------------------------------------------------------------------

    def status(self, ref: str = "HEAD", *, branch: str | None = None) -> IndexStatus:
        """The indexed commit of the branch against ``ref`` and the files changed since.

        Raises:
            IndexNotFoundError: Nothing was indexed yet.
        """
        from c2rag.encode.ecosystem import model_id_of

        store = self.open_store()
        manifest = store.manifest
        assert manifest is not None  # open() refuses an index without one
        try:
            with GitRepo(self.repo_root) as repo:
                label = branch or _branch_label(repo, ref)
                head = repo.resolve(ref) if repo.has_commits() else None
                state = manifest.branches.get(label)
                mode: str = "not_indexed"
                changed: list[str] = []
                rebuild = ""
                if head is not None and state is not None:
                    plan = self._plan(repo, store, manifest, label, head, worktree=False)
                    mode, changed = plan.report.mode, sorted(plan.paths)
                    settings = self._settings_version(self._allowlist(repo, plan.by_path))
                    if not manifest.chunker_version.endswith(f";{settings}"):
                        # secret policy, allowlist or signature view changed (the chunker's
                        # own settings need the model's tokenizer, which status never loads)
                        mode, changed = "full", sorted(plan.desired)
                        rebuild = (
                            f"the index was built with {manifest.chunker_version}; this "
                            f"configuration builds …;{settings}"
                        )
                uncommitted: list[str] = []
                if ref == "HEAD":
                    overlay, deleted, _ = repo.worktree_overlay(head)
                    uncommitted = sorted({e.path for e in overlay} | set(deleted))
            return IndexStatus(
                repo=str(self.repo_root),
                store=self.location.describe(),
                branch=label,
                head_commit=head,
                indexed_commit=state.commit if state else None,
                files_changed=changed,
                update_mode=mode,
                uncommitted=uncommitted,
                worktree_indexed=list(state.worktree_paths) if state else [],
                model_name=manifest.model_name,
                model_ref=manifest.model_ref or "",
                model_id=model_id_of(manifest.model_ref) if manifest.model_ref else None,
                dim=manifest.dim,
                chunks=store.collection.count(),
                branches={b: s.commit for b, s in manifest.branches.items()},
                updated_at=manifest.updated_at,
                interrupted=label in manifest.pending,
                rebuild_reason=rebuild,
                calibration=manifest.calibration,
            )
        finally:
            store.close()

    # -- parts -------------------------------------------------------------------------------

    def _embedder(self, manifest: Manifest | None) -> Embedder:
        if self._encoder is None:
            from c2rag.encode.engine import Encoder

            model = self._model
            if model is None and manifest is not None:
                model = manifest.model_ref or manifest.model_name
            if model is None:
                from c2rag.encode.defaults import resolve_default_model

                default = resolve_default_model()  # warns itself about a fallback
                logger.info("%s", default.message)
                model = default.name_or_path
            self._model_source = str(model)
            self._encoder = Encoder(model)
        return self._encoder

    def _model_ref(self, embedder: Embedder) -> str:
        """What to load the same model from later: the path or id this object was given
        (local paths made absolute), else the embedder's own name."""
        if self._model_source is None:
            # an embedder passed in: its own source if it has one (c2rag's Encoder does)
            return str(getattr(embedder, "source", None) or _model_name(embedder))
        path = Path(self._model_source).expanduser()
        return str(path.resolve()) if path.exists() else self._model_source

    def _chunker(self, embedder: Embedder) -> Chunker:
        from c2rag.chunk import Chunker

        # count_tokens excludes special tokens and the document prompt, which share the
        # model's window: leave them room so that no chunk is truncated by the encoder.
        limit = max(32, embedder.max_length - _PROMPT_MARGIN_TOKENS)
        return Chunker(
            count_tokens=embedder.count_tokens,
            max_tokens=min(self.max_tokens, limit),
            hard_max_tokens=limit,
            tokenizer_id=_model_name(embedder),
            policy=self.chunk_policy,
        )


@dataclass(frozen=True)
class _Plan:
    """What an update of one commit starts from (see :meth:`CodeIndex._plan`)."""

    report: IndexReport
    by_path: dict[str, FileEntry]
    desired: dict[str, FileState]
    overlay_paths: set[str]
    paths: set[str]
    """Paths to compare with the store: the ``git diff`` since the indexed commit (old and new
    names of renames, working-tree paths), or every file for a full build or a reconcile."""
    renamed: dict[str, str]


def _wanted_files(
    repo: GitRepo, commit: str, worktree: bool, report: IndexReport
) -> tuple[dict[str, FileEntry], set[str]]:
    """The files ``commit`` (plus the working-tree overlay) should have indexed, by path, and
    the overlay's paths; records skipped files and the count seen in ``report``."""
    entries, skipped = repo.list_files(commit)
    report.files_skipped += [(s.path, s.reason) for s in skipped]
    by_path: dict[str, FileEntry] = {e.path: e for e in entries}
    overlay_paths: set[str] = set()
    if worktree:
        overlay, deleted, overlay_skipped = repo.worktree_overlay(commit)
        by_path.update((e.path, e) for e in overlay)
        for path in deleted:
            by_path.pop(path, None)
        overlay_paths = {e.path for e in overlay} | set(deleted)
        report.files_skipped += [(s.path, s.reason) for s in overlay_skipped]
    report.files_seen = len(by_path)
    report.vendored_dirs = vendored_directories(
        path for path, reason in report.files_skipped if reason == "vendored"
    )
    return by_path, overlay_paths


def _reader(repo: GitRepo, by_path: dict[str, FileEntry]) -> Callable[[str], str | None]:
    """Path → the text of the file as indexed (``None`` for a path not in ``by_path``)."""

    def read(path: str) -> str | None:
        entry = by_path.get(path)
        return repo.read(entry).decode("utf-8", "replace") if entry is not None else None

    return read


def _model_name(embedder: Embedder) -> str:
    return str(getattr(embedder, "model_name", type(embedder).__name__))


def _branch_label(repo: GitRepo, ref: str) -> str:
    """The label records are flagged with: the checked-out branch for ``HEAD``, else ``ref``."""
    if ref == "HEAD":
        return repo.current_branch() or "HEAD"
    return ref


def _paths_on_branch(store: IndexStore, label: str) -> set[str]:

    return {
        str(m["path"]) for _, _, m in get_all(store.collection, where={branch_key(label): True})
    }


def _loader(
    repo: GitRepo,
    by_path: dict[str, FileEntry],
    chunker: Chunker,
    scanner: SecretScanner,
    report: IndexReport,
):  # -> LoadChunks
    def load(state: FileState) -> tuple[list[Chunk], str | None]:
        entry = by_path[state.path]
        try:
            data = repo.read(entry)
        except GitError as exc:
            logger.warning("skipping %s: %s", state.path, exc)
            return [], "unreadable"
        # A lock file's checksums or a minified bundle would only raise false alarms below
        if reason := chunker.skip_reason(entry.path, data):
            return [], reason
        # before chunking: a secret never reaches the chunker, the model or the store
        checked, findings = scanner.check(entry.path, data)
        where = ", ".join(f"line {f.line} ({f.detector})" for f in findings)
        if checked is None:
            return [], f"secret: {where}"
        if findings:
            report.files_flagged.append((entry.path, f"secret redacted: {where}"))
        data = checked
        chunked = chunker.chunk(entry.path, data)
        if chunked.skipped:
            return [], chunked.skipped
        report.files_flagged += [(entry.path, flag) for flag in chunked.flags]
        # Records carry the path exactly as git names it (the chunker spells a backslash as
        # "/"), so that update, delete, search and open_chunk find the file again.
        return [
            c if c.path == entry.path else dataclasses.replace(c, path=entry.path)
            for c in chunked.chunks
        ], None

    return load
