"""The real-fix localization set: patch descriptions and gold read from real patch formats."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

from benchmarks._fix_sets import FixSource, build_fix_cases, fix_files

MODULE = """\
import re


class Parser:
    def parse(self, text):
        return text.split(",")

    def unused(self):
        return None


def helper(x):
    return x + 1
"""

# git format-patch, as Debian's gbp writes it: subject over two lines (with the MIME headers
# of a non-ASCII message folded in), a body, thanks and trailers, a diffstat after '---',
# then one code file and one test file. Its first hunk is one line off (the release differs
# from the patch's base), as real patches often are.
GIT_PATCH = """\
From: Jane Dev <jane@example.org>
Date: Tue, 4 May 2021 23:42:52 -0400
Subject: [PATCH] [4.2.x] Fixed CVE-2024-0001 -- Mitigated potential DoS in
 Parser.parse(). MIME-Version: 1.0 Content-Type: text/plain;
 charset=UTF-8 Content-Transfer-Encoding: 8bit
MIME-Version: 1.0
Content-Type: text/plain; charset="utf-8"
Content-Transfer-Encoding: 8bit

Splitting on every comma was quadratic on crafted input.

Thanks Sam Reporter for the report, and Ann Reviewer for
the review.

(cherry picked from commit 136ff592ad8aa8b7fa1e61435e5501cc98ce8573)
---
 pkg/core.py        | 2 +-
 tests/test_core.py | 1 +
 2 files changed, 2 insertions(+), 1 deletion(-)

diff --git a/pkg/core.py b/pkg/core.py
index 1111111..2222222 100644
--- a/pkg/core.py
+++ b/pkg/core.py
@@ -4,7 +4,7 @@ import re
\x20
 class Parser:
     def parse(self, text):
-        return text.split(",")
+        return text.split(",", 1000)
\x20
     def unused(self):
         return None
diff --git a/tests/test_core.py b/tests/test_core.py
index 3333333..4444444 100644
--- a/tests/test_core.py
+++ b/tests/test_core.py
@@ -1,1 +1,2 @@
 def test_parse(): pass
+def test_many(): pass
"""

# DEP-3 header, a patch of packaging only (no code file): not a case.
DEP3_PACKAGING = """\
Description: Use the system certificates
Author: Debian Maintainer <dm@debian.org>
Forwarded: not-needed
Last-Update: 2024-01-01
Index: pkg/setup.py
===================================================================
--- a/setup.py
+++ b/setup.py
@@ -1,1 +1,1 @@
-name = "pkg"
+name = "pkg-debian"
"""

# DEP-3 header, an insertion at the end of a function.
DEP3_CODE = """\
Description: helper returns an int for numeric strings
 A string argument raised TypeError.
Bug: https://example.org/issues/12
--- a/pkg/core.py
+++ b/pkg/core.py
@@ -12,2 +12,4 @@ def helper(x):
 def helper(x):
+    if isinstance(x, str):
+        x = int(x)
     return x + 1
"""


def _tar(path: Path, files: dict[str, str], mode: str) -> None:
    with tarfile.open(path, mode) as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def _source(tmp_path: Path, work: Path) -> FixSource:
    archives = work / "pkg" / "archives"
    archives.mkdir(parents=True)
    release = {
        "pkg-1.0/pkg/core.py": MODULE,
        "pkg-1.0/setup.py": 'name = "pkg"\n',
        "pkg-1.0/tests/test_core.py": "def test_parse(): pass\n",
    }
    _tar(archives / "pkg-1.0.tar.gz", release, "w:gz")
    debian = tmp_path / "pkg_1.0-1.debian.tar.xz"
    series = "0001-cve.patch\nsystem-certs.patch\n# a comment\nhelper-int.patch\n"
    _tar(
        debian,
        {
            "debian/patches/series": series,
            "debian/patches/0001-cve.patch": GIT_PATCH,
            "debian/patches/system-certs.patch": DEP3_PACKAGING,
            "debian/patches/helper-int.patch": DEP3_CODE,
        },
        "w:xz",
    )
    return FixSource(debian.as_uri(), "pkg", "1.0")


def test_cases_from_real_patch_formats(tmp_path: Path) -> None:
    work = tmp_path / "work"
    cases = build_fix_cases("pkg", work, _source(tmp_path, work))

    assert [c.patch for c in cases] == ["0001-cve.patch", "helper-int.patch"]
    cve, helper = cases
    assert cve.text == (
        "Fixed CVE-2024-0001 -- Mitigated potential DoS in\nParser.parse().\n\n"
        "Splitting on every comma was quadratic on crafted input."
    )
    assert cve.gold_paths == ("pkg/core.py",)  # the test file is not gold
    assert cve.gold_functions == (("pkg/core.py", "Parser.parse", 5, 6),)
    assert (
        helper.text
        == "helper returns an int for numeric strings\nA string argument raised TypeError."
    )
    # an insertion counts for the function it is inserted into
    assert helper.gold_functions == (("pkg/core.py", "helper", 12, 13),)
    # the cache gives the same cases back
    gone = FixSource((tmp_path / "missing.tar.xz").as_uri(), "pkg", "1.0")
    assert build_fix_cases("pkg", work, gone) == cases


def test_files_are_the_release_unpatched(tmp_path: Path) -> None:
    work = tmp_path / "work"
    source = _source(tmp_path, work)
    build_fix_cases("pkg", work, source)
    files = fix_files("pkg", work, source)
    assert sorted(files) == ["pkg/core.py", "setup.py", "tests/test_core.py"]
    assert files["pkg/core.py"] == MODULE
