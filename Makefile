# Doorstep: `make run` serves the app with demo data; `make test` runs every test.
# Both set up everything they need on a fresh machine (venv, PWA build, Chromium).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
PWA_SOURCES := $(shell find pwa/src pwa/public pwa/index.html pwa/vite.config.* pwa/package.json -type f 2>/dev/null)
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test setup pwa browser postgres lint bench clean

# The scheduler (reminders, escalation rules and notices) runs beside the web server in
# one command; Ctrl-C stops the server, and the EXIT trap stops the scheduler with it.
run: setup pwa
	$(BIN)/doorstep init
	$(BIN)/doorstep demo
	@echo ""
	@echo "Doorstep is starting on http://$(HOST):$(PORT)/ — log in with a demo login above."
	@$(BIN)/doorstep scheduler & scheduler=$$!; \
	  trap 'kill $$scheduler 2>/dev/null; wait $$scheduler' EXIT; trap 'exit 130' INT TERM; \
	  $(BIN)/doorstep serve --host $(HOST) --port $(PORT)

test: setup pwa browser postgres lint
	cd pwa && npm test
	$(BIN)/python -m pytest

setup: $(INSTALLED)

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

pwa: pwa/dist/index.html

pwa/node_modules/.package-lock.json: pwa/package-lock.json
	cd pwa && npm ci --no-audit --no-fund
	touch $@

pwa/dist/index.html: pwa/node_modules/.package-lock.json $(PWA_SOURCES) $(shell find instruments -type f)
	cd pwa && npm run build

# Debian's Chromium for the browser tests (Playwright cannot download browsers here).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium; \
	  else echo "Install Chromium: sudo apt-get install -y chromium"; exit 1; fi; }

# Debian's PostgreSQL 15 binaries: the tests start a throwaway cluster of their own
# (tests/postgres_cluster.py); no PostgreSQL service needs to run.
postgres:
	@test -x /usr/lib/postgresql/15/bin/initdb || command -v initdb >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq postgresql-15; \
	  else echo "Install PostgreSQL 15: sudo apt-get install -y postgresql-15"; exit 1; fi; }

lint: setup
	$(BIN)/ruff check server storage sync tests bench
	$(BIN)/mypy

bench: setup
	$(BIN)/python bench/sync_bench.py
	$(BIN)/python bench/push_bench.py

clean:
	rm -rf $(VENV) pwa/node_modules pwa/dist *.egg-info
