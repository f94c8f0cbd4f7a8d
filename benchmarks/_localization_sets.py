"""A localization set built from real bugs injected into installed pure-Python packages.

For each package: copy its source, run a few public calls ("scenarios") under a profiler to
see which functions they execute, then mutate one executed function at a time (a flipped
comparison, a negated condition, an off-by-one constant, a swapped operator, ``return None``
— each within one line, so line numbers stay those of the original) and rerun the scenarios
that reach it. When a scenario now raises, the case is an issue with the real traceback; when
it returns something else, the case is a prose issue quoting the call, what it returned and
what was expected (no traceback: prose and identifiers only). The gold is the mutated
function: its file and lines in the unmutated source, which is what gets indexed.

Nothing is downloaded; the cases are regenerated deterministically (seeded) from what is
installed, so only this generator is committed.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import random
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from benchmarks._repositories import installed_sources as package_files

__all__ = ["SCENARIOS", "LocalizationCase", "build_cases", "package_files"]


@dataclass(frozen=True)
class LocalizationCase:
    """An issue text and the code a fix would edit.

    Attributes:
        package: The package whose source is indexed.
        kind: ``traceback`` or ``prose``.
        text: The issue.
        gold_path: File of the mutated function (``package/relative/path.py``).
        gold_name: Its qualified name within the module (``Class.method``).
        gold_start: First line of the function in the unmutated source.
        gold_end: Its last line.
        mutation: What was changed (for reading the set, not for scoring).
    """

    package: str
    kind: str
    text: str
    gold_path: str
    gold_name: str
    gold_start: int
    gold_end: int
    mutation: str


# Public calls per package: (code evaluated to a result, the API the issue is about).
SCENARIOS: dict[str, list[tuple[str, str]]] = {
    "packaging": [
        ("packaging.version.Version('1.0.post2.dev3')", "packaging.version.Version"),
        ("str(packaging.version.Version('2!1.0rc1+local.7'))", "packaging.version.Version"),
        (
            "packaging.version.parse('2.0.0rc1') > packaging.version.parse('2.0.0b3')",
            "packaging.version.parse",
        ),
        (
            "packaging.specifiers.SpecifierSet('>=1.0,<2,!=1.3.*').contains('1.5')",
            "SpecifierSet.contains",
        ),
        (
            "list(packaging.specifiers.Specifier('~=2.2').filter(['2.1', '2.3', '3.0']))",
            "Specifier.filter",
        ),
        (
            "str(packaging.requirements.Requirement("
            "'requests[security]>=2.8.1; python_version < \"3.8\"'))",
            "packaging.requirements.Requirement",
        ),
        (
            "packaging.markers.Marker("
            '\'python_version >= "3.6" and os_name == "posix"\').evaluate()',
            "Marker.evaluate",
        ),
        ("packaging.utils.canonicalize_name('Foo.Bar_baz')", "packaging.utils.canonicalize_name"),
        ("packaging.utils.canonicalize_version('1.0.0')", "canonicalize_version"),
        (
            "packaging.utils.parse_wheel_filename('foo_bar-1.0-2-py3-none-any.whl')",
            "parse_wheel_filename",
        ),
        ("sorted(['1.10', '1.2', '1.2.post1'], key=packaging.version.Version)", "Version"),
        ("str(packaging.tags.Tag('py3', 'none', 'any'))", "packaging.tags.Tag"),
    ],
    "jinja2": [
        ("jinja2.Template('Hello {{ name|upper }}!').render(name='ann')", "Template.render"),
        (
            "jinja2.Template('{% for x in xs %}{{ loop.index }}:{{ x }} {% endfor %}')"
            ".render(xs='abc')",
            "Template.render",
        ),
        (
            "jinja2.Template('{% if n > 2 %}big{% elif n %}small{% else %}none{% endif %}')"
            ".render(n=1)",
            "Template.render",
        ),
        (
            "jinja2.Template('{% macro m(a, b=2) %}{{ a + b }}{% endmacro %}{{ m(1) }}').render()",
            "macros",
        ),
        (
            'jinja2.Template(\'{{ xs|join(", ") }} {{ y|default("-") }} {{ xs|length }}\')'
            ".render(xs=['a', 'b'])",
            "filters",
        ),
        (
            "jinja2.Environment(loader=jinja2.DictLoader({'base': '<{% block b %}x{% endblock %}>',"
            " 'child': '{% extends \"base\" %}{% block b %}y{{ super() }}{% endblock %}'}))"
            ".get_template('child').render()",
            "template inheritance",
        ),
        (
            "jinja2.Environment(autoescape=True).from_string('{{ s }}').render(s='<b>&</b>')",
            "autoescape",
        ),
        (
            "jinja2.Template('{%- for k, v in d|dictsort %} {{ k }}={{ v }}{% endfor -%}')"
            ".render(d={'b': 1, 'a': 2})",
            "dictsort",
        ),
        (
            "jinja2.Template('{% for g in xs|groupby(\"k\") %}{{ g.grouper }}{% endfor %}')"
            ".render(xs=[{'k': 2}, {'k': 1}, {'k': 2}])",
            "groupby",
        ),
        (
            'jinja2.Template(\'{% set x = [1, 2, 3] %}{{ x|sum }} {{ x|map("string")|join }}'
            " {{ (x|first) ~ (x|last) }}').render()",
            "filters",
        ),
        (
            'jinja2.Template(\'{{ "%s-%d"|format("a", 3) }} {{ "ab cd"|title }}'
            " {{ 7 // 2 }} {{ 2 ** 3 }}').render()",
            "expressions",
        ),
        (
            "jinja2.Template('{% with a = 1 %}{% filter upper %}v{{ a }}{% endfilter %}"
            "{% endwith %}').render()",
            "with/filter blocks",
        ),
    ],
    "markdown": [
        ("markdown.markdown('# Title\\n\\nSome *em* and **strong** text.')", "markdown.markdown"),
        ("markdown.markdown('* a\\n* b\\n    * c\\n\\n1. one\\n2. two')", "lists"),
        ("markdown.markdown('    code block\\n    more\\n\\n> quote\\n> more')", "code blocks"),
        (
            "markdown.markdown('[link](http://x.org \"t\") and ![img](a.png) <http://y.org>')",
            "links",
        ),
        (
            "markdown.markdown('a | b\\n--- | ---\\n1 | 2', extensions=['tables'])",
            "tables extension",
        ),
        (
            "markdown.markdown('```python\\nx = 1\\n```', extensions=['fenced_code'])",
            "fenced_code extension",
        ),
        (
            "markdown.markdown('[TOC]\\n\\n# A\\n\\n## B', extensions=['toc'])",
            "toc extension",
        ),
        (
            "markdown.markdown('Text[^1].\\n\\n[^1]: Note.', extensions=['footnotes'])",
            "footnotes extension",
        ),
        (
            "markdown.markdown('The HTML spec.\\n\\n*[HTML]: Hyper Text', extensions=['abbr'])",
            "abbr extension",
        ),
        (
            "markdown.markdown('Term\\n:   Definition', extensions=['def_list'])",
            "def_list extension",
        ),
        (
            "markdown.markdown('# H {: #id .cls }', extensions=['attr_list'])",
            "attr_list extension",
        ),
        (
            "markdown.markdown('line one  \\nline two &amp; <span>x</span>\\n\\n---\\n\\nA\\n===')",
            "line breaks and setext headers",
        ),
    ],
    "yaml": [
        ("yaml.safe_load('a: 1\\nb: [x, y]\\nc: {d: true}')", "yaml.safe_load"),
        ("yaml.safe_load('- 1.5\\n- 2001-12-14\\n- ~\\n- 0x1f\\n- \"q\"')", "yaml.safe_load"),
        (
            "yaml.safe_load('s: |\\n  line1\\n  line2\\nf: >\\n  folded\\n  text\\n')",
            "block scalars",
        ),
        ("yaml.safe_load('a: &x {k: v}\\nb: *x\\nc:\\n  <<: *x\\n  z: 1')", "anchors and merge"),
        ("list(yaml.safe_load_all('--- 1\\n--- [2]\\n...'))", "yaml.safe_load_all"),
        ("yaml.safe_dump({'a': [1, 2], 'b': {'c': None}, 'd': 'x: y'})", "yaml.safe_dump"),
        ("yaml.safe_dump([1.5, True, 'multi\\nline'], default_flow_style=True)", "flow style"),
        ("yaml.dump({'t': (1, 2)}, Dumper=yaml.Dumper)", "yaml.dump"),
        ("yaml.safe_load('? complex key\\n: value\\n\"quoted\\\\tesc\": 2')", "complex keys"),
        ("yaml.safe_dump({'k': 'é ü'}, allow_unicode=True, indent=4)", "unicode dump"),
        ("yaml.safe_load('!!set {a, b}')", "tags"),
        ("yaml.safe_load('# c\\nkey:   value # trailing\\nlist:\\n- a\\n-   b\\n')", "comments"),
    ],
    "pathspec": [
        (
            "sorted(pathspec.PathSpec.from_lines('gitwildmatch', ['*.py', '!test_*.py', "
            "'build/']).match_files(['a.py', 'test_a.py', 'build/x.txt', 'src/b.py']))",
            "PathSpec.match_files",
        ),
        (
            "pathspec.GitIgnoreSpec.from_lines(['/docs/**/*.md', 'foo/'])"
            ".match_file('docs/a/b.md')",
            "GitIgnoreSpec.match_file",
        ),
        (
            "[pathspec.GitIgnoreSpec.from_lines(['*.log', '!keep.log']).match_file(p)"
            " for p in ('x.log', 'keep.log', 'd/keep.log')]",
            "negation",
        ),
        (
            "pathspec.PathSpec.from_lines('gitwildmatch', ['a/**/b', '[abc]z?.txt'])"
            ".match_file('a/x/y/b')",
            "double star",
        ),
        (
            "pathspec.PathSpec.from_lines('gitwildmatch', ['[abc]z?.txt']).match_file('bz1.txt')",
            "character classes",
        ),
        ("pathspec.util.normalize_file('./a\\\\b/c.py', separators=['\\\\'])", "normalize_file"),
        (
            "pathspec.patterns.GitWildMatchPattern.pattern_to_regex('src/**/test_*.py')",
            "pattern_to_regex",
        ),
        (
            "sorted(pathspec.GitIgnoreSpec.from_lines(['**/tmp', '\\\\#x', ' ']).match_files("
            "['tmp', 'a/tmp', 'a/tmp/f', '#x', 'y']))",
            "escapes",
        ),
        (
            "[r.include for r in pathspec.PathSpec.from_lines('gitwildmatch', "
            "['*.txt', '!a.txt']).check_files(['a.txt', 'b.txt'])]",
            "check_files",
        ),
        ("pathspec.GitIgnoreSpec.from_lines(['dir/']).match_file('dir/sub/f')", "directories"),
    ],
}

_ISSUE_TEMPLATES = (
    "{exc_type} when using {api}\n\n"
    "I'm upgrading a project and hit this with {package} {version}.\n\n"
    "```python\nimport {package}\n{code}\n```\n\n{trace}\n"
    "I expected `{expected}` here. Python {py}, Linux.",
    "{api} crashes: {exc_line}\n\n"
    "Minimal reproduction:\n\n    import {package}\n    {code}\n\n"
    "Full output:\n\n{trace}\nThis worked in a previous release. Any idea what changed?",
    "Regression in {package}: {exc_type}\n\n"
    "Our CI started failing after updating {package} to {version}. The call\n"
    "`{code}` should give `{expected}` but raises instead:\n\n{trace}\n"
    "Environment: Python {py}, {package} {version}.",
)
_PROSE_TEMPLATES = (
    "Wrong result from {api}\n\n"
    "With {package} {version}:\n\n```python\nimport {package}\n{code}\n```\n\n"
    "returns\n\n    {got}\n\nbut it should return\n\n    {expected}\n\n"
    "No error is raised, the output is just wrong.",
    "{api} gives an unexpected value\n\n"
    "Calling `{code}` now returns `{got}`. Before upgrading it returned `{expected}`, which is "
    "what the documentation describes. Python {py}.",
)

# The profiler and runner executed in a subprocess: (scenario index → result or error).
_RUNNER = textwrap.dedent(
    """
    import json, sys, traceback
    sys.path.insert(0, sys.argv[1])
    package = sys.argv[2]
    scenarios = json.loads(sys.argv[3])
    profile = sys.argv[4] == "1"
    import importlib
    mod = importlib.import_module(package)
    root = mod.__path__[0]
    for sub in ("version", "specifiers", "requirements", "markers", "utils", "tags",
                "util", "patterns"):
        try:
            importlib.import_module(f"{package}.{sub}")
        except ImportError:
            pass
    out = []
    for code in scenarios:
        called = set()
        def prof(frame, event, arg):
            if event == "call" and frame.f_code.co_filename.startswith(root):
                c = frame.f_code
                called.add((c.co_filename[len(root) + 1:], c.co_firstlineno))
        if profile:
            sys.setprofile(prof)
        try:
            value = eval(code, {package: mod})
            res = {"ok": repr(value)[:300]}
        except Exception as exc:
            res = {"error": "".join(traceback.format_exception(exc)),
                   "type": type(exc).__name__, "line": traceback.format_exception_only(exc)[-1]}
        finally:
            sys.setprofile(None)
        res["called"] = sorted(called)
        out.append(res)
    print(json.dumps(out))
    """
)


def _package_root(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        msg = f"package {package!r} is not installed"
        raise ValueError(msg)
    return Path(next(iter(spec.submodule_search_locations)))


def _run(site: Path, package: str, codes: list[str], *, profile: bool) -> list[dict]:
    args = [sys.executable, "-c", _RUNNER, str(site), package, json.dumps(codes), str(int(profile))]
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=20, check=False)
    except subprocess.TimeoutExpired:
        return []
    if done.returncode != 0:
        return []
    return json.loads(done.stdout.splitlines()[-1])


_Mutation = tuple[int, int, int, str, str]


@dataclass(frozen=True)
class _Function:
    rel: str
    qualname: str
    start: int
    end: int
    node: ast.AST


def _functions(tree: ast.Module, rel: str) -> Iterator[_Function]:
    def walk(node: ast.AST, prefix: str) -> Iterator[_Function]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                name = f"{prefix}{child.name}"
                start = min([child.lineno, *(d.lineno for d in child.decorator_list)])
                yield _Function(rel, name, start, child.end_lineno or start, child)
                yield from walk(child, name + ".")
            elif isinstance(child, ast.ClassDef):
                yield from walk(child, f"{prefix}{child.name}.")

    yield from walk(tree, "")


_SWAP = {
    ast.Eq: "!=",
    ast.NotEq: "==",
    ast.Lt: ">=",
    ast.GtE: "<",
    ast.Gt: "<=",
    ast.LtE: ">",
    ast.In: "not in",
    ast.NotIn: "in",
    ast.Is: "is not",
    ast.IsNot: "is",
}


def _mutations(fn: _Function, source_lines: list[bytes]) -> Iterator[_Mutation]:
    """(line, start col, end col, replacement, description) of one-line mutations."""
    body = fn.node.body  # type: ignore[attr-defined]
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    for stmt in body:
        for node in ast.walk(stmt):
            if getattr(node, "lineno", None) != getattr(node, "end_lineno", -1):
                continue
            if isinstance(node, ast.If | ast.While):  # a one-line ``if x: y``
                node, negate = node.test, True
            else:
                negate = False
            at = (node.lineno, node.col_offset, node.end_col_offset)  # type: ignore[attr-defined]
            seg = source_lines[at[0] - 1][at[1] : at[2]].decode()
            text = f"not ({seg})" if negate else _mutated(node)
            if text is not None:
                yield (*at, text, f"negated {seg}" if negate else f"{seg} → {text}")


def _mutated(node: ast.AST) -> str | None:
    """The replacement text of ``node`` for one mutation, or ``None``."""
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _SWAP:
        swapped = _SWAP[type(node.ops[0])]
        return f"({ast.unparse(node.left)} {swapped} {ast.unparse(node.comparators[0])})"
    if isinstance(node, ast.Return) and node.value is not None:
        is_none = isinstance(node.value, ast.Constant) and node.value.value is None
        return None if is_none else "return None"
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub):
        op = "-" if isinstance(node.op, ast.Add) else "+"
        return f"({ast.unparse(node.left)} {op} {ast.unparse(node.right)})"
    if isinstance(node, ast.Constant) and type(node.value) is int and 0 <= node.value <= 8:
        return str(node.value + 1)
    if isinstance(node, ast.BoolOp):
        op = " or " if isinstance(node.op, ast.And) else " and "
        return "(" + op.join(ast.unparse(v) for v in node.values) + ")"
    return None


def build_cases(
    package: str, work: Path, *, max_cases: int = 30, seed: int = 0
) -> list[LocalizationCase]:
    """Inject bugs into a copy of ``package`` and write an issue for each one that shows."""
    cache = work / f"{package}-cases.json"
    if cache.exists():
        return [LocalizationCase(**c) for c in json.loads(cache.read_text("utf-8"))]
    root = _package_root(package)
    site = work / f"{package}-site"
    shutil.rmtree(site, ignore_errors=True)
    shutil.copytree(root, site / package, ignore=shutil.ignore_patterns("__pycache__"))
    scenarios = SCENARIOS[package]
    codes = [code for code, _ in scenarios]
    baseline = _run(site, package, codes, profile=True)
    if len(baseline) != len(codes):
        msg = f"{package}: the scenarios do not run on the unmutated package"
        raise RuntimeError(msg)
    for code, res in zip(codes, baseline, strict=True):
        if "error" in res:
            msg = f"{package}: scenario {code!r} fails unmutated:\n{res['error']}"
            raise RuntimeError(msg)
    reached: dict[tuple[str, int], list[int]] = {}
    for n, res in enumerate(baseline):
        for rel, first in res["called"]:
            reached.setdefault((rel, first), []).append(n)
    candidates: list[tuple[_Function, list[int]]] = []
    for path in sorted((site / package).rglob("*.py")):
        rel = path.relative_to(site / package).as_posix()
        tree = ast.parse(path.read_text("utf-8"))
        for fn in _functions(tree, rel):
            runs = reached.get((rel, fn.node.lineno)) or reached.get((rel, fn.start))  # type: ignore[attr-defined]
            if runs and fn.end - fn.start >= 2:
                candidates.append((fn, runs))
    rng = random.Random(f"{package}-{seed}")
    rng.shuffle(candidates)
    version = getattr(__import__(package), "__version__", "latest")
    py = ".".join(map(str, sys.version_info[:2]))
    cases: list[LocalizationCase] = []
    for fn, runs in candidates:
        if len(cases) >= max_cases:
            break
        path = site / package / fn.rel
        original = path.read_bytes()
        lines = original.split(b"\n")
        muts = list(_mutations(fn, lines))
        rng.shuffle(muts)
        for line, start, end, text, desc in muts[:4]:
            mutated = list(lines)
            mutated[line - 1] = lines[line - 1][:start] + text.encode() + lines[line - 1][end:]
            path.write_bytes(b"\n".join(mutated))
            try:
                got = _run(site, package, [codes[n] for n in runs], profile=False)
            finally:
                path.write_bytes(original)
            pairs = zip(runs, got, strict=False)
            diff = [(n, r) for n, r in pairs if _strip(r) != _strip(baseline[n])]
            if not diff:
                continue
            n, res = diff[0]
            code, api = scenarios[n]
            fields = {
                "package": package,
                "version": version,
                "py": py,
                "code": code,
                "api": f"`{api}`" if "." in api or "_" in api else api,
                "expected": baseline[n]["ok"],
            }
            if "error" in res:
                template = _ISSUE_TEMPLATES[len(cases) % len(_ISSUE_TEMPLATES)]
                text_ = template.format(
                    **fields,
                    exc_type=res["type"],
                    exc_line=res["line"].strip(),
                    trace=res["error"],
                )
                kind = "traceback"
            else:
                template = _PROSE_TEMPLATES[len(cases) % len(_PROSE_TEMPLATES)]
                text_ = template.format(**fields, got=res["ok"])
                kind = "prose"
            cases.append(
                LocalizationCase(
                    package,
                    kind,
                    text_,
                    f"{package}/{fn.rel}",
                    fn.qualname,
                    fn.start,
                    fn.end,
                    f"{fn.rel}:{line}: {desc}",
                )
            )
            break
    shutil.rmtree(site, ignore_errors=True)
    cache.write_text(json.dumps([asdict(c) for c in cases], ensure_ascii=False, indent=1), "utf-8")
    return cases


def _strip(result: dict) -> dict:
    return {k: v for k, v in result.items() if k != "called"}
