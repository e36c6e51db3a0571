# dipping-calendar developer commands. `make run` and `make test` are the quick start.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run serve migrate sample test test-postgres lint format check clean lock docker-proof

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Re-install only when the dependency list changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed

migrate: install
	$(BIN)/python manage.py migrate --no-input

# Loads real recorded payloads through the real ingestion path (idempotent).
sample: migrate
	$(BIN)/python manage.py loadsample

# One command: venv, install, migrate, real sample data, serve (Swagger UI at /api/docs/).
run: sample
	@echo "Serving on http://$(HOST):$(PORT)/  (Swagger UI: http://$(HOST):$(PORT)/api/docs/)"
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} $(BIN)/python manage.py runserver $(HOST):$(PORT)

# The test suite; DATABASE_URL=postgres://... runs it against PostgreSQL.
test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	PYTHONPATH=src $(BIN)/lint-imports
	$(BIN)/python manage.py check
	$(BIN)/python manage.py makemigrations --check --dry-run

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Re-pin the Docker image's runtime set (requirements.lock) after a dependency change.
lock: install
	$(BIN)/python scripts/lock.py

# The README's Docker steps, docs/deployment.md's upgrade and Redis outage, on the real
# engine that `docker` reaches (needs Docker Compose v2.24+; .ci/run prepares one).
docker-proof:
	$(PYTHON) scripts/docker_proof.py

clean:
	rm -rf $(VENV) var/db.sqlite3 staticfiles .pytest_cache .ruff_cache
