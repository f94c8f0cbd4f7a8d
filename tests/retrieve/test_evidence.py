"""Evidence extraction from bug reports: frames in several languages, exception lines,
identifiers, the dense window and bad input."""

from __future__ import annotations

import subprocess
import sys

import pytest

from c2rag.git.repo import GitRepo
from c2rag.retrieve.evidence import dense_window, extract_evidence, lexical_query
from c2rag.retrieve.localize import map_path, repository_names


def _run_in_package(tmp_path, files: dict[str, str], code: str) -> str:
    """What a real interpreter prints to stderr running ``code`` beside the package ``shop``
    made of ``files``."""
    pkg = tmp_path / "shop"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    for name, text in files.items():
        (pkg / name).write_text(text)
    run = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode == 1, run.stderr
    return run.stderr


def _real_traceback(tmp_path) -> str:
    """A traceback printed by a real interpreter, through two modules of a package."""
    files = {
        "prices.py": "def parse_price(text):\n    return float(text.strip('$'))\n",
        "cart.py": (
            "from shop.prices import parse_price\n\n\n"
            "def cart_total(items):\n    return sum(parse_price(i) for i in items)\n"
        ),
    }
    return _run_in_package(
        tmp_path, files, "from shop.cart import cart_total; cart_total(['$1', 'ten'])"
    )


def test_python_traceback_frames_are_found_innermost_first(tmp_path) -> None:
    trace = _real_traceback(tmp_path)
    ev = extract_evidence(f"Cart total crashes on words\n\n{trace}")
    by_function = {f.function: f for f in ev.frames}
    assert by_function["parse_price"].depth == 0
    assert by_function["parse_price"].path.endswith("shop/prices.py")
    assert by_function["parse_price"].line == 2
    assert by_function["cart_total"].depth > 0
    assert any(e.startswith("ValueError: could not convert") for e in ev.exceptions)
    assert ("parse_price", True) in ev.identifiers


@pytest.mark.parametrize(
    ("trace", "path", "line", "function", "depth"),
    [
        (
            "TypeError: x is undefined\n    at parseHeader (src/http/headers.ts:41:13)\n"
            "    at Server.handle (/app/src/http/server.ts:88:5)",
            "src/http/headers.ts",
            41,
            "parseHeader",
            0,
        ),
        (
            'Exception in thread "main" java.lang.NullPointerException\n'
            "\tat com.acme.io.Reader.readLine(Reader.java:57)\n"
            "\tat com.acme.App.main(App.java:12)",
            "com/acme/io/Reader.java",
            57,
            "readLine",
            0,
        ),
        (
            "panic: runtime error: index out of range\n\ngoroutine 1 [running]:\n"
            "github.com/acme/kv.(*Store).Get(0xc000010000, 0x3)\n"
            "\t/home/u/kv/store.go:42 +0x1d\nmain.main()\n\t/home/u/kv/main.go:9 +0x25",
            "/home/u/kv/store.go",
            42,
            "Get",
            0,
        ),
        (  # Rust: "N: path::to::fn" then "at file.rs:line:col"; generics and <T as Trait> go
            "thread 'main' panicked at src/de.rs:437:50:\nstack backtrace:\n"
            "   0: rust_begin_unwind\n"
            "             at /rustc/90c5418/library/std/src/panicking.rs:578:5\n"
            "   1: <&mut serde_json::de::Deserializer<R> as serde::de::Deserializer>"
            "::deserialize_any::{{closure}}\n"
            "             at /cargo/registry/src/serde_json-1.0.87/src/de.rs:1300:13\n",
            "/cargo/registry/src/serde_json-1.0.87/src/de.rs",
            1300,
            "deserialize_any",
            1,
        ),
        (  # a Swift crash report names file:line in parentheses
            "Fatal error: Unexpectedly found nil while unwrapping an Optional value\n"
            "0  App  0x0000000100a1 Router.route(_:) + 120 (Router.swift:42)\n",
            "Router.swift",
            42,
            "",
            0,
        ),
        (  # Node: a constructor's frame
            "TypeError: Cannot read properties of undefined (reading 'handle')\n"
            "    at new Router (/app/node_modules/express/lib/router/index.js:46:12)\n"
            "    at Object.<anonymous> (/app/server.js:3:14)\n",
            "/app/node_modules/express/lib/router/index.js",
            46,
            "Router",
            0,
        ),
        (  # Java 9+: the module or class loader before the class
            "java.util.concurrent.RejectedExecutionException: Task rejected\n"
            "\tat java.base/java.util.concurrent.ThreadPoolExecutor$AbortPolicy"
            ".rejectedExecution(ThreadPoolExecutor.java:2065)\n"
            "\tat app//com.acme.App.main(App.java:12)\n",
            "com/acme/App.java",
            12,
            "main",
            1,
        ),
        (  # Ruby: innermost first, later frames after "from", blocks named by their method
            "lib/rack/multipart/parser.rb:317:in `get_filename': undefined method `empty?' "
            "for nil:NilClass (NoMethodError)\n"
            "\tfrom /gems/rack-2.2.22/lib/rack/multipart/parser.rb:91:in `block in parse'\n",
            "/gems/rack-2.2.22/lib/rack/multipart/parser.rb",
            91,
            "parse",
            1,
        ),
        (  # Ruby 3.4 quotes the qualified method
            "app/models/user.rb:12:in 'User#full_name': undefined method 'upcase' for nil\n",
            "app/models/user.rb",
            12,
            "full_name",
            0,
        ),
        (  # PHP: the error's line runs in the function #0 called; #0's line in the one #1 called
            "PHP Fatal error:  Uncaught LogicException: ambiguous in /app/src/Application.php:737\n"
            "Stack trace:\n"
            "#0 /app/src/Application.php(266): Acme\\Console\\Application->find('ca')\n"
            "#1 /app/bin/console(42): Acme\\Console\\Application->doRun(Object(Input))\n"
            "#2 {main}\n  thrown in /app/src/Application.php on line 737\n",
            "/app/src/Application.php",
            266,
            "doRun",
            1,
        ),
        (
            "PHP Fatal error:  Uncaught LogicException: ambiguous in /app/src/Application.php:737\n"
            "Stack trace:\n"
            "#0 /app/src/Application.php(266): Acme\\Console\\Application->find('ca')\n",
            "/app/src/Application.php",
            737,
            "find",
            0,
        ),
        (  # .NET
            "System.NullReferenceException: Object reference not set to an instance of an object.\n"
            "   at Acme.Io.Reader.ReadLine() in C:\\src\\Acme\\Io\\Reader.cs:line 57\n"
            "   at Acme.App.Main(String[] args) in C:\\src\\Acme\\App.cs:line 12\n",
            "C:\\src\\Acme\\App.cs",
            12,
            "Main",
            1,
        ),
        (  # a closure (Find.func1) is reported as the function it is defined in
            "goroutine 1 [running]:\n"
            "github.com/spf13/cobra.(*Command).Find.func1(0xc0001b2000, {0xc000012110, 0x1})\n"
            "\t/go/pkg/mod/github.com/spf13/cobra@v1.6.1/command.go:682 +0x1c5\n",
            "/go/pkg/mod/github.com/spf13/cobra@v1.6.1/command.go",
            682,
            "Find",
            0,
        ),
        (
            "tests/test_api.py:12: in test_get\n    api.get()\nsrc/api.py:30: in get\n"
            "    raise KeyError(key)",
            "src/api.py",
            30,
            "get",
            0,
        ),
    ],
)
def test_other_frame_formats(trace: str, path: str, line: int, function: str, depth: int) -> None:
    frames = extract_evidence(trace).frames
    match = [f for f in frames if f.path == path and f.line == line]
    assert match, frames
    assert (match[0].line, match[0].function, match[0].depth) == (line, function, depth)


def test_an_exception_groups_frames_are_found(tmp_path) -> None:
    # Python 3.11 prints an ExceptionGroup's traceback behind "|" margins.
    batch = (
        "def check_all(prices):\n"
        "    errors = [ValueError(p) for p in prices if not p.startswith('$')]\n"
        "    raise ExceptionGroup('bad prices', errors)\n"
    )
    stderr = _run_in_package(
        tmp_path, {"batch.py": batch}, "from shop.batch import check_all; check_all(['1', '$2'])"
    )
    assert "|" in stderr, stderr
    ev = extract_evidence(stderr)
    frame = next(f for f in ev.frames if f.function == "check_all")
    assert frame.path.endswith("shop/batch.py") and frame.line == 3 and frame.depth == 0
    assert any(e.startswith("ExceptionGroup: bad prices") for e in ev.exceptions)
    assert any(e.startswith("ValueError") for e in ev.exceptions)
    # a bare base class is an exception line too (it was missed: one letter before the suffix)
    assert extract_evidence("it fails\nException: boom").exceptions == ("Exception: boom",)


def test_frame_paths_map_to_indexed_files_by_their_tail() -> None:
    by_name = {
        "core.py": ["markdown/core.py", "other/core.py"],
        "util.py": ["markdown/util.py"],
        "reader.java": ["src/main/java/com/acme/io/Reader.java"],
    }
    assert map_path("/venv/lib/site-packages/markdown/core.py", by_name) == ["markdown/core.py"]
    assert map_path("C:\\py\\Lib\\markdown\\util.py", by_name) == ["markdown/util.py"]
    assert map_path("com/acme/io/Reader.java", by_name) == ["src/main/java/com/acme/io/Reader.java"]
    # one shared component is not enough: the standard library's json/core.py is not ours
    assert map_path("/usr/lib/python3.12/json/core.py", by_name) == []
    assert map_path("core.py", by_name) == ["markdown/core.py", "other/core.py"]


def test_a_frame_in_the_repositorys_own_directory_maps_onto_its_root_files(tmp_path) -> None:
    # Go's module cache and unpacked gems name the repository's directory with its release;
    # a file at the repository's root shares only its own name with such a frame.
    repo = tmp_path / "cobra"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run(
        ["git", "-C", str(repo), "remote", "add", "origin", "https://github.com/spf13/Cobra.git"],
        check=True,
    )
    with GitRepo(repo) as git:
        assert git.remote_urls() == ["https://github.com/spf13/Cobra.git"]
        roots = repository_names(git)
    assert roots == {"cobra"}
    by_name = {"command.go": ["command.go"], "args.go": ["cmd/args.go"]}
    cache = "/home/dev/go/pkg/mod/github.com/spf13/cobra@v1.6.1"
    assert map_path(f"{cache}/command.go", by_name, roots) == ["command.go"]
    assert map_path(f"{cache}/cmd/args.go", by_name, roots) == ["cmd/args.go"]
    assert map_path("/usr/lib/ruby/gems/3.1.0/gems/cobra-2.2.22/command.go", by_name, roots) == [
        "command.go"
    ]
    # another module's file of the same name is not ours, nor is any without the roots
    assert map_path("/go/pkg/mod/github.com/acme/kv@v0.3.0/command.go", by_name, roots) == []
    assert map_path(f"{cache}/command.go", by_name) == []
    assert repository_names(None) == frozenset()


def test_dense_window_keeps_title_exception_and_named_lines() -> None:
    filler = "\n".join(f"INFO worker {n} heartbeat ok" for n in range(400))
    text = (
        "Upload retries never stop\n\nWhen the server answers 429 the client loops.\n\n"
        f"{filler}\nThe loop is in retry_with_backoff I think.\n"
        "RuntimeError: too many retries"
    )
    ev = extract_evidence(text)

    def count(t: str) -> int:
        return len(t.split())

    window, selected = dense_window(ev, count, 60)
    assert selected
    assert window.startswith("Upload retries never stop")
    assert "RuntimeError: too many retries" in window
    assert "retry_with_backoff" in window
    assert "heartbeat" not in window
    assert count(window) <= 60
    short, selected = dense_window(extract_evidence("where is retry_with_backoff?"), count, 60)
    assert (short, selected) == ("where is retry_with_backoff?", False)


def test_lexical_query_uses_the_whole_text_without_frame_boilerplate(tmp_path) -> None:
    trace = _real_traceback(tmp_path)
    tail = " ".join(["needle_at_the_end"] * 10)
    tokens = lexical_query(extract_evidence(f"Report\n{'word ' * 5000}\n{trace}\n{tail}"))
    assert "needle_at_the_end" in tokens and tokens.count("needle_at_the_end") == 3
    assert "parse_price" in tokens and "price" in tokens
    assert "site" not in tokens and "line" not in tokens


def test_bad_input() -> None:
    for empty in ("", "   \n\t"):
        with pytest.raises(ValueError, match="empty text"):
            extract_evidence(empty)
    huge = "Title line\n" + "x = compute_total(a, b)\n" * 50_000 + 'File "a/b.py", line 3, in f'
    ev = extract_evidence(huge)
    assert len(ev.text) < len(huge)
    assert ev.notes and "truncated" in ev.notes[0]
    assert ev.text.startswith("Title line")
    assert ev.frames and ev.frames[-1].path == "a/b.py"
