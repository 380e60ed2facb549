# autopolicy — the two commands are `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test test-fast schema bench lint clean-data help

help:
	@echo "make run     start embedded PostgreSQL+Redis (unless DATABASE_URL/REDIS_URL), migrate, seed, API, worker"
	@echo "make test    run the whole test suite (same embedded defaults; honours DATABASE_URL/REDIS_URL)"
	@echo "make schema  regenerate schema.graphql from code"
	@echo "make bench   run the benchmarks in bench/"

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/autopolicy dev

test: $(STAMP)
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow and not browser" $(PYTEST_ARGS)

schema: $(STAMP)
	$(BIN)/strawberry export-schema api.schema:schema --output schema.graphql

bench: $(STAMP)
	for b in graphql_validation rating timers; do $(BIN)/python bench/$$b.py || exit 1; done
	cd bench/postgraphile && npm ci --silent
	cd bench/postgraphile5 && npm ci --silent
	$(BIN)/python bench/api.py
	$(BIN)/python bench/writes.py
	$(BIN)/python bench/expiry.py
	@echo "P5: bench/recalc.py [--dsn <empty database URL>] (builds a 1,000,000-contract book, ~6 min)"

lint: $(STAMP)
	$(BIN)/ruff check api domain workers tests bench

clean-data:
	rm -rf .data
