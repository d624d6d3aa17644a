# Supportdesk: `make run` serves the demo on http://127.0.0.1:8000 (PORT=...), `make test` runs every test.
PYTHON ?= python3
PORT ?= 8000
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
# uv installs in a second or two where pip takes half a minute. Where uv isn't on PATH it is
# bootstrapped from PyPI into the venv (one small wheel) by the interpreter's own pip while the
# venv is made, without pip (ensurepip alone costs seconds); if that fails, pip does the job.
UV_PACKAGE ?= uv
UV_ON_PATH := $(shell command -v uv 2>/dev/null)
UV := $(or $(UV_ON_PATH),$(VENV)/bin/uv)
PIP_INSTALL := $(PIP) install --quiet --no-compile --disable-pip-version-check
# $(call INSTALL,requirements-file): with uv when it runs, with pip otherwise.
INSTALL = { [ -x $(UV) ] && $(UV) pip install --quiet --python $(PY) -r $(1); } || { \
	$(PY) -m pip --version >/dev/null 2>&1 || $(PY) -m ensurepip --default-pip >/dev/null; \
	$(PIP_INSTALL) -r $(1); }
# The requirements of pyproject.toml's [project] (serving) or of its extras, one a line, read
# straight from the file: nothing is built, and each command installs only what it needs.
REQUIREMENTS = $(PY) -c 'import sys, tomllib; p = tomllib.load(open("pyproject.toml", "rb"))["project"]; \
	print("\n".join(p["dependencies"] if sys.argv[1] == "serve" else \
	[r for x in sys.argv[1:] for r in p["optional-dependencies"][x] if not r.startswith(p["name"])]))'

.PHONY: node run test lint format install browser clean

# The demo and the tests run on the local defaults (supportdesk/settings.py, .env.example).
run test: export SUPPORTDESK_LOCAL := true

$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' || { \
		echo "Supportdesk needs Python 3.12 or newer; '$(PYTHON)' is $$($(PYTHON) --version 2>&1)."; \
		echo "Install Python 3.13 (pyenv reads .python-version) or run: make PYTHON=python3.13 ..."; \
		exit 1; }
ifdef UV_ON_PATH
	$(UV) venv --quiet --seed --python $(PYTHON) $(VENV)
else
	@# The venv and uv's bootstrap side by side, as neither needs the other: a second or two.
	$(PYTHON) -m venv --without-pip $(VENV) & venv=$$!; \
	$(PYTHON) -m pip install --quiet --disable-pip-version-check --no-deps --target $(VENV)/uv \
		$(UV_PACKAGE) || echo "uv could not be installed: pip installs instead."; \
	wait $$venv && if [ -x $(VENV)/uv/bin/uv ]; then ln -sf ../uv/bin/uv $(UV); fi
endif

# What serving needs (make run).
$(VENV)/.serving: pyproject.toml | $(PY)
	$(REQUIREMENTS) serve > $(VENV)/requirements-serve.txt
	$(call INSTALL,$(VENV)/requirements-serve.txt)
	@touch $@

# Everything: serving, the tests and the developers' tools (make test, make lint).
$(VENV)/.installed: $(VENV)/.serving
	$(REQUIREMENTS) test dev > $(VENV)/requirements-dev.txt
	$(call INSTALL,$(VENV)/requirements-dev.txt)
	@touch $@

install: $(VENV)/.installed

run: $(VENV)/.serving
	$(PY) manage.py serve_demo --prepare --port $(PORT)

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

# The suite runs in TEST_WORKERS processes side by side (pytest-xdist), each with its own test
# database, Redis database and servers; tests marked xdist_group share one. TEST_WORKERS=0: one
# process.
TEST_WORKERS ?= 3
test: install browser node
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadgroup

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) var db.sqlite3 staticfiles test-artifacts
