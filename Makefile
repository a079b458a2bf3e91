# The README's two commands are `make demo` and `make test`; everything else is a step of theirs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint install services browser java bench clean

demo: $(STAMP)
	$(BIN)/askfirst demo

# One worker per core; each test has its own PostgreSQL schema, SQLite file and folders.
test: $(STAMP) services browser java lint
	$(BIN)/pytest -n auto --durations=20

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

# PostgreSQL is part of the suite: start it when it is installed but down.
services:
	@scripts/ensure-postgres

# Browser tests drive Debian's Chromium; install it when missing (needs root, as on CI).
browser:
	@scripts/ensure-chromium

# The Spark engine runs on Java 17+ and reads PostgreSQL with its JDBC driver; install
# Debian's when missing (needs root, as on CI).
java:
	@scripts/ensure-java

bench: $(STAMP) services
	$(BIN)/python bench/import_speed.py

clean:
	rm -rf $(VENV) .askfirst .pytest_cache .mypy_cache .ruff_cache
