"""Lazy re-exports for package ``__init__`` modules (PEP 562 ``__getattr__``).

Packages re-export names whose modules import torch or chromadb; resolving them on first use
keeps ``import c2rag`` and the CLI fast.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, names: Mapping[str, str], namespace: dict[str, Any]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Module-level ``__getattr__`` and ``__dir__`` resolving ``names`` (name → module).

    Args:
        package: The re-exporting package, for error messages.
        names: Public name → module that defines it.
        namespace: The package's ``globals()``; resolved names are cached there.
    """

    def __getattr__(name: str) -> Any:
        module = names.get(name)
        if module is None:
            msg = f"module {package!r} has no attribute {name!r}"
            raise AttributeError(msg)
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(names))

    return __getattr__, __dir__
