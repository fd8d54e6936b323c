# The README's two commands: `make demo` and `make test`. Both work on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo test install check bench screenshots clean

$(BIN)/dualwrite: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/dualwrite

## Fresh demo world on SQLite (tenant, admin, LCS project, F&O sandbox, Dataverse) and the server.
demo: install
	$(BIN)/dualwrite demo

## Lint, type check, then the whole test suite (PostgreSQL and MariaDB tests need their servers).
test: install check
	bash scripts/test

check: install
	$(BIN)/ruff format --check src tests bench
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

bench: install
	$(BIN)/python bench/run.py

## Refresh the README's screenshots (the browser journey, writing into docs/screenshots).
screenshots: install
	DUALWRITE_SCREENSHOTS=$(CURDIR)/docs/screenshots bash scripts/test tests/browser/test_journey.py

clean:
	rm -rf $(VENV) .dualwrite .pytest_cache .mypy_cache .ruff_cache
