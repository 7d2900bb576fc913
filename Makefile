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

.PHONY: synth examples test lint typecheck unit bench setup clean dist sample

setup: $(STAMPS)/venv $(STAMPS)/npm

# Set-up prints a line per step with the seconds since it started, and pip's own progress (the
# first run downloads aws-cdk-lib and friends: a few minutes). editable_mode=compat: a plain
# path on sys.path, which mypy and pyright can follow (setuptools' default import hook hides it).
$(STAMPS)/venv: pyproject.toml
	@mkdir -p $(STAMPS)
	@start=$$(date +%s); \
	  if [ ! -x $(BIN)/python ]; then echo "[setup] creating $(VENV)"; $(PYTHON) -m venv $(VENV) || exit 1; fi; \
	  echo "[setup] installing secure-constructs[dev] into $(VENV) ($$(( $$(date +%s) - start )) s)"; \
	  $(BIN)/python -m pip install --disable-pip-version-check -e '.[dev]' \
	    --config-settings editable_mode=compat || exit 1; \
	  echo "[setup] Python packages ready ($$(( $$(date +%s) - start )) s)"
	@touch $@

$(STAMPS)/npm: package.json package-lock.json
	@mkdir -p $(STAMPS)
	@echo "[setup] npm ci: the pinned CDK CLI and Node 22"
	@start=$$(date +%s); npm ci --no-audit --no-fund --loglevel=error || exit 1; \
	  echo "[setup] node_modules ready ($$(( $$(date +%s) - start )) s)"
	@touch $@

# The sdist and wheel in dist/ (emptied first, so it holds exactly this version's pair).
dist: setup
	rm -rf dist
	$(BIN)/python -m build --outdir dist .

# The sample app rendered into $(SAMPLE_OUT)/, installing secure-constructs from the wheel just
# built (a direct reference: no package index is asked for the name).
SAMPLE_OUT ?= sample-out
sample: dist
	@wheel=$$(ls $(CURDIR)/dist/secure_constructs-*.whl) && \
	  $(BIN)/cookiecutter sample_app --no-input --overwrite-if-exists --output-dir $(SAMPLE_OUT) \
	    secure_constructs_requirement="secure-constructs @ file://$$wheel" $(SAMPLE_ARGS) && \
	  echo "rendered into $(SAMPLE_OUT)/ (secure-constructs @ file://$$wheel); next: cd $(SAMPLE_OUT)/items-service && make test && make synth"

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
	rm -rf cdk.out $(STAMPS) $(VENV) node_modules dist
