# wagtail-iom: the two commands a newcomer needs are `make demo` and `make test`.

PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
DJANGO ?= Django>=5.2,<5.3
EXTRAS ?= dev,postgres,redis,pdf,docx,xlsx
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: help venv demo run test test-browser lint format messages compilemessages bench clean

help:
	@echo "make demo          create .venv, install, migrate, load demo data, serve http://$(HOST):$(PORT)"
	@echo "make test          run the test suite (SQLite; PostgreSQL when DATABASE_URL is set)"
	@echo "make test-browser  run the browser tests (needs Debian's chromium and npm)"
	@echo "make lint          ruff and the import contracts (lint-imports)"
	@echo "make messages      refresh the Russian .po from the source strings"
	@echo "make bench         run the benchmarks (see bench/README.md)"

$(VENV)/.installed: pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found: install Python 3.11+ or run make PYTHON=python3"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[$(EXTRAS)]" "$(DJANGO)"
	touch $@

venv: $(VENV)/.installed

demo: venv
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo_data --host $(HOST) --port $(PORT)
	$(PY) manage.py runserver $(HOST):$(PORT)

run: venv
	$(PY) manage.py runserver $(HOST):$(PORT)

# First the optional system tools that are missing, and what they would add (tests/tools.py);
# the tests that need them are skipped, and the summary says why.
test: venv
	@$(PY) tests/tools.py
	$(PY) -m pytest -m "not browser" $(PYTEST_ARGS)

node_modules/axe-core/axe.min.js: package.json
	npm install --no-audit --no-fund --loglevel=error
	touch $@

test-browser: venv node_modules/axe-core/axe.min.js
	$(PY) -m pytest -m browser $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: venv
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

messages: venv
	cd wagtail_iom && ../$(PY) ../manage.py makemessages -l ru --no-obsolete --no-location

compilemessages: venv
	cd wagtail_iom && ../$(PY) ../manage.py compilemessages -l ru

bench: venv
	$(PY) bench/run.py $(BENCH_ARGS)

clean:
	rm -rf build dist *.egg-info var screenshots
