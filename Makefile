# Every target that needs the virtualenv depends on it, so `make test` and
# `make demo` work on a fresh clone with only python3.11 and pip.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install generate check-generated lint typecheck test demo bench emulator dist clean

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
	$(BIN)/ruff check src tests bench generator
	$(BIN)/ruff format --check src tests bench generator

typecheck: $(STAMP)
	$(BIN)/mypy

test: $(STAMP)
	$(BIN)/python -m pytest -q

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
	rm -rf $(VENV) build dist
