"""CodeRetriever: hybrid search of one indexed repository for a question or a conversation."""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from c2rag.retrieve.arrange import (
    Arranged,
    arrange,
    asks_for_prose,
    asks_for_tests,
    explains_module,
    named_first,
    symbol_key,
    symbol_parts,
    whole_definition,
)
from c2rag.retrieve.channels import (
    Mention,
    dense_channel,
    dialogue_mentions,
    identifier_share,
    lexical_channel,
    lexical_tokens,
    symbol_channel,
)
from c2rag.retrieve.dialogue import (
    DialogueQuery,
    HistoryOrder,
    as_turns,
    build_query,
    cap_turns,
)
from c2rag.retrieve.evidence import (
    ReportEvidence,
    dense_window,
    extract_evidence,
    lexical_query,
)
from c2rag.retrieve.filters import (
    CompiledFilters,
    Scope,
    SearchFilters,
    compile_filters,
    emptied_by,
)
from c2rag.retrieve.fusion import Fused, FusionWeights, QueryEvidence, fuse
from c2rag.retrieve.neighbours import callees, callers, names_in_text
from c2rag.retrieve.snapshot import cited_commit, default_snapshot
from c2rag.store.follow import IndexFollower
from c2rag.store.lexical import LexicalIndex
from c2rag.store.store import IndexStore
from c2rag.store.symbols import SymbolTable, short_name
from c2rag.types import Citation, Embedder, Hit

if TYPE_CHECKING:
    from c2rag.retrieve.localize import Localization

__all__ = ["CodeRetriever", "SearchResult", "order_candidates", "query_evidence"]

logger = logging.getLogger(__name__)

# Tokens kept free of the query text for the instruction prompt the encoder prepends.
_PROMPT_ALLOWANCE = 48
# A question is about named code when at least this share of its words are code names.
_CODE_QUERY_SHARE = 0.25
# Score multiplier for documentation, configuration/data files and module remainders when the
# question is not about them (0.3 chosen on whole repositories of the tuning packages, where
# docs pages and test fixtures are indexed beside the code; see docs/concepts/retrieval.md).
_PROSE_PENALTY = 0.3
# Score multiplier for test code when the question is not about tests.
_TEST_PENALTY = 0.6
# Longest question (characters) the lexical and symbol channels read; longer is cut, noted.
_MAX_QUERY_CHARS = 32_000


@dataclass(frozen=True)
class SearchResult:
    """Hits with how they were found.

    Attributes:
        hits: Fused results, best first (then neighbours, when asked for).
        query: The query as the channels saw it.
        rankings: Each channel's own ranking (ids and raw scores).
        notes: Adjustments made to the query (truncation, dropped turns).
        has_identifiers: Whether the query is mostly about named code (selects the fusion
            weights; see :func:`c2rag.retrieve.channels.identifier_share`).
    """

    hits: list[Hit]
    query: DialogueQuery
    rankings: dict[str, list[tuple[str, float]]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    has_identifiers: bool = False


def query_evidence(latest: str, *, multi_turn: bool, hinted: bool = False) -> QueryEvidence:
    """What fusion knows of a query besides the rankings, from its latest question."""
    share = identifier_share(latest)
    return QueryEvidence(share, multi_turn, share >= _CODE_QUERY_SHARE, hinted=hinted)


def order_candidates(
    rankings: Mapping[str, Sequence[tuple[str, float]]],
    evidence: QueryEvidence,
    weights: FusionWeights,
    symbols: SymbolTable,
    *,
    k: int,
    about_prose: bool,
    explained: Callable[[Sequence[Fused]], Collection[str]],
    about_tests: bool = False,
    floors: Mapping[str, float] | None = None,
) -> list[Arranged]:
    """The order a search returns, from the channels' rankings: fusion, one slot per symbol
    with the prose/data penalty (unless the question is about prose) and the test-code penalty
    (unless it is about tests), then the symbols the question names exactly.

    Args:
        explained: Given the leading fused candidates, the module chunks among them whose
            docstring explains their file (exempt from the penalty).
        floors: Language → calibrated lexical floor (:meth:`FusionWeights.lexical_floors`).
    """
    floor_of = None
    if floors:

        def floor_of(cid: str) -> float | None:
            info = symbols.get(cid)
            return floors.get(info.language) if info is not None else None

    fused = fuse(rankings, evidence, weights, depth=max(weights.depth, k), floor_of=floor_of)
    penalty = 1.0 if about_prose or not weights.adaptive else _PROSE_PENALTY
    arranged = arrange(
        fused,
        symbols,
        k=k,
        prose_penalty=penalty,
        explained=explained(fused[: 3 * k]) if penalty != 1.0 else (),
        test_penalty=1.0 if about_tests or not weights.adaptive else _TEST_PENALTY,
    )
    return named_first(arranged, rankings.get("symbol", []), evidence.identifier_share)


def _copies(ids: Sequence[str], symbols: SymbolTable, commit: str) -> tuple[Citation, ...]:
    """Citations of the same code in other files, one per file (its best ranked part)."""
    out: dict[str, Citation] = {}
    for cid in ids:
        info = symbols.get(cid)
        if info is not None and info.path not in out:
            out[info.path] = Citation(info.path, info.start_line, info.end_line, commit)
    return tuple(out.values())


class CodeRetriever:
    """Hybrid (dense + BM25 + symbol) search over a c2rag index of one repository.

    Args:
        store: An open :class:`c2rag.store.IndexStore`.
        encoder: The embedder the index was built with (checked against the index).
        repo: The repository, used to cut exact lines for citations; optional.
        weights: Channel weights for fusion.
        single_turn_task: Encoder task (prompt) for a lone question.
        multi_turn_task: Encoder task for a conversation (C2LLM's CodeFeedbackMT prompt).
        history_order: How the kept turns are ordered in the embedded text; newest first by
            default (measured better than oldest first with the fallback model; see
            docs/concepts/sessions.md).
        max_history_turns: Embed at most this many most recent turns.
        candidates: How deep each channel searches before fusion (at least ``k``).
        branch: The indexed snapshot (branch, tag or ref label) to search by default; ``None``:
            the checked-out branch's (see :func:`c2rag.retrieve.snapshot.default_snapshot`).
            Citations name that snapshot's commit.
        max_query_chars: Longer questions are cut to this many characters (with a note).

    Raises:
        IndexMismatchError: If the index was built with another model or dimension.

    Example:
        >>> retriever = CodeRetriever.from_path(".")
        >>> for hit in retriever.search("where do we retry failed uploads?", k=5):
        ...     print(hit.citation, hit.chunk.name)
    """

    def __init__(
        self,
        store: Any,
        encoder: Embedder,
        repo: Any = None,
        *,
        weights: FusionWeights | None = None,
        single_turn_task: str = "text2code",
        multi_turn_task: str = "codeqa_multiturn",
        history_order: HistoryOrder = "recent_first",
        max_history_turns: int | None = None,
        candidates: int = 100,
        branch: str | None = None,
        max_query_chars: int = _MAX_QUERY_CHARS,
    ) -> None:
        store.check_compatible(encoder)
        if candidates <= 0:
            msg = f"candidates must be positive, got {candidates}"
            raise ValueError(msg)
        self.store = store
        self.encoder = encoder
        self.repo = repo
        self.weights = weights or FusionWeights()
        self.single_turn_task = single_turn_task
        self.multi_turn_task = multi_turn_task
        self.history_order: HistoryOrder = history_order
        self.max_history_turns = max_history_turns
        self.candidates = candidates
        self.branch = branch
        self.max_query_chars = max_query_chars
        # notices another process's update before each query (c2rag.store.follow)
        self._follower = IndexFollower(store) if isinstance(store, IndexStore) else None

    @classmethod
    def from_path(
        cls,
        repo_path: str | os.PathLike[str],
        *,
        model: str | os.PathLike[str] | None = None,
        store_dir: str | os.PathLike[str] | None = None,
        chroma_host: str | None = None,
        chroma_port: int | None = None,
        **options: Any,
    ) -> CodeRetriever:
        """Open the index of the repository at ``repo_path`` with its model.

        Args:
            repo_path: A path inside the git work tree that was indexed.
            model: The embedding model; the index's own model when omitted.
            store_dir: Where the index lives, if not the default.
            chroma_host: A Chroma server host instead of a local directory.
            chroma_port: Its port.
            **options: Passed to :class:`CodeRetriever`.

        Raises:
            IndexNotFoundError: No index yet (the message says how to build one).
            IndexMismatchError: ``model`` is not the model the index was built with.
        """
        from c2rag.encode.engine import Encoder
        from c2rag.git import GitRepo
        from c2rag.store import IndexStore, StoreLocation

        repo = GitRepo(Path(repo_path))
        store = None
        try:
            location = StoreLocation.for_repo(
                repo.root, store_dir=store_dir, host=chroma_host, port=chroma_port
            )
            store = IndexStore.open(location)
            if model is None and store.manifest is not None:
                model = store.manifest.model_ref or store.manifest.model_name
            return cls(store, Encoder(model), repo, **options)
        except BaseException:
            if store is not None:
                store.close()
            repo.close()
            raise

    def close(self) -> None:
        """Close the store and repository handles (those :meth:`from_path` opened, too)."""
        for resource in (self.store, self.repo):
            close = getattr(resource, "close", None)
            if close is not None:
                close()

    def __enter__(self) -> CodeRetriever:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----------------------------------------------------------------------------- search
    @property
    def lexical(self) -> LexicalIndex:
        return self.store.lexical  # type: ignore[no-any-return]

    def search(
        self,
        query: str | Sequence[Any],
        *,
        k: int = 10,
        filters: SearchFilters | Mapping[str, Any] | None = None,
        neighbours: int = 0,
    ) -> list[Hit]:
        """The ``k`` chunks that best answer a question or the last turn of a conversation.

        Args:
            query: A question, or the conversation so far (see
                :func:`c2rag.retrieve.dialogue.as_turns` for accepted forms).
            k: How many fused results.
            filters: Path globs, languages, kinds, branch (a :class:`SearchFilters` or a
                mapping of its fields). A filter that matches nothing gives no results.
            neighbours: Also add up to this many callees and callers of the top hit.

        Raises:
            ValueError: On an empty query, ``k < 1`` or unknown filters.
        """
        return self.search_detailed(query, k=k, filters=filters, neighbours=neighbours).hits

    def search_detailed(
        self,
        query: str | Sequence[Any],
        *,
        k: int = 10,
        filters: SearchFilters | Mapping[str, Any] | None = None,
        neighbours: int = 0,
        extra_mentions: Sequence[Mention] = (),
        hint: Sequence[str] = (),
    ) -> SearchResult:
        """Like :meth:`search`, with per-channel rankings and notes.

        Args:
            extra_mentions: Names to feed the symbol channel besides those in the query.
            hint: Chunk ids, best first, that earlier turns point to (a session passes the
                code around what a follow-up refers back to); fused as a weak channel.
        """
        if k < 1:
            msg = f"k must be at least 1, got {k}"
            raise ValueError(msg)
        self.follow_index()
        turns, capped = cap_turns(as_turns(query), max_chars=self.max_query_chars)
        # an overlong question is read as a report once, for the dense window and for BM25
        read_report = functools.cache(extract_evidence)
        dq = build_query(
            turns,
            count_tokens=self.encoder.count_tokens,
            max_tokens=max(16, self.encoder.max_length - _PROMPT_ALLOWANCE),
            order=self.history_order,
            max_turns=self.max_history_turns,
            shorten=lambda text, budget: self._dense_window(read_report(text), budget),
        )
        notes = (*capped, *dq.notes)
        for note in notes:
            logger.warning("%s", note)
        scope = self.scope(filters)
        wanted, compiled, allowed = scope.filters, scope.compiled, scope.compiled.predicate
        if scope.empty_note is not None:
            logger.warning("%s", scope.empty_note)
            return SearchResult([], dq, {}, (*notes, scope.empty_note))
        latest = next(t.text for t in reversed(turns) if t.role == "user")
        # A question too long for the model's window is read as a report (as localize reads
        # one); the lexical and symbol channels read all of it, not the embedded window.
        report = read_report(latest) if dq.shortened else None
        mentions = [*dialogue_mentions(turns), *extra_mentions]
        evidence = query_evidence(latest, multi_turn=dq.multi_turn, hinted=bool(hint))
        depth = max(self.candidates, k)
        needed = self.weights.channels_needed()
        rankings: dict[str, list[tuple[str, float]]] = {}
        if "dense" in needed:
            vector = self._embed_query(dq)
            rankings["dense"] = dense_channel(
                self.store.collection, vector, k=depth, where=compiled.where
            )
            if dq.multi_turn and "dense_latest" in needed:
                vector = self.encoder.encode_queries([dq.latest], task=self.single_turn_task)[0]
                rankings["dense_latest"] = dense_channel(
                    self.store.collection, vector, k=depth, where=compiled.where
                )
        if "lexical" in needed:
            # a report-sized latest question is read as localize reads a report
            tokens = lexical_tokens(turns, latest=lexical_query(report) if report else None)
            rankings["lexical"] = lexical_channel(self.lexical, tokens, k=depth, allowed=allowed)
        if "symbol" in needed:
            rankings["symbol"] = symbol_channel(
                self.lexical.symbols, mentions, k=depth, allowed=allowed
            )
        if hint:
            # Every part of a hinted symbol shares its rank: results keep one part per symbol,
            # and the part that matches this question need not be the one hinted.
            hinted: dict[str, float] = {}
            for n, cid in enumerate(hint, start=1):
                for part in symbol_parts(cid, self.lexical.symbols):
                    if part not in hinted and compiled.admits(part):
                        hinted[part] = 1.0 / n
            rankings["hint"] = list(hinted.items())
        arranged = order_candidates(
            rankings,
            evidence,
            self.weights,
            self.lexical.symbols,
            k=k,
            about_prose=asks_for_prose(latest) or bool(wanted.kinds or wanted.paths),
            explained=self._explained_modules,
            about_tests=asks_for_tests(latest) or bool(wanted.paths),
            floors=self.lexical_floors(),
        )
        result = self._hits(arranged, branch=wanted.branch)
        if len(result) < len(arranged) and self.follow_index():
            # records vanished: an update finished during this query; answer from the new one
            return self.search_detailed(
                query,
                k=k,
                filters=filters,
                neighbours=neighbours,
                extra_mentions=extra_mentions,
                hint=hint,
            )
        if neighbours > 0 and result:
            result += self.neighbours(
                result[0],
                limit=neighbours,
                exclude={h.id for h in result},
                compiled=compiled,
                branch=wanted.branch,
            )
        return SearchResult(result, dq, rankings, notes, evidence.has_identifiers)

    def lexical_floors(self) -> dict[str, float]:
        """Per language, the lexical floor fusion gives that language's candidates: from the
        index's calibration (:mod:`c2rag.calibrate`) through
        :meth:`FusionWeights.lexical_floors`; empty for an index not measured."""
        manifest = getattr(self.store, "manifest", None)
        calibration = getattr(manifest, "calibration", None)
        if calibration is None:
            return {}
        return self.weights.lexical_floors(calibration.ratios)

    def _dense_window(self, report: ReportEvidence, max_tokens: int) -> tuple[str, str] | None:
        """A latest question longer than the model's window (a pasted issue, log or
        traceback), fitted to ``max_tokens``: the lines of it that carry the most (see
        :func:`~c2rag.retrieve.evidence.dense_window`) stand in for it, not its first
        tokens. Returns the text and a note; ``None`` when no line stands out (build_query
        then keeps the first tokens)."""
        window, selected = dense_window(report, self.encoder.count_tokens, max_tokens)
        if not selected:
            return None
        note = (
            "question longer than the embedding model's window: the dense channel embedded its "
            "title, exception lines, first paragraph and lines naming code"
        )
        return window, note

    def _explained_modules(self, fused: Sequence[Fused]) -> set[str]:
        """Module chunks among the leading candidates whose docstring explains the file."""
        symbols = self.lexical.symbols
        modules = [
            f.id for f in fused if (i := symbols.get(f.id)) is not None and i.kind == "module"
        ]
        return {cid for cid, hit in self.fetch(modules).items() if explains_module(hit)}

    def _hits(self, arranged: Sequence[Arranged], *, branch: str | None) -> list[Hit]:
        """Fetch the arranged results; a symbol named exactly comes back whole."""
        symbols = self.lexical.symbols
        parts = {a.fused.id: symbol_parts(a.fused.id, symbols) for a in arranged if a.whole}
        wanted = [a.fused.id for a in arranged] + [p for v in parts.values() for p in v]
        hits = self.fetch(wanted, branch=branch)
        out = []
        for a in arranged:
            if a.fused.id not in hits:
                continue
            hit = hits[a.fused.id]
            whole = [hits[p] for p in parts.get(a.fused.id, ()) if p in hits and p != hit.id]
            if whole:
                hit = whole_definition([hit, *whole])
            out.append(
                Hit(
                    hit.id,
                    hit.chunk,
                    a.score,
                    hit.commit,
                    hit.blob_sha,
                    dict(a.fused.channels),
                    dict(a.contributions),
                    a.members,
                    _copies(a.copies, symbols, hit.commit),
                )
            )
        return out

    def follow_index(self) -> bool:
        """Reopen the index if another process finished an update since the last query.

        Returns:
            Whether it moved.

        Raises:
            IndexMismatchError: It was rebuilt with a model other than this retriever's.
        """
        if self._follower is None or not self._follower.check():
            return False
        self.store.check_compatible(self.encoder)
        return True

    def _embed_query(self, dq: DialogueQuery) -> Any:
        task = self.multi_turn_task if dq.multi_turn else self.single_turn_task
        try:
            return self.encoder.encode_queries([dq.text], task=task)[0]
        except ValueError as exc:
            if task == self.single_turn_task:
                raise
            # A model without a multi-turn prompt (e.g. jina) still embeds the dialogue.
            logger.info("task %r unavailable (%s); using %r", task, exc, self.single_turn_task)
            return self.encoder.encode_queries([dq.text], task=self.single_turn_task)[0]

    def neighbours(
        self,
        hit: Hit,
        *,
        limit: int = 4,
        exclude: set[str] | None = None,
        compiled: CompiledFilters | None = None,
        direction: str = "both",
        branch: str | None = None,
    ) -> list[Hit]:
        """Definitions ``hit`` calls and chunks that call it, as hits scored below ``hit``.

        Args:
            hit: The chunk to expand.
            limit: At most this many neighbours.
            exclude: Ids not to return (already in the result).
            compiled: Filters the neighbours must pass.
            direction: ``callees``, ``callers`` or ``both`` (alternating).
            branch: The snapshot whose commit citations name (default: the retriever's).
        """
        if direction not in ("callees", "callers", "both"):
            msg = f"direction must be 'callees', 'callers' or 'both', got {direction!r}"
            raise ValueError(msg)
        skip = set(exclude or ()) | {hit.id}
        down = callees(hit.chunk, self.lexical, self_id=hit.id, limit=limit * 2)
        up: list[str] = []
        texts: dict[str, Hit] = {}
        if direction != "callees":
            # Callers are found by a shared token ("flags" in LocalFlags too): read the
            # candidates and keep those that spell the name whole.
            candidates = callers(hit.chunk, self.lexical, self_id=hit.id, limit=limit * 10)
            texts = self.fetch([c for c in candidates if c not in skip], branch=branch)
            name = short_name(hit.chunk.name)
            seen: set[tuple[str, ...]] = set()
            for cid in candidates:
                key = symbol_key(cid, self.lexical.symbols.get(cid))
                if cid in texts and key not in seen and names_in_text(name, texts[cid].chunk.text):
                    seen.add(key)  # one part of a split caller: the one that calls it
                    up.append(cid)
            up = up[: limit * 2]
        if direction == "callees":
            order = down
        elif direction == "callers":
            order = up
        else:
            order = [x for pair in zip(down, up, strict=False) for x in pair]
            order += down[len(up) :] + up[len(down) :]
        picked: list[str] = []
        for cid in order:
            if cid in skip or cid in picked or (compiled and not compiled.admits(cid)):
                continue
            picked.append(cid)
            if len(picked) == limit:
                break
        # callers were read above to check their text: fetch only the rest
        found = {cid: texts[cid] for cid in picked if cid in texts}
        found |= self.fetch([cid for cid in picked if cid not in found], branch=branch)
        relation = {cid: "callee" for cid in down} | {cid: "caller" for cid in up}
        return [
            _with_score(found[cid], hit.score * 0.5, {relation.get(cid, "neighbour"): 1.0})
            for cid in picked
            if cid in found
        ]

    def class_outline(self, member: Hit) -> list[str]:
        """Ids of the chunks defining the class ``member`` belongs to, in its file (the
        parts of a split class, in order); empty for a top-level chunk."""
        parent = member.chunk.parent
        if not parent:
            return []
        symbols = self.lexical.symbols
        return [
            cid
            for cid in symbols.defining(parent.rsplit(".", 1)[-1])
            if (info := symbols.get(cid)) is not None
            and info.path == member.chunk.path
            and info.name == parent
        ]

    def fetch(self, ids: Sequence[str], *, branch: str | None = None) -> dict[str, Hit]:
        """Chunks by id from the vector store, as hits with score 0, cited at the commit of
        snapshot ``branch`` (default: the one searched by default)."""
        from c2rag.store.records import record_to_chunk

        if not ids:
            return {}
        snapshot = branch or self._snapshot()
        state = self._snapshots().get(snapshot) if snapshot else None
        at = getattr(state, "commit", None)
        unique = list(dict.fromkeys(ids))
        got = self.store.collection.get(ids=unique, include=["documents", "metadatas"])
        out: dict[str, Hit] = {}
        for cid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True):
            chunk = record_to_chunk(doc, meta)
            commit = cited_commit(meta, snapshot, at)
            out[cid] = Hit(cid, chunk, 0.0, commit, str(meta.get("blob_sha", "")))
        return out

    def _snapshots(self) -> Mapping[str, Any]:
        manifest = getattr(self.store, "manifest", None)
        return manifest.branches if manifest is not None else {}

    def _snapshot(self) -> str | None:
        """The snapshot searched when the filters name none."""
        return self.branch or default_snapshot(self._snapshots(), self.repo)

    def scope(self, filters: SearchFilters | Mapping[str, Any] | None = None) -> Scope:
        """What a search with ``filters`` may return: the filters restricted to one snapshot
        (a search never mixes commits; with a single snapshot every record belongs to it),
        resolved against this index, with a note when they leave nothing."""
        wanted = SearchFilters.coerce(filters)
        if not wanted.branch and len(self._snapshots()) >= 2:
            wanted = replace(wanted, branch=self._snapshot())
        branch_ids = None
        if wanted.branch:
            got = self.store.collection.get(where={f"branch:{wanted.branch}": True}, include=[])
            branch_ids = frozenset(got["ids"])
        compiled = compile_filters(wanted, self.lexical.symbols, branch_ids=branch_ids)
        note = None
        if compiled.matches_nothing:
            note = emptied_by(wanted, self.lexical.symbols, branch_ids=compiled.branch_ids)
        return Scope(wanted, compiled, note)

    def localize(
        self,
        text: str,
        *,
        k: int = 10,
        filters: SearchFilters | Mapping[str, Any] | None = None,
        symbols_per_file: int = 5,
    ) -> Localization:
        """The ``k`` files (and their functions) a bug report, stack trace or code fragment
        points at; see :func:`c2rag.retrieve.localize.localize`.

        Raises:
            ValueError: On empty text, ``k < 1`` or unknown filters.
        """
        from c2rag.retrieve.localize import localize

        return localize(self, text, k=k, filters=filters, symbols_per_file=symbols_per_file)


def _with_score(hit: Hit, score: float, channels: dict[str, float]) -> Hit:
    return Hit(hit.id, hit.chunk, score, hit.commit, hit.blob_sha, dict(channels))
