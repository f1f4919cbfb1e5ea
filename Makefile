# Every target bootstraps its own virtualenv; `make run` and `make test` are all a fresh machine needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run demo test lint typecheck pytest screenshots bench format clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## run: migrate, load the sample data on first run, serve http://127.0.0.1:8000 with the workers
run: $(STAMP)
	$(BIN)/gtm-feedback init
	$(BIN)/gtm-feedback serve

## demo: the whole system on a fresh temporary database, then a summary table
demo: $(STAMP)
	$(BIN)/gtm-feedback demo

## test: lint, typecheck and the whole test suite (SQLite and PostgreSQL)
test: lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	scripts/ensure-postgres
	scripts/ensure-chromium
	$(BIN)/pytest --cov --cov-report=term --durations=20

## screenshots: the page tests, saving a screenshot of each page to docs/screenshots/
screenshots: $(STAMP)
	scripts/ensure-chromium
	GTMFB_SAVE_SCREENSHOTS=1 $(BIN)/pytest tests/web

bench: $(STAMP)
	$(BIN)/python -m bench

format: $(STAMP)
	$(BIN)/ruff check --fix src tests bench
	$(BIN)/ruff format src tests bench

clean:
	rm -rf $(VENV) .gtmfb .pytest_cache .mypy_cache .ruff_cache
