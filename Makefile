# Two entry points for a newcomer (see README):
#   make demo   set up .venv, index a repository (this one by default), answer a multi-turn question
#   make test   set up .venv, run the test suite, lint, and the strict docs build
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
REPO ?= .
INTEGRATIONS := $(wildcard integrations/*/pyproject.toml)

.PHONY: setup demo test lint docs notebook notebook-run

setup: $(VENV)/.installed

# torch is installed first and pinned so that pip takes the CPU wheel instead of a CUDA build.
$(VENV)/.installed: pyproject.toml $(INTEGRATIONS)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e ".[dev]" $(patsubst %/pyproject.toml,-e %,$(INTEGRATIONS))
	touch $@

demo: setup
	$(BIN)/c2rag index $(REPO)
	$(BIN)/c2rag chat $(REPO) \
		--turn "Where does the indexer decide which files changed since the last run?" \
		--turn "And which function embeds the new chunks?" \
		--turn "Does that skip chunks that were embedded before?"

# The example notebook: open it in JupyterLab, or re-run it in place (nbclient and ipykernel
# come with the dev extra that `make setup` installs).
NOTEBOOK := agent_examples/repo_qa_agent.ipynb

notebook: setup
	$(BIN)/python -m pip install -q -e ".[notebook]"
	$(BIN)/jupyter lab $(NOTEBOOK)

notebook-run: setup
	cd agent_examples && ../$(BIN)/jupyter-execute --inplace --timeout=1800 repo_qa_agent.ipynb

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

docs: setup
	$(BIN)/mkdocs build --strict --site-dir $(VENV)/site

test: setup
	$(BIN)/python -m pytest
	$(MAKE) --no-print-directory lint docs
