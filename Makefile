# Wenming — `make help` lists every target.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
MANAGE := $(PY) manage.py
PORT ?= 8000
# The PostgreSQL database the suite runs against (its test database is test_<name>).
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/wenming
# Settings that `check --deploy` must pass with: what a production deployment sets.
DEPLOY_ENV := DEBUG=false SECRET_KEY=check-deploy-$$(head -c 48 /dev/urandom | base64 | tr -dc A-Za-z0-9) \
	ALLOWED_HOSTS=wenming.example.org SECURE_COOKIES=true SECURE_SSL_REDIRECT=true \
	SECURE_HSTS_SECONDS=31536000 BEHIND_TLS_PROXY=true

.PHONY: help
help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}'

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@test -x $(PY) || $$(scripts/find-python) -m venv $(VENV)
	$(PIP) install --quiet --disable-pip-version-check --upgrade pip
	$(PIP) install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

.PHONY: install
install: $(VENV)/.installed ## Create .venv and install the pinned dependencies

.PHONY: messages
messages: install ## Compile the zh-hans and en catalogues (pure Python, no gettext needed)
	$(VENV)/bin/pybabel compile --use-fuzzy -d wenming/locale -D django --statistics

.PHONY: makemessages
makemessages: install ## Re-extract message catalogues (needs GNU gettext); scripts/po-missing lists what to translate
	$(MANAGE) makemessages -l en -l zh_Hans --no-obsolete --add-location file \
		--ignore ".venv/*" --ignore "var/*" --ignore "staticfiles/*" --ignore "bench/*" --ignore "node_modules/*"

.PHONY: setup
setup: messages ## Migrate, create the cache table, collect static files
	$(MANAGE) migrate --noinput
	$(MANAGE) createcachetable
	$(MANAGE) collectstatic --noinput --verbosity 0

.PHONY: demo
demo: setup ## Load the demo street (once)
	$(MANAGE) load_demo

.PHONY: run
run: demo ## Set up, load the demo street and serve http://127.0.0.1:$(PORT) with gunicorn and a task worker
	@PORT=$(PORT) scripts/serve

.PHONY: worker
worker: install ## Run a background task worker (database queue, or Redis when REDIS_URL is set)
	@if [ -n "$$REDIS_URL" ]; then $(MANAGE) rqworker default --job-class django_tasks_rq.Job; else $(MANAGE) db_worker; fi

.PHONY: clock
clock: install ## Run the clock that enqueues periodic jobs (reminders, no-shows, the weekly preview)
	$(MANAGE) clock

.PHONY: lint
lint: install ## ruff and mypy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy wenming bench conftest.py tests

.PHONY: checks
checks: install messages ## Django checks: migrations are current, deployment settings are safe
	$(MANAGE) makemigrations --check --dry-run
	$(DEPLOY_ENV) $(MANAGE) check --deploy --fail-level WARNING

.PHONY: test-sqlite
test-sqlite: install messages ## The suite on the embedded SQLite default
	$(VENV)/bin/pytest -n 2 --dist loadfile

.PHONY: test-postgres
test-postgres: install messages ## The suite on PostgreSQL (required when CI=true)
	@if $(PY) scripts/pg-ready "$(PG_TEST_URL)"; then \
		DATABASE_URL="$(PG_TEST_URL)" $(VENV)/bin/pytest -n 2 --dist loadfile; \
	elif [ "$$CI" = "true" ]; then \
		echo "PostgreSQL is not reachable at $(PG_TEST_URL), and CI requires it." >&2; exit 1; \
	else \
		echo "PostgreSQL not reachable at $(PG_TEST_URL): skipping the PostgreSQL run (set CI=true to require it)."; \
	fi

.PHONY: test
test: lint checks test-sqlite test-postgres ## Everything CI runs: lint, checks, the suite on SQLite and PostgreSQL

.PHONY: bench
bench: install ## Run the benchmarks and record them in BENCHMARKS.md
	$(PY) bench/run.py

.PHONY: clean
clean: ## Remove the virtualenv, collected static files and the local database
	rm -rf $(VENV) staticfiles var
