# asyncmq developer commands. `make help` lists them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.DEFAULT_GOAL := help
.PHONY: help venv demo test lint typecheck unit format bench docs clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' || \
		{ echo "asyncmq needs Python >= 3.10 (set PYTHON=...)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $(STAMP)

venv: $(STAMP)  ## create .venv with the package and the dev tools

demo: $(STAMP)  ## a producer and a worker process sharing the default SQLite backend
	$(BIN)/python -m docs_src.demo

lint: $(STAMP)  ## ruff check and ruff format --check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)  ## mypy --strict on the package
	$(BIN)/mypy --strict asyncmq

unit: $(STAMP)  ## pytest only
	$(BIN)/pytest

test: lint typecheck unit  ## lint, types and the whole test suite

format: $(STAMP)  ## apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(STAMP)  ## the side-by-side benchmarks (see benchmarks/README.md)
	$(BIN)/python -m benchmarks run --target all && $(BIN)/python -m benchmarks publish

docs: $(STAMP)  ## serve the documentation locally (needs mkdocs)
	$(BIN)/python -m pip install --quiet mkdocs
	$(BIN)/mkdocs serve

clean:  ## remove the virtual environment and caches
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache asyncmq.db asyncmq.db-*
