"""Triggers and releases of a VaLambda: schedules, queues and the `live` alias, each with exactly
the permission it needs, and refusals before any resource exists."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from tests.paths import PROJECT_ROOT
from tests.support import build_lambda, one, policy_statements, spec
from va_platform.packaging import build_zip
from va_platform.preflight.mocks import ACCOUNT, REGION

SCHEDULE = {"kind": "schedule", "expression": "rate(1 hour)"}
OWN_QUEUE = {"kind": "queue", "batchSize": 5}
EXISTING = f"arn:aws:sqs:{REGION}:{ACCOUNT}:orders"


def run_with(artifact, **fields):
    run = build_lambda(artifact, spec=spec(**fields))
    assert run.error is None, run.error
    return run


def role_statements(run, name: str) -> dict[str, dict]:
    doc = json.loads(run.named(name).inputs["policy"])
    return {st["Sid"]: st for st in doc["Statement"]}


# --- releases ---------------------------------------------------------------------------------


def test_published_function_gets_a_live_alias_at_the_new_version(artifact):
    run = run_with(artifact, publish=True)

    assert one(run, "aws:lambda/function:Function")["publish"] is True
    alias = one(run, "aws:lambda/alias:Alias")
    assert alias["name"] == "live"
    assert alias["functionName"] == "va-dev-contentgen-lambda"


def test_unpublished_function_has_no_alias(artifact):
    run = run_with(artifact)

    assert run.of_type("aws:lambda/alias:Alias") == []
    assert "publish" not in one(run, "aws:lambda/function:Function")


# --- schedules --------------------------------------------------------------------------------


def test_schedule_runs_the_expression_and_dead_letters_to_the_functions_dlq(artifact):
    run = run_with(artifact, triggers=[SCHEDULE])

    schedule = one(run, "aws:scheduler/schedule:Schedule")
    assert schedule["name"] == "va-dev-contentgen-schedule"
    assert schedule["scheduleExpression"] == "rate(1 hour)"
    assert schedule["flexibleTimeWindow"] == {"mode": "OFF"}
    dlq = one(run, "aws:sqs/queue:Queue")
    assert schedule["target"]["deadLetterConfig"]["arn"].endswith(f":{dlq['name']}")


def test_schedule_role_may_invoke_only_the_live_alias_and_send_to_the_dlq(artifact):
    run = run_with(artifact, triggers=[SCHEDULE], publish=True)

    st = role_statements(run, "fn-schedule-policy")
    assert st["InvokeTarget"]["Action"] == ["lambda:InvokeFunction"]
    assert st["InvokeTarget"]["Resource"].endswith(":function:va-dev-contentgen-lambda:live")
    assert st["DeadLetterToDlq"]["Resource"].endswith(":va-dev-contentgen-dlq")


def test_schedule_role_trusts_the_scheduler_of_this_account_only(artifact):
    run = run_with(artifact, triggers=[SCHEDULE])

    (st,) = json.loads(run.named("fn-schedule-role").inputs["assumeRolePolicy"])["Statement"]
    assert st["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert st["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}


def test_flexible_window_is_passed_to_the_scheduler(artifact):
    run = run_with(artifact, triggers=[{**SCHEDULE, "flexibleWindowMinutes": 15}])

    window = one(run, "aws:scheduler/schedule:Schedule")["flexibleTimeWindow"]
    assert window == {"mode": "FLEXIBLE", "maximumWindowInMinutes": 15}


# --- queues -----------------------------------------------------------------------------------


def test_own_work_queue_is_encrypted_and_redriven_to_its_own_dlq(artifact):
    run = run_with(artifact, triggers=[OWN_QUEUE])

    queues = {q.inputs["name"]: q.inputs for q in run.of_type("aws:sqs/queue:Queue")}
    queue = queues["va-dev-contentgen-queue"]
    assert queue["sqsManagedSseEnabled"] is True
    redrive = json.loads(queue["redrivePolicy"])
    assert redrive["deadLetterTargetArn"].endswith(":va-dev-contentgen-queue-dlq")
    assert redrive["maxReceiveCount"] == 3


def test_work_queue_visibility_is_six_function_timeouts(artifact):
    run = run_with(artifact, triggers=[OWN_QUEUE], timeout=60)

    queue = run.named("fn-queue").inputs
    assert queue["visibilityTimeoutSeconds"] == 360


def test_function_role_may_receive_and_delete_exactly_on_its_queue(artifact):
    run = run_with(artifact, triggers=[{"kind": "queue", "queueArn": EXISTING}])

    st = policy_statements(run)["ReadTriggerQueues"]
    assert st["Action"] == ["sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"]
    assert st["Resource"] == EXISTING


def test_queue_mapping_reports_batch_item_failures_and_caps_concurrency(artifact):
    trigger = {**OWN_QUEUE, "maxConcurrency": 4}
    run = run_with(artifact, triggers=[trigger])

    mapping = one(run, "aws:lambda/eventSourceMapping:EventSourceMapping")
    assert mapping["functionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["scalingConfig"] == {"maximumConcurrency": 4}
    assert mapping["batchSize"] == 5


def test_no_queue_permission_without_a_queue_trigger(artifact):
    run = run_with(artifact, triggers=[SCHEDULE])

    assert "ReadTriggerQueues" not in role_statements(run, "fn-role-policy")


# --- refused before any resource ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("triggers", "message"),
    [
        pytest.param(
            [{"kind": "schedule", "expression": "every hour"}], r"is not rate\(", id="expr"
        ),
        pytest.param([{"kind": "queue", "batchSize": 50}], "needs batchingWindowS", id="batch"),
        pytest.param([OWN_QUEUE, OWN_QUEUE], "one work queue", id="two-own-queues"),
        pytest.param(
            [{"kind": "queue", "queueArn": EXISTING}, {"kind": "queue", "queueArn": EXISTING}],
            "listed more than once",
            id="same-queue-twice",
        ),
        pytest.param([{"kind": "queue", "queueArn": "orders"}], "not an SQS queue ARN", id="arn"),
        pytest.param([{"kind": "webhook"}], "kind", id="unknown-kind"),
    ],
)
def test_conflicting_or_incomplete_triggers_are_refused(triggers, message):
    with pytest.raises(ValidationError, match=message):
        spec(triggers=triggers)


# --- events -----------------------------------------------------------------------------------

EVENTS = {"kind": "events", "pattern": {"source": ["va.orders"]}}


def test_events_rule_matches_the_pattern_and_targets_the_alias(artifact):
    run = run_with(artifact, triggers=[EVENTS], publish=True)

    rule = one(run, "aws:cloudwatch/eventRule:EventRule")
    assert json.loads(rule["eventPattern"]) == {"source": ["va.orders"]}
    target = one(run, "aws:cloudwatch/eventTarget:EventTarget")
    assert target["arn"].endswith(":function:va-dev-contentgen-lambda:live")
    assert target["deadLetterConfig"]["arn"].endswith(":va-dev-contentgen-dlq")


def test_events_permission_names_the_rule_and_the_account(artifact):
    run = run_with(artifact, triggers=[EVENTS])

    permission = one(run, "aws:lambda/permission:Permission")
    assert permission["principal"] == "events.amazonaws.com"
    assert permission["sourceArn"].endswith(":rule/va-dev-contentgen-rule")
    assert permission["sourceAccount"] == ACCOUNT


def test_dlq_admits_eventbridge_for_its_rules_only(artifact):
    run = run_with(artifact, triggers=[EVENTS])

    (st,) = json.loads(one(run, "aws:sqs/queuePolicy:QueuePolicy")["policy"])["Statement"]
    assert st["Principal"] == {"Service": "events.amazonaws.com"}
    assert [a.rsplit("/", 1)[-1] for a in st["Condition"]["ArnEquals"]["aws:SourceArn"]] == [
        "va-dev-contentgen-rule"
    ]


# --- bucket -----------------------------------------------------------------------------------

CONTENT_ARN = "arn:aws:s3:::va-dev-content-bucket"
UPLOADS = {"kind": "bucket", "prefix": "uploads/", "suffix": ".json"}


def test_bucket_permission_names_the_bucket_and_the_account_and_targets_the_alias(artifact):
    run = run_with_buckets(artifact, triggers=[UPLOADS], publish=True)

    permission = one(run, "aws:lambda/permission:Permission")
    assert permission["principal"] == "s3.amazonaws.com"
    assert permission["sourceArn"] == CONTENT_ARN
    assert permission["sourceAccount"] == ACCOUNT
    assert permission["qualifier"] == "live"


def test_two_bucket_triggers_on_one_bucket_need_one_permission(artifact):
    images = {"kind": "bucket", "prefix": "images/"}
    run = run_with_buckets(artifact, triggers=[UPLOADS, images])

    assert len(run.of_type("aws:lambda/permission:Permission")) == 1


def test_bucket_trigger_on_a_bucket_without_its_arn_is_refused(artifact):
    run = build_lambda(artifact, spec=spec(triggers=[UPLOADS]))

    assert isinstance(run.error, ValueError)
    assert "bucket triggers name content ('content' is BucketTrigger.bucket's default" in str(
        run.error
    )
    assert "give the ARN of each in bucket_arns" in str(run.error)


def run_with_buckets(artifact, **fields):
    run = build_lambda(artifact, spec=spec(**fields), bucket_arns={"content": CONTENT_ARN})
    assert run.error is None, run.error
    return run


@pytest.mark.parametrize(
    ("triggers", "message"),
    [
        pytest.param([{"kind": "bucket", "suffix": "*.json"}], "literal text, not wildcards",
                     id="wildcard-suffix"),
        pytest.param([{"kind": "bucket", "events": ["s3:ObjectRemoved:*"]}], "events",
                     id="not-object-created"),
        pytest.param([{"kind": "bucket", "events": ["s3:ObjectCreated:*", "s3:ObjectCreated:Put"]}],
                     "already covers", id="wildcard-and-type"),
        pytest.param([UPLOADS, {"kind": "bucket", "prefix": "uploads/"}],
                     "contentgen's trigger .* and contentgen's .* match the same objects",
                     id="overlap-in-one-function"),
        pytest.param([{"kind": "bucket", "bucket": "Content"}], "bucket", id="bucket-name"),
    ],
)  # fmt: skip
def test_bucket_trigger_that_s3_would_refuse_is_refused(triggers, message):
    with pytest.raises(ValidationError, match=message):
        spec(triggers=triggers)


@pytest.mark.parametrize(
    "other",
    [
        pytest.param({"kind": "bucket", "prefix": "uploads/", "suffix": ".csv"}, id="suffix"),
        pytest.param({"kind": "bucket", "prefix": "images/"}, id="prefix"),
        pytest.param(
            {"kind": "bucket", "prefix": "uploads/", "events": ["s3:ObjectCreated:Copy"]},
            id="events",
        ),
    ],
)
def test_bucket_triggers_that_match_different_objects_are_accepted(other):
    put = {**UPLOADS, "events": ["s3:ObjectCreated:Put"]}
    assert len(spec(triggers=[put, other]).triggers) == 2


# --- http -------------------------------------------------------------------------------------


def test_function_url_takes_signed_calls_only(artifact):
    run = run_with(artifact, triggers=[{"kind": "http"}])

    url = one(run, "aws:lambda/functionUrl:FunctionUrl")
    assert url["authorizationType"] == "AWS_IAM"
    assert "cors" not in url


def test_function_url_cors_lists_the_allowed_origins(artifact):
    http = {"kind": "http", "allowOrigins": ["https://app.example.com"], "allowMethods": ["GET"]}
    run = run_with(artifact, triggers=[http], publish=True)

    url = one(run, "aws:lambda/functionUrl:FunctionUrl")
    assert url["cors"]["allowOrigins"] == ["https://app.example.com"]
    assert url["qualifier"] == "live"


# --- http via api -----------------------------------------------------------------------------

API = {"kind": "http", "via": "api", "routes": ["POST /drafts", "GET /drafts/{id}"]}
ISSUER = "https://cognito-idp.eu-central-1.amazonaws.com/eu-central-1_AbC"


def routes_of(run) -> dict[str, dict]:
    return {r.inputs["routeKey"]: r.inputs for r in run.of_type("aws:apigatewayv2/route:Route")}


def api_permissions(run) -> list[str]:
    found = run.of_type("aws:lambda/permission:Permission")
    return sorted(p.inputs["sourceArn"] for p in found if p.inputs["principal"].startswith("apig"))


def test_api_is_named_and_tagged_and_speaks_http(artifact):
    run = run_with(artifact, triggers=[API])

    api = one(run, "aws:apigatewayv2/api:Api")
    assert (api["name"], api["protocolType"]) == ("va-dev-contentgen-api", "HTTP")
    assert api["tags"]["Name"] == "va-dev-contentgen-api"


def test_every_route_takes_signed_calls_by_default(artifact):
    run = run_with(artifact, triggers=[API])

    assert {k: r["authorizationType"] for k, r in routes_of(run).items()} == {
        "POST /drafts": "AWS_IAM",
        "GET /drafts/{id}": "AWS_IAM",
    }
    assert run.of_type("aws:apigatewayv2/authorizer:Authorizer") == []


def test_jwt_authorizer_guards_every_route_when_given(artifact):
    jwt = {"issuer": ISSUER, "audiences": ["drafts-app"], "scopes": ["drafts/write"]}
    run = run_with(artifact, triggers=[{**API, "jwt": jwt}])

    authorizer = one(run, "aws:apigatewayv2/authorizer:Authorizer")
    assert authorizer["authorizerType"] == "JWT"
    assert authorizer["jwtConfiguration"] == {"issuer": ISSUER, "audiences": ["drafts-app"]}
    for route in routes_of(run).values():
        assert route["authorizationType"] == "JWT"
        assert route["authorizationScopes"] == ["drafts/write"]


def test_api_proxies_payload_2_to_the_live_alias(artifact):
    run = run_with(artifact, triggers=[API], publish=True)

    integration = one(run, "aws:apigatewayv2/integration:Integration")
    assert integration["integrationType"] == "AWS_PROXY"
    assert integration["payloadFormatVersion"] == "2.0"
    assert integration["integrationUri"].endswith(":function:va-dev-contentgen-lambda:live")


def test_function_admits_exactly_each_route(artifact):
    run = run_with(artifact, triggers=[{**API, "routes": ["POST /drafts", "ANY /files/{p+}"]}])

    execution = run.of_type("aws:apigatewayv2/api:Api")[0].outputs["executionArn"]
    assert api_permissions(run) == [f"{execution}/*/*/files/{{p+}}", f"{execution}/*/POST/drafts"]
    permission = run.named("fn-api-route-1-permission").inputs
    assert permission["sourceAccount"] == ACCOUNT


def test_default_route_only_when_asked_for(artifact):
    run = run_with(artifact, triggers=[{**API, "defaultRoute": True}])

    assert "$default" in routes_of(run)
    assert api_permissions(run)[0].endswith("/*/$default")


def test_stage_deploys_itself_logs_json_and_throttles(artifact):
    run = run_with(artifact, triggers=[{**API, "throttleBurst": 20, "throttleRate": 10}])

    stage = one(run, "aws:apigatewayv2/stage:Stage")
    assert (stage["name"], stage["autoDeploy"]) == ("$default", True)
    assert stage["defaultRouteSettings"] == {"throttlingBurstLimit": 20, "throttlingRateLimit": 10}
    assert json.loads(stage["accessLogSettings"]["format"])["routeKey"] == "$context.routeKey"
    assert stage["accessLogSettings"]["destinationArn"].endswith(":va-dev-contentgen-api-logs")


def test_access_logs_keep_the_functions_retention_and_key(artifact):
    run = run_with(artifact, triggers=[API], kms_key_arn=KEY, log_retention_days=90)

    logs = run.named("fn-api-logs").inputs
    assert (logs["name"], logs["retentionInDays"], logs["kmsKeyId"]) == (
        "va-dev-contentgen-api-logs", 90, KEY,
    )  # fmt: skip


def test_access_logs_take_the_stacks_key_when_the_function_has_none(artifact):
    run = build_lambda(artifact, spec=spec(triggers=[API]), kms_key_arn=KEY)
    assert run.error is None, run.error

    assert run.named("fn-api-logs").inputs["kmsKeyId"] == KEY


def test_api_integration_waits_at_most_the_function_timeout(artifact):
    run = run_with(artifact, triggers=[API], timeout=10)

    assert one(run, "aws:apigatewayv2/integration:Integration")["timeoutMilliseconds"] == 10000


def test_a_function_may_have_both_a_url_and_an_api(artifact):
    run = run_with(artifact, triggers=[{"kind": "http"}, API])

    assert one(run, "aws:lambda/functionUrl:FunctionUrl")["authorizationType"] == "AWS_IAM"
    assert one(run, "aws:apigatewayv2/api:Api")["name"] == "va-dev-contentgen-api"


@pytest.mark.parametrize(
    ("trigger", "message"),
    [
        pytest.param({"kind": "http", "via": "api"}, "needs routes", id="no-routes"),
        pytest.param({**API, "routes": ["FETCH /drafts"]}, "METHOD one of GET", id="method"),
        pytest.param({**API, "routes": ["POST drafts"]}, "'<METHOD> /<path>'", id="no-slash"),
        pytest.param({**API, "routes": ["GET /drafts/"]}, "no empty segments", id="trailing-slash"),
        pytest.param({**API, "routes": ["GET /a/{p+}/b"]}, "must be the last", id="greedy-not-last"),
        pytest.param({**API, "routes": ["GET /a b"]}, "is not literal text", id="space"),
        pytest.param({**API, "routes": ["$default"]}, "set defaultRoute: true", id="default"),
        pytest.param({**API, "routes": ["GET /d/{id}", "GET /d/{name}"]}, "more than once",
                     id="duplicate"),
        pytest.param({**API, "jwt": {"issuer": "http://idp.example", "audiences": ["a"]}},
                     "https:// URL", id="issuer"),
        pytest.param({**API, "jwt": {"issuer": ISSUER, "audiences": []}}, "audiences",
                     id="no-audience"),
        pytest.param({**API, "throttleBurst": 6000}, "throttleBurst|throttle_burst", id="burst"),
        pytest.param({"kind": "http", "routes": ["POST /drafts"]}, "apply to via: api only",
                     id="routes-on-url"),
        pytest.param({"kind": "http", "jwt": {"issuer": ISSUER, "audiences": ["a"]}},
                     "jwt apply to via: api only", id="jwt-on-url"),
        pytest.param({**API, "allowOrigins": ["*"], "allowCredentials": True},
                     "browsers refuse credentials", id="credentials-any-origin"),
        pytest.param({**API, "allowOrigins": ["https://a.example"], "allowHeaders": ["*"],
                      "allowCredentials": True}, "browsers refuse credentials",
                     id="credentials-any-header"),
        pytest.param({**API, "allowCredentials": True}, "list allowOrigins too",
                     id="credentials-without-cors"),
        pytest.param({**API, "allowOrigins": ["*", "https://a.example"]}, "list it alone",
                     id="star-and-origin"),
        pytest.param({**API, "throttleBurst": 0}, r"throttleBurst: must be within 1-5000", id="zero-burst"),
        pytest.param({**API, "jwt": {"issuer": ISSUER, "audiences": ["a"]},
                      "allowOrigins": ["https://a.example"]},
                     "allowHeaders needs authorization", id="jwt-cors-without-authorization"),
    ],
)  # fmt: skip
def test_http_api_config_that_cannot_work_is_refused(trigger, message):
    with pytest.raises(ValidationError, match=message):
        spec(triggers=[trigger])


def test_jwt_api_called_from_a_browser_with_the_authorization_header_is_accepted():
    trigger = {**API, "jwt": {"issuer": ISSUER, "audiences": ["a"]},
               "allowOrigins": ["https://a.example"], "allowHeaders": ["Authorization"]}  # fmt: skip
    assert spec(triggers=[trigger]).triggers[0].allow_headers == ("Authorization",)


def test_two_apis_for_one_function_are_refused():
    with pytest.raises(ValidationError, match="one HTTP API"):
        spec(triggers=[API, API])


def test_http_api_with_named_origins_and_credentials_gets_cors(artifact):
    cors = {"allowOrigins": ["https://app.example"], "allowHeaders": ["authorization"],
            "allowCredentials": True, "allowMethods": ["GET", "POST"]}  # fmt: skip
    run = run_with(artifact, triggers=[{**API, **cors}])

    config = one(run, "aws:apigatewayv2/api:Api")["corsConfiguration"]
    assert config["allowOrigins"] == ["https://app.example"]
    assert (config["allowCredentials"], config["allowHeaders"]) == (True, ["authorization"])


# --- destinations, provisioned concurrency, SnapStart -------------------------------------------

SUCCESS = f"arn:aws:sqs:{REGION}:{ACCOUNT}:va-dev-results-queue"
FAILURE = f"arn:aws:sns:{REGION}:{ACCOUNT}:va-dev-failures-topic"


def test_destinations_are_configured_and_the_role_may_deliver_to_exactly_them(artifact):
    run = run_with(artifact, destinations={"onSuccess": SUCCESS, "onFailure": FAILURE})

    config = one(run, "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig")
    assert config["destinationConfig"]["onSuccess"]["destination"] == SUCCESS
    st = role_statements(run, "fn-role-policy")
    assert (st["DeliverOnSuccess"]["Action"], st["DeliverOnSuccess"]["Resource"]) == (
        ["sqs:SendMessage"], SUCCESS,
    )  # fmt: skip
    assert (st["DeliverOnFailure"]["Action"], st["DeliverOnFailure"]["Resource"]) == (
        ["sns:Publish"], FAILURE,
    )  # fmt: skip


def test_provisioned_concurrency_is_on_the_live_alias(artifact):
    run = run_with(artifact, publish=True, provisioned_concurrency=2)

    config = one(run, "aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig")
    assert (config["qualifier"], config["provisionedConcurrentExecutions"]) == ("live", 2)


def test_snap_start_applies_to_published_versions(tmp_path):
    # A package built for the runtime it runs on (a python3.11 one is refused).
    artifact = build_zip(
        PROJECT_ROOT / "functions/contentgen", runtime="python3.12", cache_dir=tmp_path / "build"
    )
    run = run_with(artifact, publish=True, snap_start=True, runtime="python3.12")

    fn = one(run, "aws:lambda/function:Function")
    assert fn["snapStart"] == {"applyOn": "PublishedVersions"}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        pytest.param({"provisioned_concurrency": 2}, "set publish: true", id="provisioned"),
        pytest.param({"snap_start": True, "runtime": "python3.12"}, "publish", id="snap-unpub"),
        pytest.param(
            {"snap_start": True, "publish": True, "runtime": "python3.11"},
            "this function runs python3.11",
            id="snap-py311",
        ),
        pytest.param({"destinations": {"onSuccess": "arn:aws:s3:::b"}}, "not an SQS", id="dest"),
        pytest.param({"triggers": [{"kind": "events", "pattern": {}}]}, "empty", id="pattern"),
        pytest.param(
            {"triggers": [{"kind": "http", "allowOrigins": ["http://x.example"]}]},
            "origins are https",
            id="origin",
        ),
        pytest.param(
            {"triggers": [{"kind": "http"}, {"kind": "http"}]}, "one function URL", id="urls"
        ),
    ],
)
def test_release_settings_that_cannot_work_are_refused(fields, message):
    with pytest.raises(ValidationError, match=message):
        spec(**fields)


# --- settings teams reach for first ---------------------------------------------------------------

POWERTOOLS = (
    f"arn:aws:lambda:{REGION}:017000801446:layer:AWSLambdaPowertoolsPythonV3-python311-x86_64:7"
)
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0b1e5c1e-1111-2222-3333-444455556666"


def test_layers_by_arn_follow_the_stacks_own_layers(artifact):
    run = run_with(artifact, layer_arns=[POWERTOOLS])

    assert one(run, "aws:lambda/function:Function")["layers"] == [POWERTOOLS]


def test_log_levels_and_tracing_mode_are_settable(artifact):
    run = run_with(artifact, log_level="DEBUG", system_log_level="WARN", tracing="PassThrough")

    fn = one(run, "aws:lambda/function:Function")
    assert fn["loggingConfig"]["applicationLogLevel"] == "DEBUG"
    assert fn["loggingConfig"]["systemLogLevel"] == "WARN"
    assert fn["tracingConfig"] == {"mode": "PassThrough"}


def test_customer_key_encrypts_env_and_logs_and_the_role_may_decrypt(artifact):
    run = run_with(artifact, kms_key_arn=KEY)

    assert one(run, "aws:lambda/function:Function")["kmsKeyArn"] == KEY
    assert one(run, "aws:cloudwatch/logGroup:LogGroup")["kmsKeyId"] == KEY
    st = role_statements(run, "fn-role-policy")["DecryptWithOwnKey"]
    assert (st["Action"], st["Resource"]) == (["kms:Decrypt"], KEY)


def test_powertools_service_name_is_the_purpose_unless_set(artifact):
    run = run_with(artifact, env={"POWERTOOLS_SERVICE_NAME": "drafts"})

    env = one(run, "aws:lambda/function:Function")["environment"]["variables"]
    assert env["POWERTOOLS_SERVICE_NAME"] == "drafts"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        pytest.param({"layer_arns": ["AWSLambdaPowertools"]}, "layer version ARN", id="layer"),
        pytest.param({"kms_key_arn": "alias/mine"}, "not a KMS key ARN", id="kms"),
        pytest.param({"log_level": "VERBOSE"}, "log_level|logLevel", id="level"),
    ],
)
def test_bad_settings_are_refused(fields, message):
    with pytest.raises(ValidationError, match=message):
        spec(**fields)


# --- extra statements -------------------------------------------------------------------------

ORDERS = f"arn:aws:sqs:{REGION}:{ACCOUNT}:orders"


def test_extra_statement_is_added_to_the_functions_role(artifact):
    st = {"sid": "ReadOrders", "actions": ["sqs:ReceiveMessage"], "resources": [ORDERS]}
    run = run_with(artifact, statements=[st])

    added = role_statements(run, "fn-role-policy")["ReadOrders"]
    assert (added["Action"], added["Resource"]) == (["sqs:ReceiveMessage"], ORDERS)


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        pytest.param({"sid": "All", "actions": ["sqs:*"], "resources": [ORDERS]}, "sqs:\\*",
                     id="service-wildcard"),
        pytest.param({"sid": "Typo", "actions": ["sqs:RecieveMessage"], "resources": [ORDERS]},
                     "unknown in AWS's Service Authorization Reference", id="unknown-action"),
        pytest.param({"sid": "Star", "actions": ["sqs:ReceiveMessage"], "resources": ["*"]},
                     "Resource '\\*'", id="star-for-a-scoped-action"),
        pytest.param({"sid": "WriteOwnLogs", "actions": ["sqs:ReceiveMessage"],
                      "resources": [ORDERS]}, "used twice or by the standard policy",
                     id="reserved-sid"),
    ],
)  # fmt: skip
def test_extra_statement_that_breaks_least_privilege_is_refused(statement, message):
    with pytest.raises(ValidationError, match=message):
        spec(statements=[statement])


STACK_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/57ac5e1e-1111-2222-3333-444455556666"


def test_the_stacks_key_encrypts_env_and_logs_when_the_function_names_none(artifact):
    run = build_lambda(artifact, spec=spec(), kms_key_arn=STACK_KEY)

    assert one(run, "aws:lambda/function:Function")["kmsKeyArn"] == STACK_KEY
    assert one(run, "aws:cloudwatch/logGroup:LogGroup")["kmsKeyId"] == STACK_KEY


def test_a_functions_own_key_wins_over_the_stacks(artifact):
    run = build_lambda(artifact, spec=spec(kms_key_arn=KEY), kms_key_arn=STACK_KEY)

    assert one(run, "aws:lambda/function:Function")["kmsKeyArn"] == KEY


def test_a_function_with_its_own_key_may_still_decrypt_the_stacks_secrets(artifact):
    """The stack's secrets are encrypted with the stack key: reading one needs kms:Decrypt on
    it even when the function's env and logs use a key of its own."""
    run = build_lambda(
        artifact,
        spec=spec(kms_key_arn=KEY, secrets=["openai-api-key"]),
        secret_arns={"openai-api-key": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:x"},
        kms_key_arn=STACK_KEY,
    )

    st = policy_statements(run)["DecryptWithOwnKey"]
    assert st["Resource"] == [KEY, STACK_KEY]
