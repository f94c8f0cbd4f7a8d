"""The CodeSearchNet construction used by ``c2rag eval`` and the benchmark."""

from __future__ import annotations

import ast

from c2rag.chunk import strip_doc_comments
from c2rag.retrieve.evaluate import EvalCase, docstring_cases, evaluate, first_sentence
from c2rag.types import Chunk, Hit

SOURCE = '''\
import os


def read_config(path):
    """Read the configuration file and return a dict of settings.

    Lines starting with # are ignored.
    """
    with open(path) as fh:
        return dict(line.split("=", 1) for line in fh if not line.startswith("#"))


class Cache:
    def get(self, key):
        """Return the cached value for key, or None."""
        return self._data.get(key)

    def clear(self):
        """Drop everything."""
        self._data = {}

    def only_doc(self):
        """Compute nothing at all, just a placeholder."""


def test_read_config():
    """Check that reading the configuration works."""
    assert read_config


def one_liner(): """Inline docstrings are not stripped."""; return 1
'''


def test_first_sentence() -> None:
    assert first_sentence("Read the file.  More text.") == "Read the file"
    assert first_sentence("Return os.path.join(a, b) for\n  the user.\n\nDetails.") == (
        "Return os.path.join(a, b) for the user"
    )


def test_docstrings_removed_and_cases_point_at_stripped_lines() -> None:
    stripped, cases = docstring_cases({"pkg/conf.py": SOURCE, "README.md": "# hi"})
    text = stripped["pkg/conf.py"]
    ast.parse(text)  # still valid Python
    assert "Read the configuration" not in text
    assert "Return the cached value" not in text
    assert "Drop everything" in text  # too short to be a query: kept
    assert "Check that reading" in text  # tests are not queries
    assert "Inline docstrings" in text
    assert stripped["README.md"] == "# hi"
    by_name = {c.name: c for c in cases}
    assert sorted(by_name) == ["Cache.get", "Cache.only_doc", "read_config"]
    lines = text.split("\n")
    case = by_name["read_config"]
    assert case.query == "Read the configuration file and return a dict of settings"
    assert lines[case.start_line - 1].startswith("def read_config")
    assert "return dict" in lines[case.end_line - 1]
    only = by_name["Cache.only_doc"]
    assert lines[only.end_line - 1].strip() == "pass"


JS_SOURCE = """\
'use strict';

/**
 * Normalize a content type, for example "html" becomes "text/html".
 *
 * @param {String} type
 * @return {String}
 */

exports.normalizeType = function(type) {
  return type.indexOf('/') === -1 ? mime.lookup(type) : type;
};

// Send the response body with the given status code attached.
function sendStatus(res, code) {
  res.statusCode = code;
  return res.end();
}

/** Stub. */
function tiny() { return 1; }
"""

RUST_SOURCE = """\
impl Map {
    /// Gets an iterator over the values of the map, in key order.
    ///
    /// # Examples
    #[inline]
    pub fn values(&self) -> Values {
        Values { iter: self.map.values() }
    }
}
"""

GO_SOURCE = """\
package cobra

// HasParent determines if the command is a child command of another one.
func (c *Command) HasParent() bool {
	return c.parent != nil
}
"""


def test_doc_comments_of_other_languages_make_queries_and_keep_line_numbers() -> None:
    files = {"lib/utils.js": JS_SOURCE, "src/map.rs": RUST_SOURCE, "command.go": GO_SOURCE}
    assert docstring_cases(files)[1] == []  # without a doc comment stripper: Python only
    stripped, cases = docstring_cases(files, doc_comments=strip_doc_comments)
    by_name = {c.name: c for c in cases}
    for path, source in files.items():
        assert stripped[path].count("\n") == source.count("\n"), path  # lines blanked, not cut
    js = stripped["lib/utils.js"].split("\n")
    assert "Normalize a content type" not in stripped["lib/utils.js"]
    assert "@param" not in stripped["lib/utils.js"]
    assert "Stub." in stripped["lib/utils.js"]  # too short to be a query: kept
    queries = {c.query: c for c in cases}
    normalize = queries['Normalize a content type, for example "html" becomes "text/html"']
    assert (normalize.path, js[normalize.start_line - 1]) == (
        "lib/utils.js",
        "exports.normalizeType = function(type) {",
    )
    assert js[normalize.end_line - 1] == "};"
    status = queries["Send the response body with the given status code attached"]
    assert js[status.start_line - 1].startswith("function sendStatus")
    rust = stripped["src/map.rs"].split("\n")
    values = queries["Gets an iterator over the values of the map, in key order"]
    assert rust[values.start_line - 1].strip() == "#[inline]"  # attributes are code
    assert rust[values.end_line - 1].strip() == "}"
    assert "///" not in stripped["src/map.rs"]
    go = queries["HasParent determines if the command is a child command of another one"]
    assert stripped["command.go"].split("\n")[go.start_line - 1].startswith("func (c *Command)")
    assert len(by_name) == 4


def test_strip_doc_comments_leaves_a_file_without_comments_alone() -> None:
    source = "function add(a, b) {\n  return a + b;\n}\n"
    assert strip_doc_comments("add.js", source) == (source, {})


def _hit(path: str, start: int, end: int) -> Hit:
    return Hit(f"{path}:{start}", Chunk(path, "python", "function", "f", start, end, "x"), 1.0, "c")


def test_evaluate_mrr_and_recall() -> None:
    cases = [
        EvalCase("q1", "a.py", 10, 20),
        EvalCase("q2", "b.py", 1, 5),
        EvalCase("q3", "c.py", 1, 2),
    ]
    results = {
        "q1": [_hit("a.py", 1, 9), _hit("a.py", 15, 30)],  # second hit overlaps
        "q2": [_hit("b.py", 5, 8)],
        "q3": [_hit("a.py", 1, 2)],
    }
    m = evaluate(lambda q: results[q], cases, k=10)
    assert (m.n, round(m.mrr, 4), round(m.recall, 4)) == (3, 0.5, 0.6667)
    assert evaluate(lambda q: results[q], cases, k=1).recall == 1 / 3
