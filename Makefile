# Two commands set everything up on a fresh machine: `make run` and `make test`. Both install the
# package with the dev and emulators extras (the emulators and moto are not runtime dependencies).
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home

.PHONY: install run test lint typecheck dev bench emulate clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,emulators]'
	touch $@

install: $(VENV)/.installed

$(DAGSTER_HOME):
	mkdir -p $(DAGSTER_HOME)
	cp dagster.yaml $(DAGSTER_HOME)/dagster.yaml

run: install | $(DAGSTER_HOME)
	$(BIN)/hspc run

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/pytest -n 2 --dist loadfile

dev: install | $(DAGSTER_HOME)
	$(BIN)/hspc dev

bench: install
	$(BIN)/python -m benchmarks.run

emulate: install
	$(BIN)/hspc emulate

clean:
	rm -rf $(VENV) .dagster_home .pytest_cache .mypy_cache .ruff_cache
