"""Fixtures shared by the whole suite live in ``tests/fixtures/``, one module per concern."""

pytest_plugins = [
    "tests.fixtures.models",
    "tests.fixtures.repos",
    "tests.fixtures.chroma",
    "tests.fixtures.codeqa",
]
