# One obvious command per job. `make help` lists them.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help setup demo test test-fast lint typecheck schemas openapi bench check clean

help: ## List the commands
	@grep -E '^[a-z-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*?## "}{printf "  make %-10s %s\n", $$1, $$2}'

PACKAGES := orchestrator/__init__.py agents/__init__.py schemas/__init__.py playbooks/__init__.py

$(STAMP): pyproject.toml $(PACKAGES)
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP) ## Create .venv and install the project with its dev tools

demo: $(STAMP) ## Run the main job: the bundled drill on the embedded runtime
	$(BIN)/orchestrator demo

test: $(STAMP) ## Run the whole test suite (starts a local Kafka broker if none is given)
	PATH="$(abspath $(BIN)):$$PATH" scripts/test

test-fast: $(STAMP) ## Run the tests that need no Kafka broker and no Docker engine
	$(BIN)/pytest -m "not kafka and not docker" -q

lint: $(STAMP) ## ruff
	$(BIN)/ruff check orchestrator schemas agents benchmarks tests
	$(BIN)/ruff format --check orchestrator schemas agents benchmarks tests

typecheck: $(STAMP) ## mypy --strict
	$(BIN)/mypy

schemas: $(STAMP) ## Regenerate the committed JSON Schemas under schemas/json
	$(BIN)/orchestrator playbooks schema --out schemas/json

openapi: $(STAMP) ## Regenerate the committed OpenAPI document docs/openapi.json
	$(BIN)/python -m orchestrator.api > docs/openapi.json

bench: $(STAMP) ## Run every benchmark; writes docs/benchmarks.md and docs/benchmarks.json
	$(BIN)/python -m benchmarks

check: lint typecheck test ## Everything CI cares about

clean: ## Remove the virtualenv and caches
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
