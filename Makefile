# The two commands a new user needs: `make run` (the whole system, locally) and `make test`.
# Everything else bootstraps from pyproject.toml into .venv on first use.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
STACK  ?= FaultTolerantBackend

export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 1
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help venv run chromium test test-fast lint format synth deploy destroy reliability bench audit clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@command -v node >/dev/null || { echo "Node.js is required (CDK synthesizes through it)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP) ## create .venv with every dependency

# `make run` seeds process-task's simulated failures, so the README's walkthrough fails the
# same tasks every time (FAILURE_SEED= for random failures); ARGS go to `ftb local`, e.g.
# make run ARGS="--verbose" or ARGS="--port 3001 --endpoint-port 4567".
FAILURE_SEED ?= walkthrough
RUN_SEED := $(if $(FAILURE_SEED),--set-env process-task:FAILURE_SEED=$(FAILURE_SEED))

run: $(STAMP) node_modules/.package-lock.json ## run the whole system locally (API on :3000, AWS endpoint on :4566; ARGS="..." for ftb local)
	$(BIN)/ftb local $(RUN_SEED) $(ARGS)

# The suite mostly waits on clocks (cloud start-ups, scaled timeouts), so workers overlap the
# waits even on two cores; TEST_WORKERS=0 runs it in one process (tests/support/parallel_run.py).
TEST_WORKERS ?= 4

# The console's browser tests (tests/console) drive Debian's chromium: installed when missing
# and this user can (root with apt-get); otherwise one line says how.
CHROMIUM ?= /usr/bin/chromium
chromium:
	@test -x $(CHROMIUM) || { command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] && \
	  apt-get install -y -q chromium >/dev/null 2>&1; } || { echo "make test: $(CHROMIUM) is missing \
	and could not be installed here: run 'sudo apt-get install chromium' (the console's browser tests need it)"; exit 1; }

# The console's scripts (package.json dependencies: graph layout, chart), served from node_modules.
node_modules/.package-lock.json: package-lock.json
	npm ci --omit=dev --no-audit --no-fund

test: $(STAMP) chromium node_modules/.package-lock.json ## every test: unit, integration, infrastructure, ops, end-to-end, reliability
	$(BIN)/pytest -n $(TEST_WORKERS)

test-fast: $(STAMP) ## every test that needs no local cloud (under a minute once synthesized)
	$(BIN)/pytest -m "not cloud"

lint: $(STAMP) ## ruff, mypy and the import contracts (pyproject.toml [tool.importlinter])
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy handlers infra ftb bench
	PYTHONPATH=handlers $(BIN)/lint-imports --no-cache

format: $(STAMP) ## apply ruff's formatting and fixes
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

synth: $(STAMP) ## synthesize the CloudFormation template into cdk.out/
	$(BIN)/python -m infra.app

deploy: $(STAMP) ## deploy to the AWS account of your credentials (cdk bootstrap + deploy)
	npx --yes aws-cdk@2 bootstrap $(CDK_ARGS)
	npx --yes aws-cdk@2 deploy $(STACK) --require-approval never --outputs-file cdk-outputs.json $(CDK_ARGS)

destroy: $(STAMP) ## delete the deployed stack
	npx --yes aws-cdk@2 destroy $(STACK) $(CDK_ARGS)

reliability: $(STAMP) ## the full fault-injection, throttling and fuzz suites (N=2,000 tasks, 1,000 cases per operation)
	FTB_RELIABILITY_N=2000 FTB_FUZZ_EXAMPLES=1000 $(BIN)/pytest tests/reliability -s -p no:cacheprovider

bench: $(STAMP) ## figures of the local cloud: table, bench/results/*.json and *.png (QUICK=1: about a minute)
	$(BIN)/python -m bench $(if $(QUICK),--quick,)

audit: $(STAMP) ## bandit (no medium or high finding) and pip-audit on the installed dependencies
	$(BIN)/bandit -q -r handlers infra ftb -ll
	$(BIN)/pip-audit --skip-editable --strict --progress-spinner off

clean: ## remove caches and build output (keeps .venv)
	rm -rf cdk.out .ftb .pytest_cache .mypy_cache .ruff_cache
