# Each target creates .venv when missing and installs the package into it.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint format bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/pip install --quiet -e ".[test,ray]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/qaoa-meta demo

# Two pytest-xdist workers (the 2-core CI machine); tests/conftest.py keeps Ray tests and files
# with module-wide fixtures in one worker each. TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= 2

test: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow" -n $(TEST_WORKERS) --dist loadgroup tests

test-all: $(STAMP)
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadgroup tests

lint: $(STAMP)
	$(BIN)/ruff check qaoa_meta hardware tests scripts
	$(BIN)/ruff format --check qaoa_meta hardware tests scripts

format: $(STAMP)
	$(BIN)/ruff format qaoa_meta hardware tests scripts

clean:
	rm -rf $(VENV) build *.egg-info
