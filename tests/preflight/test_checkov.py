"""Checkov over our own output, as `make checkov` runs it: every check except the accepted
findings of .checkov.yaml, whose reasons docs/compliance.md gives one by one.

Checkov runs from its own virtualenv (``make venv`` builds .venv-checkov; CHECKOV overrides
the path). Both stacks, and dev with every trigger kind, are scanned in one Checkov run.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.paths import PROJECT_ROOT
from tests.support import every_trigger_config
from va_platform.preflight import terraform_plan as tf
from va_platform.preflight.runner import run_program

CHECKOV = Path(os.environ.get("CHECKOV", PROJECT_ROOT / ".venv-checkov" / "bin" / "checkov"))
CONFIG = PROJECT_ROOT / ".checkov.yaml"
COMPLIANCE_DOC = PROJECT_ROOT / "docs" / "compliance.md"
API_PROGRAM = Path(__file__).parents[1] / "fixtures" / "api"


def checkov(plans: dict[str, dict], tmp: Path, *extra: str) -> dict[str, list[dict]]:
    """Checkov's results over the given plans: {"failed": [...], "passed": [...]}."""
    if not CHECKOV.is_file():
        pytest.fail(f"no Checkov at {CHECKOV}: run `make venv` (it builds .venv-checkov)")
    files = []
    for name, plan in plans.items():
        path = tmp / f"{name}.tfplan.json"
        path.write_text(json.dumps(plan))
        files += ["-f", str(path)]
    out = subprocess.run(
        [str(CHECKOV), *files, "--framework", "terraform_plan", "--skip-download", "-o", "json",
         *extra],
        # Not from the project root: Checkov would read .checkov.yaml there and skip checks.
        capture_output=True, text=True, timeout=300, check=False, cwd=tmp,
    )  # fmt: skip
    assert out.returncode in (0, 1), out.stderr[-2000:]
    report = json.loads(out.stdout)
    report = report if isinstance(report, dict) else report[0]
    results = report["results"]
    return {"failed": results["failed_checks"], "passed": results["passed_checks"]}


@pytest.fixture(scope="module")
def our_plans() -> dict[str, dict]:
    """dev, prod, and dev with every trigger kind (bucket, HTTP API, ...) on its functions."""
    plans = {}
    for stack in ("dev", "prod", "every-trigger"):
        config = every_trigger_config() if stack == "every-trigger" else None
        run = run_program("dev" if config else stack, config=config)
        assert run.error is None
        plans[stack] = tf.plan(run)
    return plans


@pytest.fixture(scope="module")
def our_results(
    our_plans: dict[str, dict], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, list[dict]]:
    """Every check over dev and prod, accepted findings included (to tell them apart)."""
    return checkov(our_plans, tmp_path_factory.mktemp("checkov"))


def where(check: dict) -> str:
    return f"{Path(check['file_path']).name}: {check['resource']}"


def accepted() -> set[str]:
    return set(yaml.safe_load(CONFIG.read_text())["skip-check"])


def test_our_stacks_have_no_finding_beyond_the_accepted_ones(our_results) -> None:
    new = sorted({f"{c['check_id']} {where(c)}" for c in our_results["failed"]
                  if c["check_id"] not in accepted()})  # fmt: skip
    assert new == []


def test_every_accepted_finding_still_occurs(our_results) -> None:
    """An accepted finding we have since fixed must leave the list, or it hides a regression."""
    assert accepted() - {c["check_id"] for c in our_results["failed"]} == set()


@pytest.mark.parametrize(
    "check",
    [
        "CKV_AWS_115",  # reserved concurrency
        "CKV_AWS_116",  # dead-letter queue
        "CKV_AWS_117",  # in a VPC
        "CKV_AWS_50",  # X-Ray tracing
        "CKV_AWS_173",  # env vars encrypted with a customer-managed key
    ],
)
def test_every_function_passes_the_lambda_check(our_plans, our_results, check: str) -> None:
    functions = sum(
        r["type"] == "aws_lambda_function"
        for plan in our_plans.values()
        for r in plan["planned_values"]["root_module"]["resources"]
    )
    passed = {where(c) for c in our_results["passed"] if c["check_id"] == check}
    failed = {where(c) for c in our_results["failed"] if c["check_id"] == check}
    assert (len(passed), failed) == (functions, set())


def test_every_function_has_a_concurrency_limit(our_plans) -> None:
    """What CKV_AWS_115 means, checked here too: Checkov forbids ``${-1}`` (HCL) but passes the
    plain -1 ("unreserved") a plan shows."""
    unreserved = [
        f"{stack}: {r['name']}"
        for stack, plan in our_plans.items()
        for r in plan["planned_values"]["root_module"]["resources"]
        if r["type"] == "aws_lambda_function" and r["values"]["reserved_concurrent_executions"] < 0
    ]
    assert unreserved == []


def test_every_log_group_is_encrypted_with_a_customer_managed_key(our_results) -> None:
    failed = [where(c) for c in our_results["failed"] if c["check_id"] == "CKV_AWS_158"]
    assert failed == []


def test_a_function_without_the_va_settings_is_reported(tmp_path: Path) -> None:
    """The gate can fail: the tutorial-style API program's function has no DLQ, no VPC, no
    reserved concurrency and no tracing, and Checkov says so through the same conversion."""
    run = run_program("dev", program=API_PROGRAM)
    assert run.error is None
    failed = {c["check_id"] for c in checkov({"api": tf.plan(run)}, tmp_path)["failed"]}
    assert {"CKV_AWS_115", "CKV_AWS_116", "CKV_AWS_117", "CKV_AWS_50"} <= failed


def test_each_accepted_finding_has_its_reason_in_the_compliance_doc() -> None:
    documented = set(re.findall(r"^\| (CKV2?_AWS_\d+) \|", COMPLIANCE_DOC.read_text(), re.M))
    assert accepted() <= documented
