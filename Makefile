# allianceld: two commands do all the set-up on a fresh machine.
#   make serve   install, load the shipped ontology + data, serve on http://127.0.0.1:8000
#   make test    install and run the whole test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
STORE  ?= var/store
HOST   ?= 127.0.0.1
PORT   ?= 8000

ASSETS := web-assets/node_modules/.package-lock.json

.PHONY: install assets system-deps virtuoso-deps browser-deps serve load test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# The query editor (YASGUI) comes from the npm registry and is served by the app itself (no CDN).
$(ASSETS): web-assets/package.json web-assets/package-lock.json
	@if command -v npm >/dev/null 2>&1; then npm ci --prefix web-assets --silent --no-audit --no-fund; \
	else echo "note: no npm found; /sparql will offer its plain query form instead of YASGUI"; fi

assets: $(ASSETS)

# Python's bytecode of allianceld's sources written once (pip does so for installed packages, and
# the environment may forbid writing it on import): every command starts about 0.3 s sooner.
install: $(STAMP) assets
	@$(BIN)/python -m compileall -q src/allianceld

# Java runs HermiT (OWL 2 DL consistency); a JDK (javac, the jdk.compiler module) lets the per-write
# check keep one HermiT process warm. Installed from Debian when javac is missing and we are root.
system-deps:
	@command -v javac >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jdk-headless >/dev/null; \
	  elif command -v java >/dev/null 2>&1; then \
	    echo "note: no javac found; each OWL 2 DL check may start its own Java process (install a JDK to keep one warm)"; \
	  else echo "note: no java found; OWL 2 DL checks will be skipped (install a JDK to enable them)"; fi; }

# Debian's Virtuoso Open Source, for the remote-store tests against a production engine (the suite
# starts its own server on 127.0.0.1; the package's service is not needed). Installed when missing and root.
virtuoso-deps:
	@command -v virtuoso-t >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    printf '%s\n' 'virtuoso-opensource-7 virtuoso-opensource-7/dba-password password dba' \
	      'virtuoso-opensource-7 virtuoso-opensource-7/dba-password-again password dba' | debconf-set-selections; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq virtuoso-opensource >/dev/null; \
	  else echo "note: no virtuoso-t found; the Virtuoso tests will be skipped"; fi; }

# Debian's chromium, for the browser tests (Playwright drives it; no browser is downloaded).
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "note: no chromium found; browser tests will be skipped"; fi; }

load: install system-deps
	ALLIANCELD_STORE=$(STORE) $(BIN)/allianceld init

serve: load
	ALLIANCELD_STORE=$(STORE) $(BIN)/allianceld serve --host $(HOST) --port $(PORT)

test: install system-deps virtuoso-deps browser-deps
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/python -m pytest -q -n auto --dist loadscope

lint: install
	$(BIN)/ruff check src tests benchmarks

bench: install
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/python benchmarks/bench_sparql.py
	$(BIN)/python benchmarks/bench_reasoning.py

clean:
	rm -rf $(VENV) var .pytest_cache
