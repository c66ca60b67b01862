# The two quick-start commands of the README are `make run` and `make test`.
# Each sets up what it needs (a virtual environment, the package, system packages for
# the browser tests) and is safe to run again.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STORE  ?= var/store
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: run test install install-test system-deps build serve clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/python -m pip install --quiet .

install-test: $(BIN)/python
	$(BIN)/python -m pip install --quiet '.[test]'

# Build the article graph into the on-disk store, then serve endpoint and UI.
run: install
	$(BIN)/kg build --store $(STORE)
	$(BIN)/kg serve --store $(STORE) --host $(HOST) --port $(PORT)

# Debian packages the browser tests need (headless Chromium); Java for HermiT.
system-deps:
	bash scripts/system-deps.sh

test: system-deps install-test
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) var build *.egg-info test-artifacts
