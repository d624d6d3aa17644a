# Supportdesk: `make run` serves the demo on http://127.0.0.1:8000, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip

.PHONY: node run test lint format install browser clean

# The demo and the tests run on the local defaults (supportdesk/settings.py, .env.example).
run test: export SUPPORTDESK_LOCAL := true

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' || { \
		echo "Supportdesk needs Python 3.12 or newer; '$(PYTHON)' is $$($(PYTHON) --version 2>&1)."; \
		echo "Install Python 3.13 (pyenv reads .python-version) or run: make PYTHON=python3.13 ..."; \
		exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e '.[dev]'
	@touch $@

install: $(VENV)/.installed

run: install
	$(PY) manage.py migrate --no-input
	$(PY) manage.py setup_demo
	$(PY) manage.py serve_demo --port 8000

# Debian's Chromium for the browser tests; skipped quietly where apt-get can't run.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		[ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver) >/dev/null 2>&1 ; } || \
		echo "Chromium is not installed and could not be installed: browser tests will be skipped."

# Apple's Node.js library, as locked in tests/node; its test is skipped where Node is missing.
node:
	@if command -v npm >/dev/null 2>&1; then cd tests/node && npm ci --no-audit --no-fund --silent; \
	else echo "Node.js is not installed: the check with Apple's Node.js library will be skipped."; fi

test: install browser node
	$(PY) -m pytest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) var db.sqlite3 staticfiles test-artifacts
