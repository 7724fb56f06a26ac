# Quick start: `make run` (the bot on SQLite with the bundled seed) and `make test` (everything).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

# The suite runs on TEST_WORKERS pytest-xdist workers (each with its own PostgreSQL databases);
# `--dist loadgroup` keeps the tests that share an expensive module fixture on one worker.
TEST_WORKERS ?= 3
PYTEST_PARALLEL := -n $(TEST_WORKERS) --dist loadgroup
# test-faketime: the end-to-end tests (marker e2e) again with the whole process tree's clock
# faked by libfaketime to a busy instant: Monday 2026-11-30 05:35 in New York (10:35 UTC).
FAKE_NOW ?= 2026-11-30 10:35:00

.PHONY: install run console test test-faketime lint typecheck check bench mutation clean

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
	$(BIN)/pytest $(PYTEST_PARALLEL)

test-faketime: $(STAMP)
	@command -v faketime >/dev/null || { echo "test-faketime needs faketime (Debian: apt-get install faketime)" >&2; exit 2; }
	bash scripts/ensure-postgres.sh >/dev/null
	TZ=UTC faketime '$(FAKE_NOW)' $(BIN)/python -c 'import datetime as d, sys; \
	  now = d.datetime.now(d.UTC); print("test-faketime: the clock says", now); \
	  assert abs(now - d.datetime.fromisoformat(sys.argv[1] + "+00:00")) < d.timedelta(minutes=1)' '$(FAKE_NOW)'
	TZ=UTC faketime '$(FAKE_NOW)' $(BIN)/pytest -m e2e $(PYTEST_PARALLEL) -p no:cacheprovider; \
	  rc=$$?; if [ $$rc -eq 5 ]; then echo "test-faketime: no test is marked e2e: nothing was proved" >&2; fi; exit $$rc

lint: $(STAMP)
	$(BIN)/ruff check bot tests bench

typecheck: $(STAMP)
	$(BIN)/mypy bot

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

# Mutation score of the scheduling core (rotation, coverage, calendar, escalation) against tests/core
# ([tool.mutmut] in pyproject.toml). Not part of CI: about half an hour on two cores. Prints the
# score and every surviving mutant (`.venv/bin/mutmut show NAME` shows one as a diff).
mutation: $(STAMP)
	rm -rf mutants
	nice -n 10 $(BIN)/mutmut run --max-children 2 || true
	$(BIN)/mutmut export-cicd-stats >/dev/null
	$(BIN)/python -c "import json; s = json.load(open('mutants/mutmut-cicd-stats.json')); \
	killed = s['killed'] + s['timeout'] + s['segfault']; done = killed + s['survived'] + s['suspicious']; \
	print(f\"mutants {s['total']}: killed {s['killed']}, timeout {s['timeout']}, segfault {s['segfault']}, \
	survived {s['survived']}, suspicious {s['suspicious']}, no tests {s['no_tests']}, skipped {s['skipped']}\"); \
	print(f\"score {100 * killed / max(done, 1):.1f} % of {done} checked mutants\")"
	@echo "survivors:"
	@$(BIN)/mutmut results | grep -v ': killed' || true

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache mutants
