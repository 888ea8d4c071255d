# Two commands for a fresh clone: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## Run the main job (drift check) against the embedded moto default and print the report path.
demo: $(STAMP)
	$(BIN)/stackharness demo

## Run the harness's own tests.
test: $(STAMP)
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
