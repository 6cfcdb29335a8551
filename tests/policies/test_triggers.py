"""va-lambda on what starts a function: signed function URLs, schedules that dead-letter,
provisioned concurrency on an alias, routes with an authorizer (advisory). Bad and good twins."""

from __future__ import annotations

import pytest
from pulumi.runtime.rpc import UNKNOWN
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.proxy import unknown_checking_proxy

from policies.va_guard import lambda_rules
from tests.policies.support import run

URL = "aws:lambda/functionUrl:FunctionUrl"
SCHEDULE = "aws:scheduler/schedule:Schedule"
PROVISIONED = "aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig"
ROUTE = "aws:apigatewayv2/route:Route"
PERMISSION = "aws:lambda/permission:Permission"
API_ARN = "arn:aws:execute-api:eu-central-1:123456789012:a1b2c3d4e5"
DLQ = "arn:aws:sqs:eu-central-1:123456789012:va-dev-x-dlq"


def as_engine_sends(props: dict) -> object:
    """Props as a policy sees them from the engine: the unknown sentinel decoded by the SDK."""
    return unknown_checking_proxy(deserialize_properties(props))


def schedule(target: dict) -> dict:
    return {"scheduleExpression": "rate(1 hour)", "target": {"arn": "arn:aws:lambda:x", **target}}


@pytest.mark.parametrize(
    ("type_", "props", "expected"),
    [
        pytest.param(
            URL, {"authorizationType": "NONE"}, "lets anyone on the internet", id="url-none"
        ),
        pytest.param(SCHEDULE, schedule({}), "no dead-letter queue", id="schedule-no-dlq"),
        pytest.param(PROVISIONED, {"qualifier": "3"}, "attach it to an alias", id="on-version"),
        pytest.param(
            PERMISSION,
            {"principal": "apigateway.amazonaws.com", "sourceAccount": "123456789012"},
            "every API of the account could call it",
            id="api-permission-without-source-arn",
        ),
    ],
)
def test_unsafe_trigger_is_a_violation(type_, props, expected):
    violations, _ = run(lambda_rules.FAMILY, type_, props)
    assert len(violations) == 1
    assert expected in violations[0]


@pytest.mark.parametrize(
    ("type_", "props"),
    [
        pytest.param(URL, {"authorizationType": "AWS_IAM"}, id="url-iam"),
        pytest.param(SCHEDULE, schedule({"deadLetterConfig": {"arn": DLQ}}), id="schedule-dlq"),
        pytest.param(
            SCHEDULE,
            as_engine_sends(schedule({"deadLetterConfig": {"arn": UNKNOWN}})),
            id="dlq-unknown",
        ),
        pytest.param(PROVISIONED, {"qualifier": "live"}, id="on-alias"),
        pytest.param(ROUTE, {"routeKey": "GET /", "authorizationType": "JWT"}, id="route-jwt"),
        pytest.param(
            PERMISSION,
            {"principal": "apigateway.amazonaws.com", "sourceArn": f"{API_ARN}/*/POST/drafts"},
            id="api-permission-for-one-route",
        ),
        pytest.param(
            PERMISSION,
            {"principal": "s3.amazonaws.com", "sourceAccount": "123456789012"},
            id="other-service-left-to-va-data",
        ),
    ],
)
def test_safe_trigger_passes(type_, props):
    assert run(lambda_rules.FAMILY, type_, props) == ([], [])


@pytest.mark.parametrize("auth", [{}, {"authorizationType": "NONE"}], ids=["unset", "none"])
def test_route_without_authorizer_is_an_advisory_only(auth):
    violations, notices = run(lambda_rules.FAMILY, ROUTE, {"routeKey": "GET /items", **auth})
    assert violations == []
    assert any("has no authorizer" in n for n in notices)


@pytest.mark.parametrize("type_", [URL, PROVISIONED], ids=["url", "provisioned"])
def test_unknown_setting_is_unchecked_not_a_violation(type_):
    key = "authorizationType" if type_ == URL else "qualifier"
    violations, notices = run(lambda_rules.FAMILY, type_, as_engine_sends({key: UNKNOWN}))
    assert violations == []
    assert any("could not check" in n for n in notices)
