# Two commands set everything up on a fresh machine: `make run` and `make test`. Both install the
# package with the dev and emulators extras (the emulators and moto are not runtime dependencies).
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home

.PHONY: install tools run test lint typecheck dev bench emulate clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,emulators]'
	touch $@

install: $(VENV)/.installed

# checkov scans deploy/cloudformation.yaml; its own pins (older boto3, botocore, packaging) conflict
# with the project's, so it lives in a venv of its own that the deploy tests call.
TOOLS := .tools
$(TOOLS)/checkov/.installed: deploy/checkov-requirements.txt
	$(PYTHON) -m venv $(TOOLS)/checkov
	$(TOOLS)/checkov/bin/pip install --quiet -r deploy/checkov-requirements.txt
	touch $@

tools: $(TOOLS)/checkov/.installed

$(DAGSTER_HOME):
	mkdir -p $(DAGSTER_HOME)
	cp dagster.yaml $(DAGSTER_HOME)/dagster.yaml

run: install | $(DAGSTER_HOME)
	$(BIN)/hspc run

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

# The package as [tool.mypy] sets it, then tests, benchmarks and scripts (not strict, see pyproject); the
# second run reads the package's types without reporting on modules outside the first run's files.
typecheck: install
	$(BIN)/mypy
	$(BIN)/mypy --follow-imports=silent hspc_pipelines_tests benchmarks scripts

test: lint typecheck
	$(BIN)/pytest -n 2 --dist loadfile

dev: install | $(DAGSTER_HOME)
	$(BIN)/hspc dev

bench: install
	$(BIN)/python -m benchmarks.run

emulate: install
	$(BIN)/hspc emulate

clean:
	rm -rf $(VENV) $(TOOLS) .dagster_home .pytest_cache .mypy_cache .ruff_cache
