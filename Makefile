# The two commands: `make run` (set up and run the product) and `make test` (set up and test).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.requirements-installed

.PHONY: run test test-sqlite test-postgres lint bench venv clean

# Create the venv once; reinstall only when a requirements file changed.
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python requirements/base.txt requirements/dev.txt requirements/constraints.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements/dev.txt
	touch $(STAMP)

venv: $(STAMP)

run: export STRONGROOM_DEV = 1
run: venv
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo --url http://$${STRONGROOM_HOST:-127.0.0.1}:$${STRONGROOM_PORT:-8000}
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho start -f Procfile

lint: venv
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/python manage.py check --fail-level WARNING
	DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/python manage.py makemigrations --check --dry-run

# Two passes: the embedded default (SQLite), then a throw-away PostgreSQL (the production database)
# that the test plugin starts itself. PostgreSQL-only tests (triggers, concurrency) run in the second.
test: lint
	$(BIN)/python -m pytest
	STRONGROOM_TEST_DB=postgres $(BIN)/python -m pytest

bench: venv
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
