"""VaLambda: the function and everything the VA standard puts around it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conventions import tag_violations
from tests.support import (
    CTX,
    NETWORKING,
    SECRET_ARN,
    SG_ARN,
    SUBNET_ARNS,
    TOPIC_ARN,
    build_lambda,
    is_taggable,
    one,
    policy_statements,
    spec,
)
from va_platform import standard
from va_platform.components.lambda_function import IamStatement, VaLambdaArgs
from va_platform.components.lambda_function.iam import execution_policy

FN = "aws:lambda/function:Function"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
LOG_ARN = "arn:aws:logs:eu-central-1:123456789012:log-group:/aws/lambda/va-dev-contentgen-lambda"
DLQ_ARN = "arn:aws:sqs:eu-central-1:123456789012:va-dev-contentgen-dlq"
ENI_ARN = "arn:aws:ec2:eu-central-1:123456789012:network-interface/*"


@pytest.fixture(scope="module")
def run(artifact):
    return build_lambda(
        artifact,
        spec=spec(secrets=["openai-api-key"], env={"LOG_LEVEL": "INFO"}),
        secret_arns={"openai-api-key": SECRET_ARN},
    )


def test_function_has_va_standard_defaults(run):
    fn = one(run, FN)
    assert (fn["name"], fn["runtime"], fn["handler"]) == (
        "va-dev-contentgen-lambda", "python3.11", "handler.handler"
    )  # fmt: skip
    assert (fn["memorySize"], fn["timeout"]) == (256, 30)


def test_function_runs_in_the_private_subnets_with_the_lambda_sg(run):
    assert one(run, FN)["vpcConfig"] == {"subnetIds": NETWORKING.subnet_ids,
                                         "securityGroupIds": ["sg-0l"]}  # fmt: skip


def test_function_traces_with_xray(run):
    assert one(run, FN)["tracingConfig"] == {"mode": "Active"}


def test_function_env_carries_the_secret_arn_not_its_value(run):
    assert one(run, FN)["environment"]["variables"] == {
        "LOG_LEVEL": "INFO", "OPENAI_API_KEY_SECRET_ARN": SECRET_ARN,
        "POWERTOOLS_SERVICE_NAME": "contentgen",
    }  # fmt: skip


def test_log_group_is_created_with_retention_and_used_by_the_function(run):
    logs = one(run, "aws:cloudwatch/logGroup:LogGroup")
    assert logs["name"] == "/aws/lambda/va-dev-contentgen-lambda"
    assert logs["retentionInDays"] == 30
    assert one(run, FN)["loggingConfig"]["logGroup"] == logs["name"]


def test_function_waits_for_its_log_group_and_role_policy(run):
    fn = run.named("fn-function")
    log_group, policy = run.named("fn-logs"), run.named("fn-role-policy")
    assert {log_group.urn, policy.urn} <= set(fn.dependencies)


def test_dlq_is_encrypted_and_wired_as_dead_letter_target(run):
    dlq = one(run, "aws:sqs/queue:Queue")
    assert dlq["name"] == "va-dev-contentgen-dlq"
    assert dlq["sqsManagedSseEnabled"] is True
    assert one(run, FN)["deadLetterConfig"] == {"targetArn": DLQ_ARN}


def test_async_invoke_config_sets_retries_and_event_age(run):
    cfg = one(run, "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig")
    assert cfg == {"functionName": "va-dev-contentgen-lambda", "maximumRetryAttempts": 2,
                   "maximumEventAgeInSeconds": 3600}  # fmt: skip


def test_recursive_loops_are_terminated(run):
    cfg = one(run, "aws:lambda/functionRecursionConfig:FunctionRecursionConfig")
    assert cfg["recursiveLoop"] == "Terminate"


def test_runtime_management_defaults_to_auto(run):
    cfg = one(run, "aws:lambda/runtimeManagementConfig:RuntimeManagementConfig")
    assert cfg["updateRuntimeOn"] == "Auto"
    assert "runtimeVersionArn" not in cfg


def test_role_is_named_for_the_function_and_assumable_by_lambda_only(run):
    role = one(run, "aws:iam/role:Role")
    assert role["name"] == "va-dev-contentgen-lambda-role"
    trust = json.loads(role["assumeRolePolicy"])["Statement"]
    assert trust == [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                      "Action": "sts:AssumeRole"}]  # fmt: skip


def test_policy_lets_the_function_write_only_its_own_log_group(run):
    st = policy_statements(run)["WriteOwnLogs"]
    assert st["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert st["Resource"] == f"{LOG_ARN}:*"


def test_policy_reads_only_the_functions_own_secrets(run):
    st = policy_statements(run)["ReadOwnSecrets"]
    assert (st["Action"], st["Resource"]) == (["secretsmanager:GetSecretValue"], SECRET_ARN)


def test_policy_sends_only_to_its_own_dlq(run):
    st = policy_statements(run)["SendToOwnDlq"]
    assert (st["Action"], st["Resource"]) == (["sqs:SendMessage"], DLQ_ARN)


def test_policy_creates_enis_only_in_its_subnets_and_sg(run):
    st = policy_statements(run)["CreateEniInOwnSubnets"]
    assert st["Resource"] == sorted([ENI_ARN, *SUBNET_ARNS, SG_ARN])


def test_policy_passes_the_standard_least_privilege_check(run):
    problems = [p.message for st in policy_statements(run).values()
                for p in standard.statement_problems(st)]  # fmt: skip
    assert problems == []


def test_policy_has_no_wildcard_actions(run):
    actions = [a for st in policy_statements(run).values() for a in st["Action"]]
    assert not [a for a in actions if a == "*" or a.endswith(":*")]


def test_policy_statements_are_exactly_the_expected_ones(run):
    assert sorted(policy_statements(run)) == sorted([
        "WriteOwnLogs", "ReadOwnSecrets", "SendToOwnDlq", "CreateEniInOwnSubnets",
        "ManageOwnEnis", "DescribeEnisNoResourceLevelPermissions",
        "XRayNoResourceLevelPermissions",
    ])  # fmt: skip


def test_no_secret_statement_without_secrets(artifact):
    assert "ReadOwnSecrets" not in policy_statements(build_lambda(artifact))


def test_extra_statement_is_scoped_to_its_resource(artifact):
    table = "arn:aws:dynamodb:eu-central-1:123456789012:table/va-dev-core-dynamodb"
    run = build_lambda(
        artifact, extra_statements=[IamStatement("CoreTable", ("dynamodb:PutItem",), [table])]
    )
    st = policy_statements(run)["CoreTable"]
    assert (st["Action"], st["Resource"]) == (["dynamodb:PutItem"], table)


@pytest.mark.parametrize(
    ("action", "message"),
    [("*", "grants \\*; name the actions"), ("dynamodb:*", "grants dynamodb:\\*; name the actions"),
     ("dynamodb", "grants dynamodb \\(unknown")],
    ids=["star", "service-star", "no-action-name"],
)  # fmt: skip
def test_extra_statement_with_wildcard_action_is_refused(action, message):
    with pytest.raises(ValueError, match=message):
        IamStatement("Bad", (action,), ["arn:aws:dynamodb:eu-central-1:1:table/x"])


def test_extra_statement_with_an_action_aws_does_not_know_is_refused():
    with pytest.raises(ValueError, match="grants dynamodb:PutItems \\(unknown in AWS's"):
        IamStatement("Typo", ("dynamodb:PutItems",), ["arn:aws:dynamodb:eu-central-1:1:table/x"])


def test_execution_policy_accepts_star_for_extra_actions_aws_lists_no_resource_types_for():
    extra = [("SessionChannels", ["ssmmessages:CreateControlChannel"], ["*"])]
    policy = execution_policy(log_group_arn=LOG_ARN, dlq_arn=DLQ_ARN, secret_arns=[],
                              subnet_arns=SUBNET_ARNS, security_group_arns=[SG_ARN], extra=extra)  # fmt: skip
    assert policy["Statement"][-1]["Resource"] == "*"


@pytest.mark.parametrize(
    ("type_", "metric", "statistic", "threshold"),
    [
        ("errors-alarm", "Errors", "Sum", 1),
        ("throttles-alarm", "Throttles", "Sum", 1),
        ("duration-alarm", "Duration", "Maximum", 24000),
        ("dlq-alarm", "ApproximateNumberOfMessagesVisible", "Maximum", 1),
    ],
)
def test_alarm_watches_its_metric_and_notifies_the_topic(run, type_, metric, statistic, threshold):
    alarm = next(a.inputs for a in run.of_type(ALARM) if a.inputs["name"].endswith(type_))
    assert (alarm["metricName"], alarm["statistic"], alarm["threshold"]) == (
        metric, statistic, threshold
    )  # fmt: skip
    assert alarm["alarmActions"] == [TOPIC_ARN]
    assert alarm["name"] == f"va-dev-contentgen-{type_}"


def test_dlq_alarm_watches_the_dlq_and_function_alarms_the_function(run):
    dims = {a.inputs["name"]: a.inputs["dimensions"] for a in run.of_type(ALARM)}
    assert dims["va-dev-contentgen-dlq-alarm"] == {"QueueName": "va-dev-contentgen-dlq"}
    assert dims["va-dev-contentgen-errors-alarm"] == {"FunctionName": "va-dev-contentgen-lambda"}


def test_duration_alarm_threshold_is_a_fraction_of_the_timeout(artifact):
    run = build_lambda(artifact, spec=spec(timeout=120, durationAlarmFraction=0.5))
    alarm = next(a.inputs for a in run.of_type(ALARM) if "duration" in a.inputs["name"])
    assert alarm["threshold"] == 60000


def test_every_taggable_child_has_the_five_tags(run):
    taggable = [r for r in run.resources if is_taggable(r.type)]
    assert len(taggable) >= 8
    for r in taggable:
        assert not tag_violations(r.type, r.inputs.get("tags") or {}), r.name


def test_every_child_is_parented_to_the_component(run):
    children = [r for r in run.resources if r.type != "va:lambda:VaLambda"]
    assert children
    assert all("va:lambda:VaLambda$" in r.urn for r in children)


def test_component_registers_its_outputs(run):
    outputs = run.registered_outputs[run.named("fn").urn]
    assert outputs == {
        "functionName": "va-dev-contentgen-lambda",
        "functionArn": "arn:aws:lambda:eu-central-1:123456789012:function:va-dev-contentgen-lambda",
        "roleArn": "arn:aws:iam::123456789012:role/va-dev-contentgen-lambda-role",
        "logGroupName": "/aws/lambda/va-dev-contentgen-lambda",
        "dlqArn": DLQ_ARN,
    }


def test_manual_runtime_management_pins_the_version(artifact):
    arn = "arn:aws:lambda:eu-central-1::runtime:" + "b" * 64
    run = build_lambda(
        artifact, spec=spec(runtimeManagement={"mode": "Manual", "runtimeVersionArn": arn})
    )
    cfg = one(run, "aws:lambda/runtimeManagementConfig:RuntimeManagementConfig")
    assert (cfg["updateRuntimeOn"], cfg["runtimeVersionArn"]) == ("Manual", arn)


def test_reserved_concurrency_is_set_when_given(artifact):
    run = build_lambda(artifact, spec=spec(reservedConcurrency=5))
    assert one(run, FN)["reservedConcurrentExecutions"] == 5


def test_image_function_uses_the_image_uri_and_no_runtime(artifact):
    uri = "123456789012.dkr.ecr.eu-central-1.amazonaws.com/va-dev-agent-ecr:abc123"
    image = spec(code={"imageUri": uri}, purpose="agent", memory=2048, timeout=300)
    fn = one(build_lambda(None, spec=image), FN)
    assert (fn["packageType"], fn["imageUri"]) == ("Image", uri)
    assert "runtime" not in fn
    assert "handler" not in fn


def test_image_function_gets_no_runtime_management():
    uri = "123456789012.dkr.ecr.eu-central-1.amazonaws.com/va-dev-agent-ecr:abc123"
    run = build_lambda(None, spec=spec(code={"imageUri": uri}))
    assert not run.of_type("aws:lambda/runtimeManagementConfig:RuntimeManagementConfig")


def test_zip_function_records_the_package_hash(run, artifact):
    assert one(run, FN)["sourceCodeHash"] == artifact.sha256_b64


def test_custom_runtime_with_layer_is_accepted(artifact):
    layer = "arn:aws:lambda:eu-central-1:123456789012:layer:va-dev-rt-layer:1"
    run = build_lambda(
        artifact, spec=spec(runtime="provided.al2023", handler="bootstrap"), layer_arns=[layer]
    )
    fn = one(run, FN)
    assert (fn["runtime"], fn["layers"]) == ("provided.al2023", [layer])


def test_custom_runtime_without_bootstrap_or_layer_is_refused(artifact):
    with pytest.raises(ValueError, match="needs an executable 'bootstrap'"):
        VaLambdaArgs(
            context=CTX, spec=spec(runtime="provided.al2023", handler="bootstrap"),
            networking=NETWORKING, alarm_topic_arn=TOPIC_ARN, package=artifact,
        )  # fmt: skip


def test_zip_function_without_package_is_refused():
    with pytest.raises(ValueError, match="needs its package"):
        VaLambdaArgs(context=CTX, spec=spec(), networking=NETWORKING, alarm_topic_arn=TOPIC_ARN)


def test_secret_without_arn_is_refused(artifact: Path):
    with pytest.raises(ValueError, match="no ARN given for secrets openai-api-key"):
        VaLambdaArgs(
            context=CTX, spec=spec(secrets=["openai-api-key"]), networking=NETWORKING,
            alarm_topic_arn=TOPIC_ARN, package=artifact,
        )  # fmt: skip
