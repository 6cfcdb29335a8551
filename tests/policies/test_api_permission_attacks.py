"""Attack review of issue 16: a ``lambda.Permission`` for API Gateway whose sourceArn is an ARN
but names no one API (wildcards for the API id or the account) lets every API of the account
invoke the function, as one without sourceArn does; va-data passes it (sourceAccount is set)."""

from __future__ import annotations

import pytest

from policies.va_guard import lambda_rules
from tests.policies.support import run

PERMISSION = "aws:lambda/permission:Permission"
ACCOUNT = "123456789012"
API = "a1b2c3d4e5"


def permission(source_arn: str) -> dict:
    return {
        "principal": "apigateway.amazonaws.com",
        "sourceArn": source_arn,
        "sourceAccount": ACCOUNT,
        "action": "lambda:InvokeFunction",
        "function": "va-dev-x-lambda",
    }


@pytest.mark.parametrize(
    "source_arn",
    [
        pytest.param(
            f"arn:aws:execute-api:eu-central-1:{ACCOUNT}:*", id="every-api-of-the-account"
        ),
        pytest.param("arn:aws:execute-api:*:*:*", id="every-api-anywhere"),
        pytest.param(
            f"arn:aws:execute-api:eu-central-1:{ACCOUNT}:*/*/POST/drafts",
            id="any-api-with-that-route",
        ),
        pytest.param(f"arn:aws:execute-api:eu-central-1:{ACCOUNT}:a1*", id="api-id-prefix"),
        pytest.param(f"arn:aws:execute-api:eu-central-1:*:{API}/*", id="any-account"),
    ],
)
def test_api_gateway_permission_for_every_api_is_a_violation(source_arn):
    found = run(lambda_rules.FAMILY, PERMISSION, permission(source_arn))[0]
    assert len(found) == 1
    assert "every API of the account could call it" in found[0]


@pytest.mark.parametrize(
    "source_arn",
    [
        pytest.param(f"arn:aws:execute-api:eu-central-1:{ACCOUNT}:{API}/*/POST/drafts", id="route"),
        pytest.param(f"arn:aws:execute-api:eu-central-1:{ACCOUNT}:{API}/*/$default", id="default"),
        pytest.param(f"arn:aws:execute-api:eu-central-1:{ACCOUNT}:{API}/*", id="whole-api"),
        pytest.param(f"arn:aws:execute-api:*:{ACCOUNT}:{API}/*/*/x", id="any-region-one-api"),
    ],
)
def test_api_gateway_permission_for_one_api_passes(source_arn):
    assert run(lambda_rules.FAMILY, PERMISSION, permission(source_arn)) == ([], [])


@pytest.mark.parametrize(
    "source_arn",
    [
        # execution_arn.apply(lambda arn: arn + "*/*"), as MitchellGerdisch/pulumi-work's
        # blue-green API writes it (in the corpus): API ids are exactly ten characters, so a
        # wildcard after all ten matches that API's stages and routes only.
        pytest.param(
            f"arn:aws:execute-api:eu-central-1:{ACCOUNT}:{API}*/*", id="id-star-slash-star"
        ),
        pytest.param(f"arn:aws:execute-api:eu-central-1:{ACCOUNT}:{API}*", id="id-star"),
        pytest.param(f"arn:aws:execute-api:eu-central-1:{ACCOUNT}:{API}?*", id="id-question-star"),
    ],
)
def test_api_gateway_permission_with_a_wildcard_after_the_whole_api_id_passes(source_arn):
    assert run(lambda_rules.FAMILY, PERMISSION, permission(source_arn)) == ([], [])


def test_api_gateway_permission_with_a_wildcard_inside_the_api_id_is_a_violation():
    source_arn = f"arn:aws:execute-api:eu-central-1:{ACCOUNT}:{API[:9]}*/*"
    found = run(lambda_rules.FAMILY, PERMISSION, permission(source_arn))[0]
    assert len(found) == 1
    assert "every API of the account could call it" in found[0]
