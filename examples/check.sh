#!/usr/bin/env bash
# Each example as another team runs it: a virtualenv of its own outside the repository, the
# library installed from this checkout by path (the example's requirements.txt, as `pulumi`
# would install it), then the library's own preflight from that virtualenv, in the example's
# directory, in both modes (a first preview and an update): exit 1 on any mandatory violation.
# Examples in other languages (no requirements.txt) are skipped: they need the Pulumi CLI.
# Also checks, from outside the repository, that the installed distribution imports with no
# repository on sys.path, without the image extra, and installs no generic top-level module.
# Used by .ci/run.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
version=$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' "$repo/src/va_platform/__init__.py")
grep -q "^## \[$version\]" "$repo/CHANGELOG.md" || { echo "CHANGELOG.md has no [$version]"; exit 1; }

for example in "$repo"/examples/*/; do
  name=$(basename "$example")
  if [[ ! -f "$example/requirements.txt" ]]; then
    # Not a Python program (typescript-valambda, yaml-valambda): they need the Pulumi CLI,
    # which these machines do not have (their README says what was and was not run).
    echo "== $name: skipped (no requirements.txt: not a Python program)"
    continue
  fi
  venv="$work/$name-venv"
  echo "== $name: virtualenv, pip install -r requirements.txt"
  python3 -m venv "$venv"
  if ! (cd "$example" && "$venv/bin/pip" install --quiet --disable-pip-version-check \
        -r requirements.txt > "$work/$name-pip.txt" 2>&1); then
    cat "$work/$name-pip.txt"
    exit 1
  fi
  (cd "$work" && "$venv/bin/python" - "$version" <<'PY'
import importlib.metadata
import importlib.util
import sys

import va_platform
import va_platform.components  # noqa: F401 - the public API imports with no repository around

assert importlib.metadata.version("va-platform") == sys.argv[1] == va_platform.__version__
for name in ("components", "stack", "policies", "preflight"):
    assert importlib.util.find_spec(name) is None, f"{name} is importable"
requires = importlib.metadata.requires("va-platform") or []
names = {r.split("<")[0].split(">")[0].split("=")[0] for r in requires}
assert {"pulumi", "pulumi-aws"} <= names, requires
# The examples install the preflight extra only: the core imports without the image extra's
# pulumi-docker (VaAgentImage says which extra it needs).
assert importlib.util.find_spec("pulumi_docker") is None, "pulumi-docker installed without [image]"
PY
  )
  references=()
  if [[ -f "$example/stack-references.json" ]]; then
    references=(--stack-references stack-references.json)
  fi
  echo "== $name: va-preflight (first preview and update)"
  if ! (cd "$example" && "$venv/bin/va-preflight" --stack dev --policy-pack "$repo/policies" \
        "${references[@]}" > "$work/$name.txt" 2>&1); then
    cat "$work/$name.txt"
    exit 1
  fi
  grep "^va-guard, " "$work/$name.txt"
done
