# Two commands for a fresh clone: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PYTEST_ARGS ?=

ALLURE := $(VENV)/allure-cli/node_modules/.bin/allure

.PHONY: demo test lint bench clean allure-cli

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## Run the main job (drift check) against the embedded moto default and print the report path.
demo: $(STAMP)
	$(BIN)/stackharness demo

## The Allure 3 CLI from the npm registry (optional: without npm the Allure rendering test skips).
allure-cli: $(STAMP)
	@test -x $(ALLURE) || (command -v npm >/dev/null 2>&1 \
	  && npm install --silent --no-audit --no-fund --prefix $(VENV)/allure-cli allure@3 >/dev/null \
	  || echo "make: no Allure 3 CLI (npm missing or offline); the Allure rendering test will skip")

## Run the harness's own tests.
test: $(STAMP) allure-cli
	$(BIN)/ruff check .
	$(BIN)/pytest tests $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .

## Print the benchmark figures (not part of `make test`).
bench: $(STAMP)
	for b in benchmarks/bench_*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) reports/* .pytest_cache
	git checkout -- reports/README.md
