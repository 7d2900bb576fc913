# The two commands: `make synth` and `make test`. Each sets itself up from a fresh clone
# (virtualenv, editable install with [dev], npm ci for the pinned CDK CLI and Node 22) and is
# quick when already set up.

PYTHON ?= python3
VENV := .venv
STAMPS := .stamps
BIN := $(CURDIR)/$(VENV)/bin

# Node 22 from npm first on PATH (the system Node 20 is end-of-life for jsii), then the venv.
export PATH := $(CURDIR)/node_modules/.bin:$(BIN):$(PATH)
export JSII_NODE := $(CURDIR)/node_modules/.bin/node
export CDK_DISABLE_CLI_TELEMETRY := true
export JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION := 1

PYTEST_WORKERS ?= auto

.PHONY: synth examples test lint typecheck unit bench setup clean

setup: $(STAMPS)/venv $(STAMPS)/npm

$(STAMPS)/venv: pyproject.toml
	@mkdir -p $(STAMPS)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "installing secure-constructs[dev] into $(VENV) (log: $(STAMPS)/pip.log)"
	@$(BIN)/python -m pip install -e '.[dev]' > $(STAMPS)/pip.log 2>&1 || { cat $(STAMPS)/pip.log; exit 1; }
	@touch $@

$(STAMPS)/npm: package.json package-lock.json
	@mkdir -p $(STAMPS)
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

synth: setup
	rm -rf cdk.out
	@cdk synth --quiet > $(STAMPS)/synth.log 2>&1; status=$$?; \
	  cat $(STAMPS)/synth.log; \
	  $(BIN)/python -m secure_constructs.checks.summary cdk.out; \
	  if [ -f cdk.out/manifest.json ]; then echo; \
	    $(BIN)/secure-constructs audit cdk.out --fail-on error || status=1; fi; \
	  exit $$status

# The construct examples (every construct in one stack), formerly the root app.
examples: setup
	rm -rf $(STAMPS)/cdk.out.examples
	cdk synth --quiet --app "python examples/constructs_app.py" -o $(STAMPS)/cdk.out.examples
	$(BIN)/python -m secure_constructs.checks.summary $(STAMPS)/cdk.out.examples

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy

unit: setup
	$(BIN)/pytest -n $(PYTEST_WORKERS) -q

test: lint typecheck unit

bench: setup
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)

clean:
	rm -rf cdk.out $(STAMPS) $(VENV) node_modules
