# Quick start: `make run` (the bot on SQLite with the bundled seed) and `make test` (everything).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install run console test lint typecheck check bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/oncall-bot run

console: $(STAMP)
	$(BIN)/oncall-bot console

test: $(STAMP)
	bash scripts/ensure-postgres.sh >/dev/null
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check bot tests bench

typecheck: $(STAMP)
	$(BIN)/mypy bot

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
