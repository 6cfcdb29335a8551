# Offline commands: nothing here needs the Pulumi CLI, an AWS account or Docker.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STACK ?= dev

.PHONY: venv plan test lint typecheck format bench bench-policies bench-agent clean

$(VENV)/.installed: requirements.txt requirements-dev.txt policies/requirements.txt \
		agent_image/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed

## make plan [STACK=dev|prod]: the resource tree `pulumi up` would create and the va-guard
## preflight over it, offline, as the engine sends it in a fresh stack's first preview and in an
## update; exit 1 on a mandatory violation in either.
plan: venv
	$(PY) -m preflight --stack $(STACK) --mode both

## make test: the whole test suite (mocks, no cloud), with coverage of components/ and policies/
## (fails under 90 %, see pyproject.toml).
test: venv
	$(PY) -m pytest --cov --cov-report=term

lint: venv
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/hadolint agent_image/Dockerfile
	$(VENV)/bin/zizmor --offline --persona=pedantic --quiet .github/workflows
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml

## make typecheck: mypy over components/, policies/ and agent_image/ (pyproject.toml).
typecheck: venv
	$(PY) -m mypy

format: venv
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

bench: venv
	$(PY) bench/bench_components.py

## make bench-policies: va-guard Analyze throughput over gRPC against a no-op pack.
bench-policies: venv
	$(PY) bench/bench_policies.py

## make bench-agent: FAALF handler overhead, cold import and secret fetches (real CLI, stand-in API).
bench-agent: venv
	$(PY) bench/bench_agent.py

clean:
	rm -rf $(VENV) .va-build .pytest_cache .ruff_cache
