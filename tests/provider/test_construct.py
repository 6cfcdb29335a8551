"""Construct over the provider's gRPC interface, as the engine calls it, against a recording
resource monitor: each component makes exactly the children (types, names, parents, inputs:
tags, names, IAM policy documents) the Python API makes for the same inputs under
pulumi.runtime.set_mocks, and a bad input is one line naming it, without a traceback."""

import json
import zipfile
from typing import Any

import grpc
import pytest

from tests.provider.harness import archive, refusal, unknown
from va_platform import components as va
from va_platform.components.artifacts import ZipArtifact
from va_platform.preflight.mocks import ACCOUNT, REGION, Recorded
from va_platform.preflight.runner import run_under_mocks
from va_platform.provider.inputs import package_of

CONTEXT = {"environment": "dev", "owner": "platform-team"}
CTX = va.VaContext(environment="dev", owner="platform-team")
TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT}:va-dev-alarms-topic"
SECRET_ARN = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:va/dev/openai-api-key-AbCdEf"
TABLE_ARN = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/va-dev-core-dynamodb"
NETWORK = {
    "vpcId": "vpc-0a1b2c3d",
    "subnetIds": ["subnet-0a", "subnet-0b"],
    "securityGroupIds": ["sg-0l"],
    "region": REGION,
    "accountId": ACCOUNT,
}
SPEC = {
    "purpose": "reports",
    "code": {"path": "functions/reports"},
    "memory": 512,
    "runtime": "python3.12",
    "secrets": [{"name": "openai-api-key"}],
    "tableActions": ["dynamodb:PutItem", "dynamodb:GetItem"],
    "triggers": [
        {"kind": "schedule", "expression": "rate(1 hour)"},
        {"kind": "queue", "batchSize": 5},
    ],
    "egress": [
        {"port": 5432, "securityGroupId": "sg-0123456789abcdef0", "description": "reports database"}
    ],
    "statements": [
        {
            "sid": "ReadShared",
            "actions": ["sqs:ReceiveMessage"],
            "resources": [f"arn:aws:sqs:{REGION}:{ACCOUNT}:shared-queue"],
        }
    ],
}


@pytest.fixture(scope="module")
def zip_path(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("code") / "reports.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("handler.py", "def handler(event, context):\n    return {'ok': True}\n")
    return str(path)


def _networking() -> va.LambdaNetworking:
    """The network NETWORK names, as a Python program gives it to VaLambda or VaAgent."""
    return va.LambdaNetworking.from_ids(
        vpc_id=NETWORK["vpcId"],
        subnet_ids=NETWORK["subnetIds"],
        security_group_ids=NETWORK["securityGroupIds"],
        region=REGION,
        account_id=ACCOUNT,
    )


def _lambda_args(zip_path: str) -> va.VaLambdaArgs:
    spec = va.FunctionSpec.model_validate(SPEC)
    package: ZipArtifact = package_of(type("A", (), {"path": zip_path})(), spec)
    return va.VaLambdaArgs(
        context=CTX,
        spec=spec,
        networking=_networking(),
        alarm_topic_arn=TOPIC_ARN,
        package=package,
        secret_arns={"openai-api-key": SECRET_ARN},
        table=va.TableRef(arn=TABLE_ARN, name="va-dev-core-dynamodb"),
    )


def _lambda_inputs(zip_path: str) -> dict[str, Any]:
    return {
        "context": CONTEXT,
        "spec": SPEC,
        "networking": NETWORK,
        "alarmTopicArn": TOPIC_ARN,
        "package": archive(zip_path),
        "secretArns": {"openai-api-key": SECRET_ARN},
        "table": {"arn": TABLE_ARN, "name": "va-dev-core-dynamodb"},
    }


IMAGE_URI = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/va-dev-agent-ecr@sha256:" + "a" * 64
IMAGE_SPEC = {"purpose": "imaged", "code": {"kind": "image"}, "memory": 1024}

# component -> (token, provider inputs, the same as Python args); a callable takes the zip.
CASES: dict[str, tuple[str, Any, Any]] = {
    "VaSecret": (
        "va:secret:VaSecret",
        {"context": CONTEXT, "leaf": "openai-api-key", "recoveryWindowDays": 7},
        lambda _: (
            va.VaSecret,
            va.VaSecretArgs(context=CTX, leaf="openai-api-key", recovery_window_days=7),
        ),
    ),
    "VaTable": (
        "va:data:VaTable",
        {"context": CONTEXT, "purpose": "core", "rangeKey": ""},
        lambda _: (va.VaTable, va.VaTableArgs(context=CTX, purpose="core", range_key=None)),
    ),
    "VaBucket": (
        "va:data:VaBucket",
        {"context": CONTEXT, "purpose": "artifacts", "expiry": {"currentDays": 90}},
        lambda _: (
            va.VaBucket,
            va.VaBucketArgs(context=CTX, purpose="artifacts", expiry=va.Expiry(current_days=90)),
        ),
    ),
    "VaAlarmTopic": (
        "va:alarms:VaAlarmTopic",
        {"context": CONTEXT, "alarmEmail": "ops@example.com", "purpose": "alarms"},
        lambda _: (
            va.VaAlarmTopic,
            va.VaAlarmTopicArgs(context=CTX, alarm_email="ops@example.com", purpose="alarms"),
        ),
    ),
    "VaKey": (
        "va:kms:VaKey",
        {"context": CONTEXT, "region": REGION, "accountId": ACCOUNT, "purpose": "lambda"},
        lambda _: (
            va.VaKey,
            va.VaKeyArgs(context=CTX, region=REGION, account_id=ACCOUNT, purpose="lambda"),
        ),
    ),
    "VaNetwork": (
        "va:network:VaNetwork",
        {
            "context": CONTEXT,
            "region": REGION,
            "vpcCidr": "10.20.0.0/16",
            "availabilityZones": ["eu-central-1a", "eu-central-1b"],
            "natGateway": True,
            "purpose": "core",
        },
        lambda _: (
            va.VaNetwork,
            va.VaNetworkArgs(
                context=CTX,
                region=REGION,
                vpc_cidr="10.20.0.0/16",
                availability_zones=("eu-central-1a", "eu-central-1b"),
                nat_gateway=True,
                purpose="core",
            ),
        ),
    ),
    "VaLambda-zip": (
        "va:lambda:VaLambda",
        _lambda_inputs,
        lambda z: (va.VaLambda, _lambda_args(z)),
    ),
    "VaLambda-image": (
        "va:lambda:VaLambda",
        {
            "context": CONTEXT,
            "spec": IMAGE_SPEC,
            "networking": NETWORK,
            "alarmTopicArn": TOPIC_ARN,
            "imageUri": IMAGE_URI,
        },
        lambda _: (
            va.VaLambda,
            va.VaLambdaArgs(
                context=CTX,
                spec=va.FunctionSpec.model_validate(IMAGE_SPEC),
                networking=va.LambdaNetworking.from_ids(
                    vpc_id=NETWORK["vpcId"],
                    subnet_ids=NETWORK["subnetIds"],
                    security_group_ids=NETWORK["securityGroupIds"],
                    region=REGION,
                    account_id=ACCOUNT,
                ),
                alarm_topic_arn=TOPIC_ARN,
                image_uri=IMAGE_URI,
            ),
        ),
    ),
}


def _asset(value: object) -> str:
    """An asset or archive by its kind and path."""
    return f"{type(value).__name__}({getattr(value, 'path', '')})"


PROFILE = {
    "purpose": "costreview",
    "authMode": "bedrock",
    "maxDepth": 1,
    "statements": [
        {
            "sid": "ReadReports",
            "actions": ["s3:GetObject"],
            "resources": ["arn:aws:s3:::va-dev-reports-bucket/*"],
        }
    ],
}


def _agent_args() -> va.VaAgentArgs:
    return va.VaAgentArgs(
        profile=va.AgentProfile.model_validate(PROFILE),
        function=va.AgentFunctionArgs(
            context=CTX,
            image_uri=IMAGE_URI,
            networking=_networking(),
            alarm_topic_arn=TOPIC_ARN,
            region=REGION,
            account_id=ACCOUNT,
            architecture="arm64",
        ),
    )


AGENT_INPUTS = {
    "context": CONTEXT,
    "profile": PROFILE,
    "imageUri": IMAGE_URI,
    "networking": NETWORK,
    "alarmTopicArn": TOPIC_ARN,
    "region": REGION,
    "accountId": ACCOUNT,
    "architecture": "arm64",
}
CASES["VaAgent"] = ("va:agent:VaAgent", AGENT_INPUTS, lambda _: (va.VaAgent, _agent_args()))


def _tree(resources: list[Recorded]) -> list[tuple[str, str, str, bool, str]]:
    """Each child's parent's type, type and name, whether it is a custom resource, and its
    inputs as JSON. (The SDK's mock monitor puts only the parent's type in a URN, the engine
    every ancestor's: the parent's type is what both say.)"""
    return sorted(
        (
            r.parent_type,
            r.type,
            r.name,
            r.custom,
            json.dumps(r.inputs, sort_keys=True, default=_asset),
        )
        for r in resources
        if r.parent_type not in ("", "pulumi:pulumi:Stack")  # the component: the stack's child
    )


@pytest.mark.parametrize("case", list(CASES))
def test_construct_makes_the_children_the_python_api_makes(provider, zip_path, case):
    token, inputs, python = CASES[case]
    inputs = inputs(zip_path) if callable(inputs) else inputs
    made = provider.construct(token, "it", inputs)
    cls, args = python(zip_path)
    run = run_under_mocks(lambda: cls("it", args))
    assert run.error is None
    assert _tree(made.children) == _tree(run.resources)


def test_construct_returns_the_component_under_its_python_type_token(provider):
    made = provider.construct("va:data:VaTable", "core", {"context": CONTEXT, "purpose": "core"})
    assert made.urn == "urn:pulumi:dev::va-platform::va:data:VaTable::core"


def test_construct_returns_the_declared_outputs(provider, zip_path):
    made = provider.construct("va:lambda:VaLambda", "fn", _lambda_inputs(zip_path))
    assert made.state["functionName"] == "va-dev-reports-lambda"
    assert made.state["logGroupName"] == "/aws/lambda/va-dev-reports-lambda"
    assert made.state["roleArn"].endswith(":role/va-dev-reports-lambda-role")


def test_lambda_policy_through_the_provider_grants_the_python_statements(provider, zip_path):
    made = provider.construct("va:lambda:VaLambda", "fn", _lambda_inputs(zip_path))
    policy = next(c for c in made.children if c.type == "aws:iam/rolePolicy:RolePolicy")
    sids = {st["Sid"] for st in json.loads(policy.inputs["policy"])["Statement"]}
    assert {"ReadOwnSecrets", "TableAccess", "ReadShared", "ReadTriggerQueues"} <= sids


def _refused(provider, token: str, inputs: dict[str, Any]) -> str:
    with pytest.raises(grpc.RpcError) as caught:
        provider.construct(token, "bad", inputs)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    return refusal(caught.value)


def _one_clear_line(message: str) -> None:
    assert "\n" not in message
    assert "Traceback" not in message
    assert ".py" not in message


def test_environment_outside_the_enum_is_one_line_with_the_allowed_values(provider):
    message = _refused(provider, "va:data:VaTable",
                       {"context": {**CONTEXT, "environment": "staging"}, "purpose": "core"})  # fmt: skip
    _one_clear_line(message)
    assert message.startswith("context.environment: ")
    assert message.endswith("allowed: dev, test, prod")


def test_runtime_outside_the_enum_is_one_line_naming_it(provider, zip_path):
    inputs = _lambda_inputs(zip_path)
    inputs["spec"] = {**SPEC, "runtime": "python2.7"}
    message = _refused(provider, "va:lambda:VaLambda", inputs)
    _one_clear_line(message)
    assert message.startswith("spec.runtime: ")


def test_missing_required_input_is_one_line_naming_it(provider, zip_path):
    inputs = _lambda_inputs(zip_path)
    del inputs["alarmTopicArn"]
    message = _refused(provider, "va:lambda:VaLambda", inputs)
    _one_clear_line(message)
    assert "alarmTopicArn" in message


def test_alarm_topic_that_is_no_sns_arn_is_the_python_message_in_one_line(provider, zip_path):
    inputs = {**_lambda_inputs(zip_path), "alarmTopicArn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:q"}
    message = _refused(provider, "va:lambda:VaLambda", inputs)
    _one_clear_line(message)
    assert "alarm_topic_arn" in message
    assert "is not an SNS topic ARN" in message


def test_spec_value_out_of_bounds_is_one_line_naming_the_field(provider, zip_path):
    inputs = _lambda_inputs(zip_path)
    inputs["spec"] = {**SPEC, "memory": 64}
    message = _refused(provider, "va:lambda:VaLambda", inputs)
    _one_clear_line(message)
    assert message.startswith("spec.memory: ")
    assert "128-10240 MB" in message


def test_secret_leaf_off_the_convention_is_one_line(provider):
    message = _refused(provider, "va:secret:VaSecret",
                       {"context": CONTEXT, "leaf": "Not A Leaf"})  # fmt: skip
    _one_clear_line(message)
    assert "Not A Leaf" in message


def test_zip_package_that_is_no_zip_is_one_line(provider, zip_path):
    inputs = {**_lambda_inputs(zip_path), "package": archive("/nonexistent/code.tar")}
    message = _refused(provider, "va:lambda:VaLambda", inputs)
    _one_clear_line(message)
    assert message.startswith("package: ")


def test_construct_takes_network_and_topic_not_known_yet_as_in_a_first_preview(provider, zip_path):
    network = "urn:pulumi:dev::va-platform::va:network:VaNetwork::network"
    inputs = _lambda_inputs(zip_path)
    inputs["networking"] = {
        **NETWORK,
        "vpcId": unknown(network),
        "subnetIds": [unknown(network), unknown(network)],
        "securityGroupIds": [unknown(network)],
    }
    inputs["alarmTopicArn"] = unknown("urn:pulumi:dev::va-platform::va:alarms:VaAlarmTopic::a")
    made = provider.construct("va:lambda:VaLambda", "fn", inputs, preview=True)
    function = next(c for c in made.children if c.type == "aws:lambda/function:Function")
    assert function.inputs["name"] == "va-dev-reports-lambda"


def test_agent_in_api_key_mode_without_the_key_secret_is_one_line(provider):
    inputs = {**AGENT_INPUTS, "profile": {**PROFILE, "authMode": "api-key"}}
    message = _refused(provider, "va:agent:VaAgent", inputs)
    _one_clear_line(message)
    assert "anthropic-api-key" in message
