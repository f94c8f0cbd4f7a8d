"""Callee lookup: the nearest definition of a called name first, split functions by their
first part.

Real tree-sitter chunks of three files go into a real lexical index. ``str_format`` is
defined twice: in the caller's directory, long enough to be split into parts, and in a vendored
copy elsewhere. Before, a callee's ids came in id-hash order, so a one-line tail part of the
helper (its final ``return``) could stand for it, or the vendored copy could come first.
"""

from __future__ import annotations

from pathlib import Path

from c2rag.chunk import Chunker
from c2rag.retrieve.neighbours import callees, callers, definitions
from c2rag.store.lexical import LexicalIndex

_BODY = "\n".join(
    f"    part_{n} = buffer_{n}.render(template_{n}, values_{n}, width={n})" for n in range(24)
)
STRINGS = f'''\
def str_format(template, values, width):
    """Format ``template`` with ``values`` into a buffer of ``width`` characters."""
{_BODY}
    return part_0
'''
VENDORED = '''\
def str_format(template, values, width):
    """A vendored copy."""
    return template.format(*values)[:width]
'''
SENSORS = '''\
def cpu_temperature(core):
    """Temperature of one CPU core."""
    name = str_format("dev.cpu.%d.temperature", [core], 26)
    return read_sensor(name)
'''


CHANGES = """# Changes

## 7.2

- `str_format` no longer overflows its buffer; `cpu_temperature` calls str_format safely.
"""
CONFIG = "sensors:\n  format: str_format\n  unit: celsius\n"


def _index(tmp_path: Path) -> tuple[LexicalIndex, dict[str, str]]:
    """The index, and each chunk's id by ``path#part``."""
    chunker = Chunker(max_tokens=120)
    lexical = LexicalIndex(tmp_path / "lexical")
    ids: dict[str, str] = {}
    items = []
    for path, text in (
        ("psutil/strings.py", STRINGS),
        ("vendor/lib/strings.py", VENDORED),
        ("psutil/sensors.py", SENSORS),
        ("CHANGES.md", CHANGES),
        ("config/sensors.yaml", CONFIG),
    ):
        for chunk in chunker.chunk(path, text.encode()).chunks:
            # Ids that sort the last part first, as content hashes may.
            cid = f"{chunk.parts - chunk.part}:{path}"
            ids[f"{path}#{chunk.part}"] = cid
            items.append((cid, chunk))
    lexical.upsert(items)
    return lexical, ids


def test_a_split_callee_is_given_by_its_first_part_and_the_nearest_copy_first(
    tmp_path: Path,
) -> None:
    lexical, ids = _index(tmp_path)
    parts = [cid for key, cid in ids.items() if key.startswith("psutil/strings.py#")]
    assert len(parts) >= 2, "the helper must be split for this test to mean anything"

    found = definitions("str_format", lexical, near="psutil/sensors.py")
    assert found == [ids["psutil/strings.py#1"], ids["vendor/lib/strings.py#1"]]

    caller = next(
        c for c in Chunker(max_tokens=120).chunk("psutil/sensors.py", SENSORS.encode()).chunks
    )
    got = callees(caller, lexical, self_id=ids["psutil/sensors.py#1"], limit=4)
    assert got[0] == ids["psutil/strings.py#1"]
    assert not set(got) & set(parts[1:]), "a tail part must not stand for the helper"


def test_a_copy_in_the_same_file_comes_before_one_in_the_same_directory(
    tmp_path: Path,
) -> None:
    lexical, ids = _index(tmp_path)
    found = definitions("str_format", lexical, near="vendor/lib/strings.py")
    assert found[0] == ids["vendor/lib/strings.py#1"]
    assert definitions("no_such_name", lexical, near="psutil/sensors.py") == []


def test_a_retriever_shows_a_split_callee_by_its_head_and_hints_all_its_parts(
    tmp_path: Path, minilm_encoder
) -> None:
    """Through a real index (MiniLM's window splits the helper): ``neighbours`` shows the
    helper's first part, and a session's hint on that part reaches every part, since results
    keep one part per symbol and the one matching the question may be another."""
    from c2rag.git import GitRepo
    from c2rag.index import CodeIndex
    from c2rag.retrieve import CodeRetriever
    from c2rag.store import IndexStore, StoreLocation
    from tests.fixtures.repos import init_repo

    root = tmp_path / "repo"
    files = {
        "psutil/strings.py": STRINGS,
        "vendor/lib/strings.py": VENDORED,
        "psutil/sensors.py": SENSORS,
    }
    init_repo(root, files=files)
    CodeIndex(root, encoder=minilm_encoder, store_dir=tmp_path / "store").update()
    store = IndexStore.open(StoreLocation.for_repo(root, store_dir=tmp_path / "store"))
    with CodeRetriever(store, minilm_encoder, GitRepo(root)) as retriever:
        symbols = retriever.lexical.symbols
        helper = sorted(
            (cid for cid in symbols.in_path("psutil/strings.py")),
            key=lambda cid: symbols.get(cid).start_line,  # type: ignore[union-attr]
        )
        assert len(helper) >= 2, "MiniLM's window must split the helper"
        sensor = retriever.search("temperature of one CPU core", k=1)[0]
        assert sensor.chunk.name.endswith("cpu_temperature")
        around = retriever.neighbours(sensor, limit=2, direction="callees")
        assert around[0].id == helper[0]
        assert around[0].chunk.start_line == 1 and around[0].chunk.path == "psutil/strings.py"

        result = retriever.search_detailed("what does it format?", k=5, hint=[helper[0]])
        hinted = dict(result.rankings["hint"])
        assert set(helper) <= set(hinted)
        assert {hinted[cid] for cid in helper} == {1.0}


def test_a_changelog_or_config_naming_a_function_is_not_its_caller(tmp_path: Path) -> None:
    """Callers are code: a changelog line or a settings file that names ``str_format`` never
    calls it (on express, "who calls it?" about ``res.redirect`` put History.md first)."""
    lexical, ids = _index(tmp_path)
    found = callers(
        next(iter(Chunker(max_tokens=120).chunk("psutil/strings.py", STRINGS.encode()).chunks)),
        lexical,
        self_id=ids["psutil/strings.py#1"],
        limit=5,
    )
    paths = {lexical.symbols.get(cid).path for cid in found}  # type: ignore[union-attr]
    assert "psutil/sensors.py" in paths
    assert not paths & {"CHANGES.md", "config/sensors.yaml"}


def test_a_php_method_calling_itself_is_not_its_own_callee(tmp_path: Path) -> None:
    # A frame in the tail part of Application::find named find's first part as "called by
    # Application::find": the own-name check split names on "." only, not "::" or "#".
    body = "\n".join(f"        $alt_{n} = $this->lookup($name, {n});" for n in range(30))
    php = (
        "<?php\nnamespace Acme;\n\nclass Application\n{\n"
        "    public function find(string $name)\n    {\n"
        f"{body}\n        return $this->find($alt_0);\n    }}\n\n"
        "    public function lookup(string $name, int $n)\n    {\n        return $name;\n    }\n}\n"
    )
    chunks = Chunker(max_tokens=120).chunk("src/Application.php", php.encode()).chunks
    lexical = LexicalIndex(tmp_path / "lexical")
    lexical.upsert([(f"c{n}", c) for n, c in enumerate(chunks)])
    tail = next(c for n, c in enumerate(chunks) if c.name.endswith("::find") and c.part > 1)
    tail_id = f"c{chunks.index(tail)}"
    names = {lexical.symbols.get(cid).name for cid in callees(tail, lexical, self_id=tail_id)}
    assert names == {"Acme\\Application::lookup"}, names


def test_callers_spell_the_name_whole_come_once_and_code_before_tests(
    tmp_path: Path, minilm_encoder
) -> None:
    """Cobra's ``Command.Flags``: its identifier token ("flag") is in every chunk that says
    "flags" or calls ``LocalFlags``, so "who calls it?" listed bash-script writers. Callers
    now spell ``Flags`` whole, one part of a split caller stands for it, its own file comes
    first and tests come after code."""
    from c2rag.git import GitRepo
    from c2rag.index import CodeIndex
    from c2rag.retrieve import CodeRetriever
    from c2rag.store import IndexStore, StoreLocation
    from tests.fixtures.repos import init_repo

    steps = "\n".join(f"\tc.step{n}(fs, {n})" for n in range(40))
    files = {
        "command.go": (
            "package cobra\n\n// Command is a command.\ntype Command struct{ flags *FlagSet }\n\n"
            "// Flags returns the flag set.\nfunc (c *Command) Flags() *FlagSet {\n"
            "\treturn c.flags\n}\n\n"
            "// ParseFlags parses the flags.\nfunc (c *Command) ParseFlags(args []string) error {\n"
            f"\tfs := c.LocalFlags()\n{steps}\n\treturn c.Flags().Parse(args)\n}}\n\n"
            "// LocalFlags are the local flags.\nfunc (c *Command) LocalFlags() *FlagSet {\n"
            "\treturn nil\n}\n"
        ),
        "bash.go": (
            "package cobra\n\n// writeFlags writes the flags of a command into the script.\n"
            'func writeFlags(buf *Buffer, cmd *Command) {\n\tbuf.Write("flags=()")\n}\n'
        ),
        "command_test.go": (
            "package cobra\n\nfunc TestFlags(t *testing.T) {\n\tc := &Command{}\n"
            "\tif c.Flags() == nil {\n\t\tt.Fatal()\n\t}\n}\n"
        ),
    }
    root = tmp_path / "repo"
    init_repo(root, files=files)
    CodeIndex(root, encoder=minilm_encoder, store_dir=tmp_path / "store").update()
    store = IndexStore.open(StoreLocation.for_repo(root, store_dir=tmp_path / "store"))
    with CodeRetriever(store, minilm_encoder, GitRepo(root)) as retriever:
        flags = retriever.search("Command.Flags", k=1)[0]
        assert flags.chunk.name == "cobra.Command.Flags"
        parse = [
            c
            for c in retriever.lexical.symbols.in_path("command.go")
            if retriever.lexical.symbols.get(c).name.endswith("ParseFlags")  # type: ignore[union-attr]
        ]
        assert len(parse) >= 2, "MiniLM's window must split ParseFlags"
        found = retriever.neighbours(flags, limit=5, direction="callers")
        names = [h.chunk.name for h in found]
        assert names == ["cobra.Command.ParseFlags", "cobra.TestFlags"]
