# Two commands do everything on a fresh machine with Python 3.11 and make:
#   make run    create .venv, install hookd, start `hookd serve` on an embedded SQLite file
#   make test   install the dev dependencies and run the whole suite (in parallel workers)
#   make check  lint, type check, import contracts and the suite: what CI runs (.ci/run)
# The dev and CI install is pinned by constraints/dev.txt; `make run`'s install is not.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# COVERAGE=1 (CI sets it): measure hookd's coverage in the test process and fail under the floor
# in pyproject.toml ([tool.coverage.report] fail_under).
COVERAGE ?=
PYTEST_COVERAGE := $(if $(COVERAGE),--cov=hookd --cov-report=term:skip-covered,)
# The suite runs in parallel workers (pytest-xdist), one per CPU core by default; a worker left
# idle takes tests queued for another (worksteal), so the slow ones do not pile up on one worker.
# WORKERS=0 runs it in the pytest process alone.
WORKERS ?= auto

.PHONY: run test lint typecheck imports check constraints bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.dev-installed: pyproject.toml constraints/dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -c constraints/dev.txt -e '.[dev]'
	touch $(VENV)/.installed $@

run: $(VENV)/.installed
	$(BIN)/hookd serve

test: $(VENV)/.dev-installed
	$(BIN)/python -m pytest -q -n $(WORKERS) --dist worksteal $(PYTEST_COVERAGE)

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(VENV)/.dev-installed
	$(BIN)/mypy

# The import contracts between hookd's layers ([tool.importlinter] in pyproject.toml).
imports: $(VENV)/.dev-installed
	$(BIN)/lint-imports

# The suite is the README's `make test`, run last (the fast checks fail first).
check: lint typecheck imports
	$(MAKE) test

# Re-pin the dev tooling after changing the dev extra: the versions the dev venv has now.
constraints: $(VENV)/.dev-installed
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^hookd' > constraints/dev.txt

$(VENV)/.bench-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	touch $(VENV)/.installed $@

bench: $(VENV)/.bench-installed
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .import_linter_cache .coverage
