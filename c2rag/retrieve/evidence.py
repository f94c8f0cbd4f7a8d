"""What a bug report says about where the code is: stack frames, exception lines, identifiers.

Parses the frame formats agents meet most: Python tracebacks (and pytest's ``path:line: in
f``), JavaScript/TypeScript (``at f (path:line:col)``), Java/Kotlin (``at pkg.Cls.m(File.java:
line)``), Go (``pkg.F(...)`` followed by ``\\tpath.go:line``), Rust backtraces (``3: a::b::f``
followed by ``at src/b.rs:12:5``), Ruby (``path.rb:12:in 'm'``),
PHP (``#0 path.php(12): Cls->m()``) and .NET (``at Ns.Cls.M() in path.cs:line 12``), plus bare
``path.ext:line`` references in prose or logs. It also picks the few lines worth embedding
when the whole text does not fit the embedding model's window (see :func:`dense_window`).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from c2rag.retrieve.dialogue import prefix_cut
from c2rag.store.tokens import code_tokens, identifier_mentions

__all__ = ["Frame", "ReportEvidence", "dense_window", "extract_evidence", "lexical_query"]

# Inputs beyond this many characters are cut (head and tail kept: logs end in the traceback).
MAX_CHARS = 200_000

_PY = re.compile(r'^[\s|]*File "(?P<path>[^"]+)", line (?P<line>\d+)(?:, in (?P<func>[^\s]+))?')
_PYTEST = re.compile(r"^(?P<path>[\w.\-/\\]+\.py):(?P<line>\d+):(?: in (?P<func>[\w<>]+))?")
_JS = re.compile(
    r"^\s*at (?:(?:async |new )?(?P<func>[^\s(]+)(?: \[as [^\]]+\])? \()?"
    r"(?:file://)?(?P<path>[^\s()]+?\.(?:[cm]?js|jsx|ts|tsx|vue)):(?P<line>\d+)(?::\d+)?\)?\s*$"
)
_JAVA = re.compile(
    # Java 9+ prefixes the class loader or module: "app//", "java.base/", "lib@1.2/"
    r"^\s*at (?:[\w.$@\-]*/+)?(?P<qual>[\w$.<>]+)\((?P<file>[\w$]+\.(?:java|kt|scala|groovy)):"
    r"(?P<line>\d+)\)"
)
_GO_FILE = re.compile(r"^\s+(?P<path>\S+\.go):(?P<line>\d+)(?: \+0x[0-9a-f]+)?\s*$")
_GO_CLOSURE = re.compile(r"(?:\.(?:func|gowrap)\d+)+$")
_GO_FUNC = re.compile(r"^(?P<func>[\w./*()\-]+)\(.*\)\s*$")
# Rust backtrace: "  3: serde_json::de::Deserializer<R>::parse_number" then "at ./src/de.rs:429:9".
_RUST_FILE = re.compile(r"^\s+at (?P<path>\S+\.rs):(?P<line>\d+)(?::\d+)?\s*$")
_RUST_FUNC = re.compile(r"^\s*\d+: (?P<func>\S.*?)\s*$")
_GENERICS = re.compile(r"<[^<>]*>")
# Ruby: "path.rb:12:in 'Cls#m'" (3.4) or "path.rb:12:in `m'", later frames prefixed "from".
_RUBY = re.compile(
    r"^\s*(?:from )?(?P<path>[^\s:]+\.rb):(?P<line>\d+):in [`'](?:block (?:\(\d+ levels\) )?in )?"
    r"(?P<func>[^'`]+)'"
)
# PHP: "#0 /app/src/Bar.php(30): Foo->explode()": line 30 of Bar.php called Foo->explode.
_PHP = re.compile(r"^\s*#\d+ (?P<path>\S+\.php)\((?P<line>\d+)\): (?P<call>[^(]+)\(")
_PHP_CALL = re.compile(
    r"^\s*#\d+ (?:\S+\(\d+\): |\[internal function\]: )?(?P<call>[\w\\]+(?:(?:->|::)\w+)?)\("
)
# PHP's error line: "... in /app/src/Foo.php:12" or "thrown in /app/src/Foo.php on line 12".
_PHP_ERROR = re.compile(r"\bin (?P<path>\S+\.php)(?::(?P<line>\d+)| on line (?P<on>\d+))\b")
# .NET: "   at Acme.Io.Reader.ReadLine() in C:\src\Io\Reader.cs:line 57"
_DOTNET = re.compile(r"^\s*at (?P<qual>[^(]+)\(.*\) in (?P<path>.+\.cs):line (?P<line>\d+)\s*$")
_REFERENCE = re.compile(
    r"(?<![\w/.])(?P<path>/?[\w.\-]+(?:/[\w.\-]+)*\.(?:py|pyi|js|jsx|ts|tsx|java|kt|go|rs|rb|c|h|"
    r"cc|cpp|hpp|cs|php|swift|scala|lua|kts)):(?P<line>\d+)"
)
_EXCEPTION = re.compile(
    r"^[\s|]*(?P<type>(?:[A-Za-z_][\w.]*)?(?:Error|Exception|Warning|Exit|Interrupt|Failure"
    r"|Panic|ExceptionGroup))"
    r"(?::\s*(?P<message>.*))?$"
)
# A code name found on more lines than this is log noise, not a pointer to the bug.
_MAX_NAMED_REPEAT = 5
# Frames further apart than this many lines start a new trace.
_BLOCK_GAP = 3


@dataclass(frozen=True, slots=True)
class Frame:
    """One stack frame (or file reference) found in the text.

    Attributes:
        path: The file as written (absolute, relative, or derived from a Java class name).
        line: The line number, when given.
        function: The function or method name, ``""`` when not given.
        depth: 0 for the frame nearest the error in its trace, 1 for its caller, and so on.
        style: ``python``, ``pytest``, ``javascript``, ``java``, ``go``, ``rust``, ``ruby``,
            ``php``, ``dotnet`` or ``reference``.
    """

    path: str
    line: int | None
    function: str
    depth: int
    style: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where} in {self.function}" if self.function else where


@dataclass(frozen=True)
class ReportEvidence:
    """Everything extracted from one report.

    Attributes:
        text: The text used (cut to :data:`MAX_CHARS`).
        frames: Stack frames and file references, in the order they appear.
        exceptions: Exception lines (``ValueError: bad header``).
        identifiers: ``(name, strong)`` code names mentioned (see
            :func:`c2rag.store.tokens.identifier_mentions`).
        notes: What was changed (truncation).
    """

    text: str
    frames: tuple[Frame, ...]
    exceptions: tuple[str, ...]
    identifiers: tuple[tuple[str, bool], ...]
    notes: tuple[str, ...] = ()


def extract_evidence(text: str, *, max_chars: int = MAX_CHARS) -> ReportEvidence:
    """Frames, exception lines and identifiers of a bug report, issue, log or code fragment.

    Raises:
        ValueError: If ``text`` is empty or only whitespace.
    """
    if not isinstance(text, str) or not text.strip():
        msg = "empty text: pass a bug report, an issue, a stack trace or code to localize"
        raise ValueError(msg)
    notes: list[str] = []
    if len(text) > max_chars:
        half = max_chars // 2
        notes.append(
            f"text truncated from {len(text):,} to {max_chars:,} characters "
            "(kept the beginning and the end)"
        )
        text = text[:half] + "\n…\n" + text[-half:]
    lines = text.splitlines()
    frames = _frames(lines)
    exceptions = tuple(
        dict.fromkeys(
            line[m.start("type") :].strip() for line in lines if (m := _EXCEPTION.match(line))
        )
    )
    return ReportEvidence(
        text, tuple(frames), exceptions, tuple(identifier_mentions(text)), tuple(notes)
    )


def _frames(lines: list[str]) -> list[Frame]:
    """Frames with their depth: Python prints the innermost frame last, the others first."""
    found: list[tuple[int, str, str, int | None, str]] = []  # line no, style, path, line, func
    for n, line in enumerate(lines):
        frame = _frame_at(lines, n)
        if frame is not None:
            found.append((n, *frame))
            continue
        for m in _REFERENCE.finditer(line):
            found.append((n, "reference", m.group("path"), int(m.group("line")), ""))
    blocks: list[list[tuple[int, str, str, int | None, str]]] = []
    for item in found:
        if blocks and item[0] - blocks[-1][-1][0] <= _BLOCK_GAP and item[1] == blocks[-1][-1][1]:
            blocks[-1].append(item)
        else:
            blocks.append([item])
    out: list[Frame] = []
    for block in blocks:
        # PHP names the error's line twice (the message, then "thrown in ... on line N")
        block = [x for i, x in enumerate(block) if x[1:4] not in {y[1:4] for y in block[:i]}]
        innermost_last = block[0][1] in ("python", "pytest")
        for i, (_, style, path, line, func) in enumerate(block):
            depth = len(block) - 1 - i if innermost_last else i
            if style == "reference":
                depth = 0
            out.append(Frame(path, line, func, depth, style))
    return out


def _frame_at(lines: list[str], n: int) -> tuple[str, str, int | None, str] | None:
    line = lines[n]
    if m := _PY.match(line):
        return "python", m.group("path"), int(m.group("line")), m.group("func") or ""
    if m := _PYTEST.match(line):
        return "pytest", m.group("path"), int(m.group("line")), m.group("func") or ""
    if m := _JAVA.match(line):
        parts = re.sub(r"\$[\w$]*", "", m.group("qual")).split(".")
        package = parts[:-2]
        path = "/".join([*package, m.group("file")])
        return "java", path, int(m.group("line")), parts[-1]
    if m := _JS.match(line):
        func = (m.group("func") or "").rsplit(".", 1)[-1]
        return "javascript", m.group("path"), int(m.group("line")), func
    if m := _RUBY.match(line):
        func = re.split(r"#|::|\.", m.group("func").strip())[-1]
        return "ruby", m.group("path"), int(m.group("line")), func
    if not line.lstrip().startswith("#") and (m := _PHP_ERROR.search(line)):
        # the error's own line, in the function that the first frame (#0) called
        first = next((x for x in lines[n + 1 : n + 4] if x.lstrip().startswith("#0 ")), "")
        call = _PHP_CALL.match(first)
        func = re.split(r"->|::|\\", call.group("call"))[-1] if call else ""
        return "php", m.group("path"), int(m.group("line") or m.group("on")), func
    if m := _PHP.match(line):
        # PHP names the function *called* from a frame's line: the one running there is the
        # function the next frame called (none at the top level).
        after = _PHP_CALL.match(lines[n + 1]) if n + 1 < len(lines) else None
        func = re.split(r"->|::|\\", after.group("call"))[-1].strip() if after else ""
        return "php", m.group("path"), int(m.group("line")), func
    if m := _DOTNET.match(line):
        func = re.sub(r"<([^>]+)>.*", r"\1", m.group("qual").strip()).rsplit(".", 1)[-1]
        return "dotnet", m.group("path"), int(m.group("line")), func
    if (m := _RUST_FILE.match(line)) and n > 0 and (f := _RUST_FUNC.match(lines[n - 1])):
        func = f.group("func")
        for _ in range(8):  # generics and `<T as Trait>` qualifiers, innermost first
            func, found = _GENERICS.subn("", func)
            if not found:
                break
        func = re.sub(r"::\{\{closure\}\}|::h[0-9a-f]{16}$", "", func).rsplit("::", 1)[-1]
        return "rust", m.group("path"), int(m.group("line")), func
    if (m := _GO_FILE.match(line)) and n > 0 and (f := _GO_FUNC.match(lines[n - 1].strip())):
        func = re.sub(r"\(.*?\)\.", "", f.group("func"))
        func = _GO_CLOSURE.sub("", func).rsplit(".", 1)[-1]  # Find.func1: a closure in Find
        return "go", m.group("path"), int(m.group("line")), func
    return None


def dense_window(
    evidence: ReportEvidence, count_tokens: Callable[[str], int], max_tokens: int
) -> tuple[str, bool]:
    """The text to embed: all of it when it fits, else what carries the most within
    ``max_tokens``: the title, exception lines, the first paragraph, the functions of the
    frames nearest the error, then lines that name code.

    Returns:
        The window and whether it is a selection (``False``: the whole text fits).
    """
    text = evidence.text.strip()
    if count_tokens(text) <= max_tokens:
        return text, False
    lines = [line.strip() for line in text.splitlines()]
    title = next((line for line in lines if line), "")
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    body = next((p for p in paragraphs[1:] if not _looks_like_trace(p)), "")
    if paragraphs and paragraphs[0] != title and not _looks_like_trace(paragraphs[0]):
        body = paragraphs[0]
    near = sorted((f for f in evidence.frames if f.function), key=lambda f: f.depth)
    functions = " ".join(dict.fromkeys(f.function for f in near[:8]))
    strong = [n for n, is_code in evidence.identifiers if is_code and not n.isupper()]
    # A name on many lines (a logger, a module in every frame) says little about the bug.
    strong = [n for n in strong if sum(n in line for line in lines) <= _MAX_NAMED_REPEAT]
    named = [
        line
        for line in lines
        if line and line != title and not _PY.match(line) and any(n in line for n in strong)
    ]
    parts = [title, *evidence.exceptions[-2:], body, functions, *named]
    window: list[str] = []
    used = 0
    for part in dict.fromkeys(p for p in parts if p):
        cost = count_tokens(part) + 1
        if used + cost > max_tokens:
            if not window:
                window.append(prefix_cut(part, count_tokens, max_tokens))
            continue
        window.append(part)
        used += cost
    return "\n".join(window), True


def _looks_like_trace(paragraph: str) -> bool:
    return paragraph.startswith("Traceback") or bool(_PY.match(paragraph.splitlines()[0]))


# A term repeated in a long report (a log line, a frame) counts at most this often in BM25.
_MAX_TERM_REPEAT = 3
_PY_FRAME = re.compile(r'^[\s|]*File "(?P<path>[^"]+)", line \d+(?:, in (?P<func>\S+))?.*$', re.M)


def lexical_query(evidence: ReportEvidence) -> list[str]:
    """BM25 tokens of the whole text: Python frame lines reduced to file and function names,
    and no term repeated more than a few times."""
    text = _PY_FRAME.sub(
        lambda m: (
            f"{m.group('path').replace(chr(92), '/').rsplit('/', 1)[-1]} {m.group('func') or ''}"
        ),
        evidence.text,
    )
    counts: dict[str, int] = defaultdict(int)
    out = []
    for token in code_tokens(text):
        counts[token] += 1
        if counts[token] <= _MAX_TERM_REPEAT:
            out.append(token)
    return out
