# Offline commands: nothing here needs the Pulumi CLI, an AWS account or Docker.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
CHECKOV_VENV ?= .venv-checkov
STACK ?= dev

.PHONY: venv plan test lint typecheck format docs checkov bench bench-policies bench-agent clean vendor-standard pack-reports

# Two layers: what `make plan` needs (the program and the pack), then the test toolchain on top,
# so a first `make plan` on a fresh clone does not wait for moto, mypy, hypothesis, ...
$(VENV)/.installed-run: requirements.txt policies/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check \
		-r requirements.txt -r policies/requirements.txt
	touch $@

$(VENV)/.installed: $(VENV)/.installed-run requirements-dev.txt agent_image/requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

# Checkov in a virtualenv of its own: its pins conflict with the agent image's.
$(CHECKOV_VENV)/.installed: requirements-checkov.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-checkov.txt
	touch $@

venv: $(VENV)/.installed $(CHECKOV_VENV)/.installed

## make plan [STACK=dev|prod]: the resource tree `pulumi up` would create and the va-guard
## preflight over it, offline, as the engine sends it in a fresh stack's first preview and in an
## update; exit 1 on a mandatory violation in either.
## make plan DIFF=<git ref>: the plan of <ref> against the working tree (added, removed, changed
## inputs old -> new, secrets masked); exit 0 with a one-line summary first.
plan: $(VENV)/.installed-run
	$(PY) -m va_platform.preflight --policy-pack policies --stack $(STACK) $(if $(DIFF),--diff $(DIFF),--mode both)

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

## make pack-reports: record what va-guard reports over its frozen corpus, with the version in
## policies/PulumiPolicy.yaml (a test fails while the reports changed and the version did not).
## ARGS=--same-version for a version never published; ARGS=--refresh-corpus after programs changed.
pack-reports: $(VENV)/.installed
	$(PY) -m tests.policies.pack_reports --write $(ARGS)

## make docs: regenerate docs/configuration.md from the config models and docs/library.md (the
## library reference) from the library's code (a test checks each is current).
docs: $(VENV)/.installed-run
	$(PY) -m stack.reference > docs/configuration.md
	$(PY) -m va_platform.reference > docs/library.md

## make checkov [STACK=dev|prod]: Checkov over the stack as a Terraform plan (every check, minus
## the accepted findings in .checkov.yaml, each explained in docs/compliance.md); exit 1 on any
## other finding.
checkov: $(VENV)/.installed-run $(CHECKOV_VENV)/.installed
	mkdir -p .va-build
	$(PY) -m va_platform.preflight.terraform_plan --stack $(STACK) > .va-build/$(STACK).tfplan.json
	$(CHECKOV_VENV)/bin/checkov --config-file .checkov.yaml -f .va-build/$(STACK).tfplan.json

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
	rm -rf $(VENV) $(CHECKOV_VENV) .va-build .pytest_cache .ruff_cache

## make vendor-standard: copy the shared standard (src/va_platform/{standard,catalogue}.py and the
## IAM catalogue) into the pack, which is published on its own (a test fails while they differ).
VENDORED := standard.py catalogue.py iam_catalogue.json
vendor-standard:
	for f in $(VENDORED); do cp src/va_platform/$$f policies/va_guard/$$f; done
