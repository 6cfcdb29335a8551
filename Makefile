# Offline commands: nothing here needs the Pulumi CLI, an AWS account or Docker.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
CHECKOV_VENV ?= .venv-checkov
STACK ?= dev

PACK_VENV ?= policies/venv
ORG_VENV ?= org/venv
UV ?= $(VENV)/bin/uv

.PHONY: venv venv-deploy venv-pack venv-org locks locks-check plan test lint typecheck format docs schema checkov bench bench-policies bench-agent clean vendor-standard pack-reports corpus-site

# Two layers: what `make plan` needs (the program and the pack), then the test toolchain on top,
# so a first `make plan` on a fresh clone does not wait for moto, mypy, hypothesis, ...
# The first layer comes from the hash lock only (every package pinned with its hashes,
# --require-hashes): it is what `pulumi up` runs with the deploy role (issue 22, item 7). The
# library itself (`-e .`) is a directory pip cannot hash: installed after it, without its
# dependencies (the lock holds them; pip check proves it) and without a build environment
# (setuptools and wheel are locked too, requirements-build.txt).
$(VENV)/.installed-run: requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	$(PY) -m pip check
	touch $@

# The pack's virtualenv (PulumiPolicy.yaml), as the engine runs it in CI, from its own lock.
$(PACK_VENV)/.installed: policies/requirements.lock
	$(PYTHON) -m venv $(PACK_VENV)
	$(PACK_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes \
		-r policies/requirements.lock
	touch $@

# org/'s virtualenv (its Pulumi.yaml), for the organization admin's `pulumi up` in org/.
$(ORG_VENV)/.installed: org/requirements.lock
	$(PYTHON) -m venv $(ORG_VENV)
	$(ORG_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes \
		-r org/requirements.lock
	touch $@

## make venv-deploy: the program's and the pack's virtualenvs, from the hash locks only: all
## that the jobs holding `id-token: write` install (deploy, preview; publish: make venv-pack).
venv-deploy: $(VENV)/.installed-run $(PACK_VENV)/.installed
venv-pack: $(PACK_VENV)/.installed
## make venv-org: org/venv from org/requirements.lock, before `pulumi up` in org/.
venv-org: $(ORG_VENV)/.installed

## make locks: write the hash locks (*.lock) from the requirement files with uv, for Python
## 3.11 on any platform, every distribution's sha256; versions already locked are kept
## (LOCK_ARGS=--upgrade to move them). Run it after changing a requirements file (a test fails
## until then): requirements.lock (.venv: requirements.txt, policies/requirements.txt,
## requirements-build.txt), policies/requirements.lock, org/requirements.lock. uv comes with
## `make venv` (requirements-dev.txt), or name another: UV=<path>.
LOCKS := requirements.lock policies/requirements.lock org/requirements.lock
LOCK = $(UV) pip compile --quiet --universal --python-version 3.11 --generate-hashes \
	--no-emit-package va-platform --custom-compile-command "make locks" $(LOCK_ARGS)
define write_locks
	$(LOCK) -o $(1)requirements.lock requirements.txt policies/requirements.txt requirements-build.txt
	$(LOCK) -o $(1)policies/requirements.lock policies/requirements.txt
	$(LOCK) -o $(1)org/requirements.lock org/requirements.txt
endef
locks:
	$(call write_locks,)

## make locks-check [UV=...]: write the locks again from PyPI into .va-build/locks, starting
## from the committed ones (so their versions are kept), and fail if any differs.
locks-check:
	rm -rf .va-build/locks
	mkdir -p .va-build/locks/policies .va-build/locks/org
	for f in $(LOCKS); do cp $$f .va-build/locks/$$f; done
	$(call write_locks,.va-build/locks/)
	status=0; for f in $(LOCKS); do diff -u $$f .va-build/locks/$$f || status=1; done; exit $$status

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

## make corpus-site: the provider SDKs the corpus of real programs imports beyond ours
## (tests/preflight/corpus/requirements.txt), without dependencies, into .va-build/corpus-site.
CORPUS_SITE := .va-build/corpus-site
$(CORPUS_SITE)/.installed: tests/preflight/corpus/requirements.txt $(VENV)/.installed-run
	rm -rf $(CORPUS_SITE)
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --target $(CORPUS_SITE) \
		-r tests/preflight/corpus/requirements.txt
	touch $@
corpus-site: $(CORPUS_SITE)/.installed

## make test: the whole test suite (mocks, no cloud), with coverage of components/ and policies/
## (fails under 90 %, see pyproject.toml); it runs the corpus of real programs too.
## TEST_WORKERS=2 runs it in two worker processes (pytest-xdist: about 6 minutes instead of 11.5
## on 2 cores), but not yet in CI: the hostile agent's runaway-fork test exhausts the machine's
## processes for a moment, and a test forking beside it in the other worker fails (seen once in
## three runs). Such tests need a serial phase of their own first.
TEST_WORKERS ?= 0
test: venv $(CORPUS_SITE)/.installed
	$(PY) -m pytest --cov --cov-report=term -n $(TEST_WORKERS)

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

## make schema: regenerate the component provider's package schema
## (src/va_platform/provider/schema.json) and its input reference (docs/provider-reference.md)
## from the components' classes (a test checks each is current).
schema: $(VENV)/.installed-run
	$(PY) -m va_platform.provider.schema > src/va_platform/provider/schema.json
	$(PY) -m va_platform.provider.reference > docs/provider-reference.md

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
	rm -rf $(VENV) $(CHECKOV_VENV) $(PACK_VENV) $(ORG_VENV) .va-build .pytest_cache .ruff_cache

## make vendor-standard: copy the shared standard (src/va_platform/{standard,catalogue}.py and the
## IAM catalogue) into the pack, which is published on its own (a test fails while they differ).
VENDORED := standard.py catalogue.py iam_catalogue.json
vendor-standard:
	for f in $(VENDORED); do cp src/va_platform/$$f policies/va_guard/$$f; done
