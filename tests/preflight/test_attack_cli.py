"""Attacks on "a green `make plan` means a green real preview and update" (issue 13): what the
preflight CLI does with programs and configs users really have. One behaviour per test,
Each was an xfail(strict) attack until its fix landed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.paths import PROJECT_ROOT

FIXTURES = Path(__file__).parents[1] / "fixtures"


def preflight(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "va_platform.preflight", *args],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def test_update_mode_sees_the_resources_an_imported_module_declares():
    result = preflight("--json", "--program", str(FIXTURES / "split_program"))
    modes = json.loads(result.stdout)["modes"]
    preview, update = (modes[m]["policy"]["resources"] for m in ("preview", "update"))
    assert update == preview, f"preview checked {preview} resources, update {update}"


def test_policy_config_shorthand_level_is_not_a_traceback(tmp_path):
    config = tmp_path / "cfg.json"
    config.write_text(json.dumps({"va-iam": "advisory"}))
    result = preflight("--mode", "update", "--program", str(FIXTURES / "open_security_group"),
                       "--policy-config", str(config))  # fmt: skip
    assert "Traceback" not in result.stdout + result.stderr, result.stderr[-400:]


def test_policy_config_all_sets_every_policy_level(tmp_path):
    config = tmp_path / "all-advisory.json"
    config.write_text(json.dumps({"all": {"enforcementLevel": "advisory"}}))
    result = preflight("--json", "--mode", "update", "--program",
                       str(FIXTURES / "open_security_group"), "--policy-config", str(config))  # fmt: skip
    report = json.loads(result.stdout)["modes"]["update"]["policy"]
    assert report["mandatory"] == 0, report["mandatory"]


def test_program_that_exits_zero_is_not_a_green_plan(tmp_path):
    (tmp_path / "Pulumi.yaml").write_text("name: exits\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  aws:region: eu-central-1\n")
    (tmp_path / "__main__.py").write_text(
        "import sys\nimport pulumi_aws as aws\n"
        "aws.ec2.SecurityGroup('open', ingress=[{'protocol': '-1', 'from_port': 0, "
        "'to_port': 0, 'cidr_blocks': ['0.0.0.0/0']}])\n"
        "sys.exit(0)\n"
    )
    result = preflight("--program", str(tmp_path))
    assert result.returncode != 0, (result.stdout[-400:], result.stderr[-400:])
