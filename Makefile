# Every target that needs the virtualenv depends on it, so `make test` and
# `make demo` work on a fresh clone with only python3.11 and pip.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install generate check-generated lint typecheck test test-all mutate demo bench emulator dist clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

generate: $(STAMP)
	$(BIN)/python generator/generate.py

check-generated: $(STAMP)
	$(BIN)/python generator/generate.py --check

lint: $(STAMP)
	$(BIN)/ruff check src tests bench generator tools
	$(BIN)/ruff format --check src tests bench generator tools

typecheck: $(STAMP)
	$(BIN)/mypy

test: $(STAMP)
	$(BIN)/python -m pytest -q

# The suite on every Python the project claims (the classifiers in pyproject.toml list
# the same versions; tests/test_python_versions.py checks it), each in .venvs/<version>.
# A missing REQUIRED_PYTHONS version fails; another missing one is reported and skipped.
PYTHONS ?= 3.11 3.12 3.13
REQUIRED_PYTHONS ?= 3.11
test-all:
	tools/test-all.sh "$(PYTHONS)" "$(REQUIRED_PYTHONS)"

# Mutation testing of the safety core (slow: not part of .ci/run). MODULE=retry for one
# module, MUTATE_JOBS for mutmut's parallel children; the table is also printed alone by
# `.venv/bin/python tools/mutate.py --table-only`.
MODULE ?=
MUTATE_JOBS ?= $(shell nproc 2>/dev/null || echo 2)
mutate: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python tools/mutate.py --jobs $(MUTATE_JOBS) $(if $(MODULE),--module $(MODULE)) $(foreach t,$(MUTATE_TESTS),--tests $(t))

demo: $(STAMP)
	$(BIN)/python -m nexudus_async.demo

bench: $(STAMP)
	$(BIN)/python bench/run.py

emulator: $(STAMP)
	$(BIN)/python -m nexudus_async.testing --port 8080

# An sdist and a wheel built from it, in dist/ (pip install dist/nexudus_async-*.whl).
dist: $(STAMP)
	rm -rf dist
	$(BIN)/python -m build --outdir dist .

clean:
	rm -rf $(VENV) .venvs build dist mutants
