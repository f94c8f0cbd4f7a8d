"""An organisation's code: many repositories in one store, embedding on a Ray cluster, and
search across repositories with repository-qualified citations.

>>> from c2rag.org import OrgIndex                                  # doctest: +SKIP
>>> print(OrgIndex(["svc-a", "svc-b"], encoder=enc).update().summary())  # doctest: +SKIP
"""

from __future__ import annotations

from c2rag.org.indexer import OrgIndex, OrgReport, RepoOutcome, default_org_store_dir
from c2rag.org.repos import RepoProblem, RepoRef, read_repo_list, resolve_repos

__all__ = [
    "OrgIndex",
    "OrgReport",
    "RepoOutcome",
    "RepoProblem",
    "RepoRef",
    "default_org_store_dir",
    "read_repo_list",
    "resolve_repos",
]
