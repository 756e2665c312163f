# The two commands a new user needs: `make run` (the whole system, locally) and `make test`.
# Everything else installs on first use from the lock (requirements/*.txt, package-lock.json)
# through tools/install.py: `make run` the run set only, `make test` adds the toolchain.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STACK  ?= FaultTolerantBackend
# One stamp per set (tools/install.py writes them): the run set is part of the dev set, so
# `make run` after `make test` installs nothing and `make test` after `make run` adds the rest.
RUN_SET := $(VENV)/.installed-run
DEV_SET := $(VENV)/.installed-dev
CDK_CLI := node_modules/.ftb-installed-all
INSTALL := $(PYTHON) -m tools.install

export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 1
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help venv run test test-fast test-contract lint format synth deploy destroy reliability bench audit lock clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(RUN_SET): requirements/run.txt pyproject.toml package.json package-lock.json tools/install.py
	@$(INSTALL) run

$(DEV_SET): requirements/dev.txt requirements/run.txt pyproject.toml package.json package-lock.json tools/install.py
	@$(INSTALL) dev

$(CDK_CLI): package.json package-lock.json
	@$(INSTALL) deploy

venv: $(DEV_SET) ## create .venv with every dependency (the dev set)

# `make run` seeds process-task's simulated failures, so the README's walkthrough fails the
# same tasks every time (FAILURE_SEED= for random failures); ARGS go to `ftb local`, e.g.
# make run ARGS="--verbose" or ARGS="--port 3001 --endpoint-port 4567".
FAILURE_SEED ?= walkthrough
RUN_SEED := $(if $(FAILURE_SEED),--set-env process-task:FAILURE_SEED=$(FAILURE_SEED))

run: $(RUN_SET) ## run the whole system locally (API on :3000, AWS endpoint on :4566; ARGS="..." for ftb local)
	$(BIN)/ftb local $(RUN_SEED) $(ARGS)

# The suite mostly waits on clocks (cloud start-ups, scaled timeouts), so workers overlap the
# waits even on two cores; TEST_WORKERS=0 runs it in one process (tests/support/parallel_run.py).
TEST_WORKERS ?= 4

test: $(DEV_SET) ## every test: unit, integration, infrastructure, ops, end-to-end, reliability
	$(BIN)/pytest -n $(TEST_WORKERS)

test-fast: $(DEV_SET) ## every test that needs no local cloud (under a minute once synthesized)
	$(BIN)/pytest -m "not cloud"

test-contract: $(DEV_SET) ## moto's originals against our replacements, on the installed moto (run by an upgrade)
	$(BIN)/pytest tests/contract tests/unit/localcloud/test_moto_wall.py -p no:cacheprovider

lint: $(DEV_SET) ## ruff, mypy and the import contracts (pyproject.toml [tool.importlinter])
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy handlers infra ftb bench tools tests
	PYTHONPATH=handlers $(BIN)/lint-imports --no-cache

format: $(DEV_SET) ## apply ruff's formatting and fixes
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

synth: $(RUN_SET) ## synthesize the CloudFormation template into cdk.out/
	$(BIN)/python -m infra.app

# The CDK CLI is package.json's devDependency (exact version, package-lock.json), not npx's latest.
deploy: $(RUN_SET) $(CDK_CLI) ## deploy to the AWS account of your credentials (cdk bootstrap + deploy)
	node_modules/.bin/cdk bootstrap $(CDK_ARGS)
	node_modules/.bin/cdk deploy $(STACK) --require-approval never --outputs-file cdk-outputs.json $(CDK_ARGS)

destroy: $(RUN_SET) $(CDK_CLI) ## delete the deployed stack
	node_modules/.bin/cdk destroy $(STACK) $(CDK_ARGS)

reliability: $(DEV_SET) ## the full fault-injection, throttling and fuzz suites (N=2,000 tasks, 1,000 cases per operation)
	FTB_RELIABILITY_N=2000 FTB_FUZZ_EXAMPLES=1000 $(BIN)/pytest tests/reliability -s -p no:cacheprovider

bench: $(DEV_SET) ## figures of the local cloud: table, bench/results/*.json and *.png (QUICK=1: about a minute)
	$(BIN)/python -m bench $(if $(QUICK),--quick,)

audit: $(DEV_SET) ## bandit (no medium or high finding) and pip-audit on the installed dependencies
	$(BIN)/bandit -q -r handlers infra ftb -ll
	$(BIN)/pip-audit --skip-editable --strict --progress-spinner off

# An upgrade is a reviewed change: the diff of requirements/ and the contract tests' result.
lock: $(DEV_SET) ## refresh the lock from pyproject.toml's ranges (UPGRADE=1: newest in range), then tests/contract
	$(PYTHON) -m tools.lock $(if $(UPGRADE),--upgrade,)

clean: ## remove caches and build output (keeps .venv)
	rm -rf cdk.out .ftb .pytest_cache .mypy_cache .ruff_cache
