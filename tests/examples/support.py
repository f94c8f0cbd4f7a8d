"""What the example tests share: paths, the sample conversation, child-process settings."""

from __future__ import annotations

import os
import re
from pathlib import Path

__all__ = ["CITATION", "EXAMPLES", "QUESTIONS", "ROOT", "subprocess_pythonpath"]

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "agent_examples"
CITATION = re.compile(r"[\w./-]+:\d+-\d+@[0-9a-f]{12}")
QUESTIONS = (
    "Where are failed uploads retried?",
    "And who calls it?",
    "Does it honour the Retry-After header?",
)


def subprocess_pythonpath() -> str:
    """The checkout and its integration packages for child processes, as pytest's
    ``pythonpath`` setting gives them to this one (when the project is not pip-installed)."""
    paths = [str(ROOT), *sorted(str(p) for p in (ROOT / "integrations").iterdir() if p.is_dir())]
    return os.pathsep.join([*paths, os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
