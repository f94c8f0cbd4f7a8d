"""An MCP server over one indexed repository: search, open citations, index status.

Any MCP client (an IDE agent, a desktop assistant, an agent framework) can then ask c2rag for
code. Start it with ``c2rag mcp PATH`` (stdio); the tools:

* ``search_code``: hybrid search; the answer is packed, cited code (``path:start-end@sha``),
  each snippet marked fresh or stale. ``follow_up=true`` continues the conversation of the
  previous calls, so "and who calls it?" resolves and code already returned comes back as a
  reference instead of a repeat.
* ``open_chunk``: a citation → the lines as they are now in the working tree, and whether
  the file changed since the cited commit.
* ``index_status``: the indexed commit against ``HEAD``, and what changed since.
* ``localize``: a bug report, issue or stack trace → the files to look at, and the functions
  in each, ranked with the evidence for each (see :mod:`c2rag.retrieve.localize`).

The model and index open on the first call that needs them, so the client's handshake is
instant and a missing index is reported to the agent as a tool error that says how to build it.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, Field

from c2rag import __version__
from c2rag.citations import open_citation
from c2rag.errors import C2RAGError
from c2rag.git import GitRepo
from c2rag.store.faults import translate

if TYPE_CHECKING:
    from mcp.server import MCPServer

    from c2rag.context import Snippet
    from c2rag.org.search import MultiRepoRetriever
    from c2rag.retrieve import CodeQASession, CodeRetriever

__all__ = [
    "CodeSnippet",
    "IndexStatusResult",
    "LocalizeResult",
    "OpenedChunk",
    "OrgStatusResult",
    "OrgTools",
    "RepoTools",
    "SearchCodeResult",
    "build_server",
]

logger = logging.getLogger(__name__)

ChunkKind = Literal["function", "method", "class", "module", "window"]


class CodeSnippet(BaseModel):
    """Lines of one file, cited."""

    citation: str = Field(description="path:start-end@sha; pass it to open_chunk to re-read")
    path: str
    start_line: int
    end_line: int
    symbols: list[str] = Field(description="Qualified names of the code in the snippet")
    kind: str = Field(description="'code' for verbatim lines, else an outline kind")
    language: str
    score: float
    stale: bool | None = Field(
        description="True if the file changed since it was indexed; None if unknown"
    )
    text: str
    copies: list[str] = Field(
        default_factory=list,
        description="Citations of the same code in other files (a copied file): edit them too",
    )
    repository: str | None = Field(
        default=None, description="The repository, when several are served (else null)"
    )


class SearchCodeResult(BaseModel):
    """What ``search_code`` returns."""

    snippets: list[CodeSnippet]
    already_given: list[str] = Field(
        description="Citations of relevant code already returned earlier in this conversation"
    )
    follow_up: bool = Field(description="Whether the query was read as a follow-up")
    notes: list[str] = Field(description="Adjustments to the query (truncation, dropped turns)")


class OpenedChunk(BaseModel):
    """What ``open_chunk`` returns."""

    citation: str
    status: Literal["unchanged", "moved", "changed", "deleted"] = Field(
        description=(
            "unchanged: file identical to the cited commit; moved: file edited but the cited "
            "lines are intact at start_line-end_line; changed: the cited lines were edited "
            "(text is the current code at that place, cited_text the old lines); deleted: "
            "the file is gone (text is the cited version)"
        )
    )
    changed_since: bool = Field(description="Whether the file changed since the cited commit")
    commit: str = Field(description="Full sha of the cited commit")
    path: str
    start_line: int
    end_line: int
    text: str
    cited_text: str | None = None
    repository: str | None = None


class IndexStatusResult(BaseModel):
    """What ``index_status`` returns."""

    repository: str
    branch: str
    head_commit: str | None
    indexed_commit: str | None = Field(description="Commit the branch was indexed at")
    up_to_date: bool = Field(description="Whether the branch is indexed at HEAD")
    files_changed: list[str] = Field(description="Files that differ between the two commits")
    model: str
    chunks: int
    other_branches: dict[str, str] = Field(description="Other indexed branches and their commits")
    interrupted: bool = Field(description="An update started and did not finish")
    summary: str


class OrgStatusResult(BaseModel):
    """What ``index_status`` returns when several repositories are served."""

    repositories: dict[str, IndexStatusResult] = Field(
        description="Each repository's index state, by the name its citations use"
    )


class LocalizedSymbol(BaseModel):
    """A function, method or class of a localized file."""

    name: str
    kind: str
    citation: str = Field(description="path:start-end@sha of the whole definition")
    score: float
    evidence: list[str] = Field(description="Why it ranks here, strongest first")


class LocalizedFile(BaseModel):
    """A file a report points at."""

    path: str
    score: float
    evidence: list[str] = Field(description="Why it ranks here, strongest first")
    symbols: list[LocalizedSymbol]


class LocalizeResult(BaseModel):
    """What ``localize`` returns."""

    files: list[LocalizedFile]
    frames_outside_repository: list[str] = Field(
        description="Stack frames of the report that map to no indexed file"
    )
    notes: list[str] = Field(description="Adjustments (truncation, embedded window, filters)")


def _snippet(snippet: Snippet) -> CodeSnippet:
    c = snippet.citation
    return CodeSnippet(
        citation=str(c),
        path=c.path,
        start_line=c.start_line,
        end_line=c.end_line,
        symbols=list(snippet.symbols),
        kind=snippet.kind,
        language=snippet.language,
        score=round(snippet.score, 6),
        stale=snippet.freshness.changed if snippet.freshness is not None else None,
        text=snippet.text,
        copies=[str(x) for x in snippet.copies],
        repository=getattr(c, "repo", None) or None,
    )


class _Conversation:
    """``search_code`` and ``localize`` over whatever :meth:`retriever` opens (one
    repository's index, or several searched together)."""

    budget_tokens: int
    _lock: threading.Lock
    _session: CodeQASession | None

    _retriever: Any

    def retriever(self) -> Any:
        """The retriever, opened on first use (loading the model takes a few seconds)."""
        with self._lock:
            if self._retriever is None:
                self._retriever = self._open_index()
            return self._retriever

    def _open_index(self) -> Any:
        raise NotImplementedError

    def search(
        self,
        query: str,
        *,
        paths: list[str] | None = None,
        exclude_paths: list[str] | None = None,
        languages: list[str] | None = None,
        kinds: list[str] | None = None,
        branch: str | None = None,
        limit: int = 8,
        follow_up: bool = False,
    ) -> SearchCodeResult:
        """Search the index; see the ``search_code`` tool."""
        from c2rag.retrieve import CodeQASession, SearchFilters
        from c2rag.retrieve.settings import check_filter_values

        if limit < 1:
            msg = f"limit must be at least 1, got {limit}"
            raise ValueError(msg)
        filters = SearchFilters(
            paths=tuple(paths or ()),
            exclude_paths=tuple(exclude_paths or ()),
            languages=tuple(languages or ()),
            kinds=tuple(kinds or ()),
            branch=branch,
        )
        retriever = self.retriever()
        check_filter_values(retriever, filters)
        with self._lock:
            session = self._session
            if session is None or not follow_up:
                session = CodeQASession(retriever, budget_tokens=self.budget_tokens, k=limit)
                self._session = session
            session.k = limit
            turn = session.ask(query, filters=filters)
        return SearchCodeResult(
            snippets=[_snippet(s) for s in turn.context.snippets],
            already_given=[str(r.citation) for r in turn.context.references],
            follow_up=turn.follow_up,
            notes=list(turn.notes),
        )

    def localize(self, text: str, *, k: int = 5, paths: list[str] | None = None) -> LocalizeResult:
        """Files and functions a report points at; see the ``localize`` tool."""
        result = self.retriever().localize(text, k=k, filters={"paths": tuple(paths or ())})
        return LocalizeResult(
            files=[
                LocalizedFile(
                    path=f.path,
                    score=round(f.score, 6),
                    evidence=[str(e) for e in f.evidence[:6]],
                    symbols=[
                        LocalizedSymbol(
                            name=s.name,
                            kind=s.kind,
                            citation=str(s.citation),
                            score=round(s.score, 6),
                            evidence=[str(e) for e in s.evidence[:4]],
                        )
                        for s in f.symbols
                    ],
                )
                for f in result.files
            ],
            frames_outside_repository=[str(f) for f, path in result.frames if path is None],
            notes=list(result.notes),
        )


@dataclass
class RepoTools(_Conversation):
    """The tools' logic for one repository, independent of the MCP transport.

    Args:
        repo_path: A path inside the indexed git work tree.
        model: Embedding model; the index's own model when ``None``.
        store_dir: Where the index lives, if not the default.
        chroma_host: A Chroma server host instead of a local store.
        chroma_port: Its port.
        budget_tokens: Token budget of each ``search_code`` answer.
    """

    repo_path: str | os.PathLike[str]
    model: str | None = None
    store_dir: str | os.PathLike[str] | None = None
    chroma_host: str | None = None
    chroma_port: int | None = None
    budget_tokens: int = 6000
    repo: GitRepo = field(init=False)
    """The repository (opened at construction: a bad path fails at once)."""
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _retriever: CodeRetriever | None = field(default=None, init=False, repr=False)
    _session: CodeQASession | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.repo = GitRepo(Path(self.repo_path))

    def retriever(self) -> CodeRetriever:
        """The retriever, opened on first use (loading the model takes a few seconds)."""
        return super().retriever()  # type: ignore[no-any-return]

    def _open_index(self) -> CodeRetriever:
        from c2rag.retrieve import CodeRetriever

        logger.info("opening the index of %s", self.repo.root)
        return CodeRetriever.from_path(
            self.repo.root,
            model=self.model,
            store_dir=self.store_dir,
            chroma_host=self.chroma_host,
            chroma_port=self.chroma_port,
        )

    def open(self, citation: str, *, context_lines: int = 0) -> OpenedChunk:
        """Re-read a citation; see the ``open_chunk`` tool."""
        opened = open_citation(self.repo, citation, context_lines=context_lines)
        return OpenedChunk(**asdict(opened), changed_since=opened.changed_since)

    def status(self) -> IndexStatusResult:
        """Index state; see the ``index_status`` tool."""
        from c2rag.index import CodeIndex

        index = CodeIndex(
            self.repo.root,
            store_dir=self.store_dir,
            chroma_host=self.chroma_host,
            chroma_port=self.chroma_port,
        )
        st = index.status()
        return IndexStatusResult(
            repository=st.repo,
            branch=st.branch,
            head_commit=st.head_commit,
            indexed_commit=st.indexed_commit,
            up_to_date=st.up_to_date,
            files_changed=st.files_changed,
            model=st.model_name,
            chunks=st.chunks,
            other_branches={b: c for b, c in st.branches.items() if b != st.branch},
            interrupted=st.interrupted,
            summary=st.summary(),
        )


@dataclass
class OrgTools(_Conversation):
    """The tools' logic for several repositories indexed into one store (``c2rag index
    REPO REPO ...``): citations read ``repo:path:start-end@sha``.

    Args:
        repo_paths: Paths inside the indexed work trees.
        model: Embedding model; the indexes' own model when ``None``.
        store_dir: The shared store (default: that of ``c2rag index`` with several
            repositories, :func:`c2rag.org.default_org_store_dir`).
        chroma_host: A Chroma server host instead of a local store.
        chroma_port: Its port.
        budget_tokens: Token budget of each ``search_code`` answer.

    Raises:
        ValueError: A path is not a git repository (named).
    """

    repo_paths: Sequence[str | os.PathLike[str]]
    model: str | None = None
    store_dir: str | os.PathLike[str] | None = None
    chroma_host: str | None = None
    chroma_port: int | None = None
    budget_tokens: int = 6000
    repos: dict[str, GitRepo] = field(init=False)
    """Each repository by the name its citations use (opened at construction)."""
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _retriever: MultiRepoRetriever | None = field(default=None, init=False, repr=False)
    _session: CodeQASession | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        from c2rag.org import default_org_store_dir, resolve_repos

        refs, problems = resolve_repos(self.repo_paths)
        if problems:
            named = "; ".join(f"{p.given}: {p.reason}" for p in problems)
            raise ValueError(f"cannot serve {named}")
        self.store_dir = self.store_dir or default_org_store_dir()
        self.repos = {ref.name: GitRepo(ref.root) for ref in refs}

    def _open_index(self) -> MultiRepoRetriever:
        from c2rag.org.search import MultiRepoRetriever

        logger.info("opening the indexes of %s", ", ".join(self.repos))
        return MultiRepoRetriever.from_paths(
            [repo.root for repo in self.repos.values()],
            model=self.model,
            store_dir=self.store_dir,
            chroma_host=self.chroma_host,
            chroma_port=self.chroma_port,
        )

    def open(self, citation: str, *, context_lines: int = 0) -> OpenedChunk:
        """Re-read a ``repo:path:start-end@sha`` citation; see the ``open_chunk`` tool.

        Raises:
            ValueError: The citation names no served repository.
        """
        name, _, rest = citation.partition(":")
        if name not in self.repos:
            msg = (
                f"not a citation of the served repositories (expected "
                f"'repo:path:start-end@sha', repo one of {', '.join(self.repos)}): {citation!r}"
            )
            raise ValueError(msg)
        opened = open_citation(self.repos[name], rest, context_lines=context_lines)
        fields = {**asdict(opened), "citation": citation}
        return OpenedChunk(**fields, changed_since=opened.changed_since, repository=name)

    def status(self) -> OrgStatusResult:
        """Every repository's index state; see the ``index_status`` tool."""
        where = {"store_dir": self.store_dir, "chroma_host": self.chroma_host}
        return OrgStatusResult(
            repositories={
                name: RepoTools(repo.root, chroma_port=self.chroma_port, **where).status()
                for name, repo in self.repos.items()
            }
        )


_F = TypeVar("_F", bound=Callable[..., Any])


def _user_errors(fn: _F) -> _F:
    """Let the agent read c2rag's own error messages (the SDK hides unexpected ones)."""
    from mcp.server.mcpserver.exceptions import ToolError

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (C2RAGError, ValueError) as exc:
            raise ToolError(str(exc)) from exc
        except Exception as exc:  # a full disk, a Chroma server gone: say so to the agent
            known = translate(exc, None, "search the index")
            if known is None:
                raise
            raise ToolError(str(known)) from exc

    return wrapper  # type: ignore[return-value]


def build_server(tools: RepoTools | OrgTools) -> MCPServer:
    """An MCP server exposing ``search_code``, ``open_chunk``, ``index_status`` and
    ``localize``, over one repository (:class:`RepoTools`) or several (:class:`OrgTools`).

    Raises:
        ImportError: The ``mcp`` SDK (2.x) is not installed; the message says how to get it.
    """
    try:
        from mcp.server import MCPServer
        from mcp.types import ToolAnnotations
    except ImportError as exc:
        msg = "the MCP server needs the mcp SDK 2.x: pip install 'c2rag[mcp]'"
        raise ImportError(msg) from exc

    if isinstance(tools, OrgTools):
        where = "the git repositories " + ", ".join(
            f"{name} ({repo.root})" for name, repo in tools.repos.items()
        )
        cited = "repo:path:start-end@sha"
    else:
        where, cited = f"the git repository at {tools.repo.root}", "path:start-end@sha"
    server = MCPServer(
        "c2rag",
        instructions=(
            f"Code search over {where}. Use search_code to find code by question or "
            f"identifier; cite results by their {cited} citation; use open_chunk to re-read "
            "a citation before quoting or editing it."
        ),
        log_level="WARNING",
        version=__version__,
    )
    # Every tool only reads the repository and the index; repeated open_chunk / index_status
    # calls answer the same, while search_code keeps a conversation (follow_up).
    reading = {"read_only_hint": True, "destructive_hint": False, "open_world_hint": False}

    @server.tool(annotations=ToolAnnotations(**reading, idempotent_hint=False))
    @_user_errors
    def search_code(
        query: Annotated[
            str,
            Field(
                description="A question ('where are failed uploads retried?') or identifiers "
                "('RetryPolicy.backoff', 'src/io/upload.py')"
            ),
        ],
        paths: Annotated[
            list[str] | None,
            Field(description="Only files matching one of these git-style globs ('src/**/*.py')"),
        ] = None,
        exclude_paths: Annotated[
            list[str] | None, Field(description="Leave out files matching these globs")
        ] = None,
        languages: Annotated[
            list[str] | None, Field(description="Only these languages ('python', 'go', ...)")
        ] = None,
        kinds: Annotated[
            list[ChunkKind] | None, Field(description="Only these chunk kinds")
        ] = None,
        branch: Annotated[str | None, Field(description="Only code on this indexed branch")] = None,
        limit: Annotated[
            int, Field(ge=1, le=50, description="How many search results to consider")
        ] = 8,
        follow_up: Annotated[
            bool,
            Field(
                description="Continue the conversation of the previous search_code calls: "
                "'it' and 'its callers' resolve, and code returned before is listed in "
                "already_given instead of repeated. False starts a new conversation."
            ),
        ] = False,
    ) -> SearchCodeResult:
        """Find the code in this repository that answers a question or names an identifier.

        Returns cited snippets (path:start-end@sha) that fit a token budget, best first.
        """
        return tools.search(
            query,
            paths=paths,
            exclude_paths=exclude_paths,
            languages=languages,
            kinds=list(kinds) if kinds else None,
            branch=branch,
            limit=limit,
            follow_up=follow_up,
        )

    @server.tool(annotations=ToolAnnotations(**reading, idempotent_hint=True))
    @_user_errors
    def open_chunk(
        citation: Annotated[
            str,
            Field(
                description="path:start-end@sha (repo:path:start-end@sha when several "
                "repositories are served), as returned by search_code"
            ),
        ],
        context_lines: Annotated[
            int, Field(ge=0, le=200, description="Extra lines before and after")
        ] = 0,
    ) -> OpenedChunk:
        """Read the code a citation points to as it is now, and whether it changed since."""
        return tools.open(citation, context_lines=context_lines)

    if isinstance(tools, OrgTools):
        org = tools

        @server.tool(
            name="index_status", annotations=ToolAnnotations(**reading, idempotent_hint=True)
        )
        @_user_errors
        def org_index_status() -> OrgStatusResult:
            """Every served repository's index state, by repository name."""
            return org.status()

    else:
        one = tools

        @server.tool(annotations=ToolAnnotations(**reading, idempotent_hint=True))
        @_user_errors
        def index_status() -> IndexStatusResult:
            """The indexed commit compared with HEAD, and the files changed since indexing."""
            return one.status()

    from mcp.types import ToolAnnotations

    @server.tool(annotations=ToolAnnotations(read_only_hint=True, idempotent_hint=True))
    @_user_errors
    def localize(
        text: Annotated[
            str,
            Field(
                description="A bug report, issue, error log, stack trace or code fragment, "
                "whole (long texts are fine)"
            ),
        ],
        k: Annotated[int, Field(ge=1, le=30, description="How many files")] = 5,
        paths: Annotated[
            list[str] | None,
            Field(description="Only files matching one of these git-style globs"),
        ] = None,
    ) -> LocalizeResult:
        """Find the files (and functions in them) a bug report or stack trace points at,
        ranked, each with the evidence that put it there: stack frames, names in the text,
        lexical and semantic matches. Use it to plan which files to open and edit."""
        return tools.localize(text, k=k, paths=paths)

    return server
