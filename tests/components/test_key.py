"""VaKey: the stack's KMS key for its functions' env vars and log groups."""

from __future__ import annotations

import json

from tests.support import CTX, one
from va_platform.components.key import VaKey, VaKeyArgs
from va_platform.preflight.mocks import ACCOUNT, REGION
from va_platform.preflight.runner import run_under_mocks

KEY = "aws:kms/key:Key"


def key_run():
    run = run_under_mocks(
        lambda: VaKey(
            "k", VaKeyArgs(context=CTX, region=REGION, account_id=ACCOUNT, purpose="lambda")
        )
    )
    assert run.error is None
    return run


def statements() -> dict[str, dict]:
    return {st["Sid"]: st for st in json.loads(one(key_run(), KEY)["policy"])["Statement"]}


def test_key_rotates_and_is_aliased_after_the_stack():
    run = key_run()
    assert one(run, KEY)["enableKeyRotation"] is True
    assert one(run, "aws:kms/alias:Alias")["name"] == "alias/va-dev-lambda-key"


def test_cloudwatch_logs_may_use_the_key_for_this_environments_log_groups_only():
    st = statements()["CloudWatchLogsEncryptsOwnLogGroups"]
    assert st["Principal"] == {"Service": f"logs.{REGION}.amazonaws.com"}
    assert st["Condition"] == {
        "ArnLike": {
            "kms:EncryptionContext:aws:logs:arn": [
                f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/va-dev-*",
                f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:va-dev-*",
            ]
        }
    }


def test_no_other_service_is_named_in_the_key_policy():
    principals = [st["Principal"] for st in statements().values()]
    assert principals == [
        {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
        {"Service": f"logs.{REGION}.amazonaws.com"},
    ]
