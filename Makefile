# `make run` serves Firstring with demo data on http://127.0.0.1:$(PORT); `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export PORT

.PHONY: install run test test-postgres lint format clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed

run: install
	$(BIN)/firstring run --port $(PORT)

test: install
	$(BIN)/pytest

# The same suite against PostgreSQL (what .ci/run does second).
test-postgres: install
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/firstring} $(BIN)/pytest

lint: install
	$(BIN)/ruff check firstring tests
	$(BIN)/ruff format --check firstring tests
	$(BIN)/mypy firstring

format: install
	$(BIN)/ruff format firstring tests
	$(BIN)/ruff check --fix firstring tests

clean:
	rm -rf $(VENV) var
