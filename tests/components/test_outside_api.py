"""The library as a program that is not ours uses it: every argument that names an existing
resource takes an Output of the same program or a StackReference output, and a setting that
needs an argument the caller did not give is one clear error at construction."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws
import pytest

from tests.iam_eval import Request, allows
from tests.support import (
    CTX,
    NETWORKING,
    SECRET_ARN,
    TOPIC_ARN,
    build_lambda,
    one,
    policy_statements,
    spec,
)
from va_platform.components import (
    BucketRef,
    BucketTarget,
    LambdaNetworking,
    TableRef,
    VaAlarmTopic,
    VaAlarmTopicArgs,
    VaBucketNotifications,
    VaBucketNotificationsArgs,
    VaLambda,
    VaLambdaArgs,
    VaTable,
    VaTableArgs,
    declared_statements,
    workload_boundary,
)
from va_platform.preflight.runner import Run, run_under_mocks

OTHER = "acme/shared/dev"
QUEUE_ARN = "arn:aws:sqs:eu-central-1:123456789012:acme-orders"
TOPIC = "arn:aws:sns:eu-central-1:123456789012:acme-events"
KEY_ARN = "arn:aws:kms:eu-central-1:123456789012:key/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"
REFERENCES = {
    OTHER: {"queueArn": QUEUE_ARN, "topicArn": TOPIC, "keyArn": KEY_ARN,
            "vpcId": "vpc-0123", "subnetIds": ["subnet-0aaa", "subnet-0bbb"], "sgId": "sg-0ccc",
            "mediaBucketArn": "arn:aws:s3:::acme-media", "mediaBucketName": "acme-media"}
}  # fmt: skip


def from_other_stack(name: str) -> pulumi.Output[Any]:
    return pulumi.StackReference(OTHER).get_output(name)


def run_function(artifact: Any, spec_fields: Any, **arg_fields: Any) -> Run:
    """A VaLambda whose spec is built inside the run (Outputs exist only there)."""

    def program() -> None:
        fields = spec_fields() if callable(spec_fields) else spec_fields
        args = {"context": CTX, "spec": spec(**fields), "networking": NETWORKING,
                "alarm_topic_arn": TOPIC_ARN, "package": artifact}  # fmt: skip
        extra = arg_fields.get("extra", lambda: {})()
        VaLambda("fn", VaLambdaArgs(**{**args, **extra}))

    return run_under_mocks(program, stack_references=REFERENCES)


def queue_of_same_program() -> pulumi.Output[str]:
    return aws.sqs.Queue("orders", name="va-dev-orders-queue").arn


@pytest.mark.parametrize("source", [queue_of_same_program, lambda: from_other_stack("queueArn")],
                         ids=["output", "stack-reference"])  # fmt: skip
def test_queue_trigger_takes_a_queue_arn_from(artifact, source) -> None:
    run = run_function(artifact, lambda: {"triggers": [{"kind": "queue", "queueArn": source()}]})
    assert run.error is None, run.error
    mapping = one(run, "aws:lambda/eventSourceMapping:EventSourceMapping")
    assert mapping["eventSourceArn"] in (
        QUEUE_ARN,
        "arn:aws:sqs:eu-central-1:123456789012:va-dev-orders-queue",
    )
    assert policy_statements(run)["ReadTriggerQueues"]["Resource"] == mapping["eventSourceArn"]


def test_destination_from_a_stack_reference_gets_its_service_action(artifact) -> None:
    run = run_function(
        artifact, lambda: {"destinations": {"onFailure": from_other_stack("topicArn")}}
    )
    assert run.error is None, run.error
    assert policy_statements(run)["DeliverOnFailure"] == {
        "Sid": "DeliverOnFailure",
        "Effect": "Allow",
        "Action": ["sns:Publish"],
        "Resource": TOPIC,
    }


def test_kms_key_from_a_stack_reference_encrypts_the_function(artifact) -> None:
    run = run_function(artifact, lambda: {"kmsKeyArn": from_other_stack("keyArn")})
    assert run.error is None, run.error
    assert one(run, "aws:lambda/function:Function")["kmsKeyArn"] == KEY_ARN


def key_of_same_program() -> pulumi.Output[str]:
    return aws.kms.Key("billing-key", description="billing secrets").arn


def topic_of_same_program() -> pulumi.Output[str]:
    return VaAlarmTopic("alarms", VaAlarmTopicArgs(context=CTX, purpose="alarms")).arn


@pytest.mark.parametrize("topic", [topic_of_same_program, lambda: from_other_stack("topicArn")],
                         ids=["output", "stack-reference"])  # fmt: skip
def test_alarm_topic_of_the_same_program_or_another_stack_gets_every_alarm(artifact, topic):
    run = run_function(artifact, {}, extra=lambda: {"alarm_topic_arn": topic()})
    assert run.error is None, run.error
    alarms = run.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    assert len(alarms) >= 4
    expected = {TOPIC, "arn:aws:sns:eu-central-1:123456789012:va-dev-alarms-topic"}
    for alarm in alarms:
        assert alarm.inputs["alarmActions"] == alarm.inputs["okActions"]
        (action,) = alarm.inputs["alarmActions"]
        assert action in expected


@pytest.mark.parametrize("key", [key_of_same_program, lambda: from_other_stack("keyArn")],
                         ids=["output", "stack-reference"])  # fmt: skip
def test_stack_key_of_the_same_program_or_another_stack_encrypts_and_decrypts(artifact, key):
    """VaLambdaArgs.kms_key_arn (the key the program's other functions share): env vars and
    logs are encrypted with it, and the role may decrypt with exactly it."""
    run = run_function(artifact, {}, extra=lambda: {"kms_key_arn": key()})
    assert run.error is None, run.error
    arn = one(run, "aws:lambda/function:Function")["kmsKeyArn"]
    assert arn.startswith("arn:aws:kms:eu-central-1:123456789012:key/")
    assert one(run, "aws:cloudwatch/logGroup:LogGroup")["kmsKeyId"] == arn
    assert policy_statements(run)["DecryptWithOwnKey"]["Resource"] == arn


def test_statement_resource_from_a_stack_reference_is_granted(artifact) -> None:
    statement = lambda: {"statements": [{"sid": "PublishEvents", "actions": ["sns:Publish"],  # noqa: E731
                                        "resources": [from_other_stack("topicArn")]}]}  # fmt: skip
    run = run_function(artifact, statement)
    assert policy_statements(run)["PublishEvents"]["Resource"] == TOPIC


def test_table_actions_on_a_table_of_the_same_program(artifact) -> None:
    def extra() -> dict[str, Any]:
        return {"table": VaTable("t", VaTableArgs(CTX, "orders")).ref()}

    run = run_function(artifact, {"tableActions": ["dynamodb:PutItem"]}, extra=extra)
    table_arn = "arn:aws:dynamodb:eu-central-1:123456789012:table/va-dev-orders-dynamodb"
    assert policy_statements(run)["TableAccess"]["Resource"] == table_arn
    env = one(run, "aws:lambda/function:Function")["environment"]["variables"]
    assert env["DYNAMODB_TABLE"] == "va-dev-orders-dynamodb"


def test_bucket_actions_on_a_bucket_of_another_stack(artifact) -> None:
    def extra() -> dict[str, Any]:
        return {"bucket": BucketRef(arn="arn:aws:s3:::acme-media", name="acme-media")}

    run = run_function(artifact, {"bucketActions": ["s3:GetObject"]}, extra=extra)
    assert policy_statements(run)["BucketObjects"]["Resource"] == "arn:aws:s3:::acme-media/*"


@pytest.mark.parametrize(
    ("fields", "needs"),
    [({"tableActions": ["dynamodb:PutItem"]}, "VaLambdaArgs.table"),
     ({"bucketActions": ["s3:GetObject"]}, "VaLambdaArgs.bucket")],
    ids=["table", "bucket"],
)  # fmt: skip
def test_data_actions_without_their_resource_are_one_clear_error(artifact, fields, needs) -> None:
    with pytest.raises(ValueError, match=needs) as raised:
        VaLambdaArgs(context=CTX, spec=spec(**fields), networking=NETWORKING,
                     alarm_topic_arn=TOPIC_ARN, package=artifact)  # fmt: skip
    assert "\n" not in str(raised.value)


def network_of_another_stack() -> LambdaNetworking:
    subnets = from_other_stack("subnetIds")
    return LambdaNetworking.from_ids(
        vpc_id=from_other_stack("vpcId"), subnet_ids=[subnets[0], subnets[1]],
        security_group_ids=[from_other_stack("sgId")], region="eu-central-1",
        account_id="123456789012")  # fmt: skip


def network_of_same_program() -> LambdaNetworking:
    """A VPC the program makes itself (not a VaNetwork), by its Outputs' ids; the region and
    account of the program's provider as Outputs too."""
    vpc = aws.ec2.Vpc("vpc", cidr_block="10.9.0.0/16")
    subnets = [
        aws.ec2.Subnet(f"subnet-{i}", vpc_id=vpc.id, cidr_block=f"10.9.{i}.0/24") for i in (1, 2)
    ]
    group = aws.ec2.SecurityGroup("lambda-sg", vpc_id=vpc.id, description="functions")
    return LambdaNetworking.from_ids(
        vpc_id=vpc.id, subnet_ids=[s.id for s in subnets], security_group_ids=[group.id],
        region=aws.get_region_output().region,
        account_id=aws.get_caller_identity_output().account_id)  # fmt: skip


@pytest.mark.parametrize("network", [network_of_same_program, network_of_another_stack],
                         ids=["output", "stack-reference"])  # fmt: skip
def test_network_by_ids_scopes_the_eni_statement(artifact, network) -> None:
    database = {"port": 5432, "securityGroupId": "sg-0123456789abcdef0", "description": "orders"}
    run = run_function(artifact, {"egress": [database]}, extra=lambda: {"networking": network()})
    assert run.error is None, run.error
    vpc = one(run, "aws:lambda/function:Function")["vpcConfig"]
    subnets = vpc["subnetIds"]
    assert len(subnets) == 2
    assert all(s.startswith("subnet-") for s in subnets)
    resources = policy_statements(run)["CreateEniInOwnSubnets"]["Resource"]
    for subnet in subnets:
        assert f"arn:aws:ec2:eu-central-1:123456789012:subnet/{subnet}" in resources
    groups = [r for r in resources if ":security-group/" in r]
    assert len(groups) == 2  # the network's and the function's own (egress)
    (own,) = [g.inputs for g in run.of_type("aws:ec2/securityGroup:SecurityGroup")
              if g.inputs.get("name") == "va-dev-contentgen-lambda-sg"]  # fmt: skip
    vpcs = [v.id for v in run.of_type("aws:ec2/vpc:Vpc")] or ["vpc-0123"]
    assert [own["vpcId"]] == vpcs


def test_unsupplied_stack_reference_is_one_line_in_the_update(artifact) -> None:
    run = run_under_mocks(
        lambda: pulumi.export("x", pulumi.StackReference("acme/none/dev").get_output("y"))
    )
    assert "StackReference 'acme/none/dev'" in str(run.error)
    assert "--stack-references" in str(run.error)


def test_unused_refs_are_accepted(artifact) -> None:
    """A table passed without table actions grants nothing (nothing needs it)."""
    run = build_lambda(
        artifact, table=TableRef(arn="arn:aws:dynamodb:eu-central-1:1:table/x", name="x")
    )
    assert "TableAccess" not in policy_statements(run)


# --- bring your own secret (issue 20 §2): any name or ARN, with decrypt on its key -------------

SECRET = "arn:aws:secretsmanager:eu-central-1:210987654321:secret:billing/stripe-Xy12Ab"
REFERENCES[OTHER] |= {"secretArn": SECRET, "secretName": "billing/stripe",
                      "clientSecretName": "billing/oauth-client"}  # fmt: skip
PARTIAL = "arn:aws:secretsmanager:eu-central-1:123456789012:secret:billing/stripe"
BY_NAME = PARTIAL + "-??????"
VIA_SECRETS_MANAGER = {"StringLike": {"kms:ViaService": "secretsmanager.*.amazonaws.com"}}


def secret_of_same_program() -> pulumi.Output[str]:
    return aws.secretsmanager.Secret("stripe", name="billing/stripe").arn


@pytest.mark.parametrize(
    ("secret", "key"),
    [(secret_of_same_program, key_of_same_program),
     (lambda: from_other_stack("secretArn"), lambda: from_other_stack("keyArn"))],
    ids=["output", "stack-reference"],
)  # fmt: skip
def test_existing_secret_by_arn_is_read_and_decrypted_with_its_key(artifact, secret, key) -> None:
    def fields() -> dict[str, Any]:
        given = {"env": "STRIPE_SECRET_ARN", "arn": secret(), "kmsKeyArn": key()}
        return {"existingSecrets": [given]}

    run = run_function(artifact, fields)
    assert run.error is None, run.error
    arn = one(run, "aws:lambda/function:Function")["environment"]["variables"]["STRIPE_SECRET_ARN"]
    assert arn in (
        SECRET,
        "arn:aws:secretsmanager:eu-central-1:123456789012:secret:billing/stripe-AbCdEf",
    )
    statements = policy_statements(run)
    assert statements["ReadExistingSecrets"] == {
        "Sid": "ReadExistingSecrets",
        "Effect": "Allow",
        "Action": ["secretsmanager:GetSecretValue"],
        "Resource": arn,
    }
    decrypt = statements["DecryptExistingSecrets"]
    assert decrypt["Action"] == ["kms:Decrypt"]
    assert decrypt["Resource"].startswith("arn:aws:kms:eu-central-1:123456789012:key/")
    assert decrypt["Condition"] == VIA_SECRETS_MANAGER


@pytest.mark.parametrize("name", [lambda: "billing/stripe", lambda: from_other_stack("secretName")],
                         ids=["literal", "stack-reference"])  # fmt: skip
def test_existing_secret_by_name_is_granted_with_the_suffix_secrets_manager_appends(
    artifact, name
) -> None:
    """The function gets the partial ARN (GetSecretValue takes it as it takes the name, and
    va-guard's va-lambda reads an ARN in STRIPE_SECRET as a reference, a name as a literal)."""
    fields = lambda: {"existingSecrets": [{"env": "STRIPE_SECRET", "name": name()}]}  # noqa: E731
    run = run_function(artifact, fields)
    assert run.error is None, run.error
    env = one(run, "aws:lambda/function:Function")["environment"]["variables"]
    assert env["STRIPE_SECRET"] == PARTIAL
    assert policy_statements(run)["ReadExistingSecrets"]["Resource"] == BY_NAME


@pytest.mark.parametrize("name", [lambda: "billing/oauth-client",
                                  lambda: from_other_stack("clientSecretName")],
                         ids=["literal", "stack-reference"])  # fmt: skip
def test_a_name_a_partial_arn_cannot_name_reaches_the_function_as_it_is(artifact, name) -> None:
    """A name ending in '-' and six characters would be read as a complete ARN."""
    fields = lambda: {"existingSecrets": [{"env": "OAUTH", "name": name()}]}  # noqa: E731
    run = run_function(artifact, fields)
    assert run.error is None, run.error
    env = one(run, "aws:lambda/function:Function")["environment"]["variables"]
    assert env["OAUTH"] == "billing/oauth-client"
    assert policy_statements(run)["ReadExistingSecrets"]["Resource"] == (
        "arn:aws:secretsmanager:eu-central-1:123456789012:secret:billing/oauth-client-??????"
    )


def test_existing_secret_without_a_key_needs_no_decrypt(artifact) -> None:
    """aws/secretsmanager (the default key) admits every principal of the account through
    Secrets Manager: nothing to grant."""
    run = run_function(artifact, {"existingSecrets": [{"env": "STRIPE", "arn": SECRET}]})
    statements = policy_statements(run)
    assert statements["ReadExistingSecrets"]["Resource"] == SECRET
    assert "DecryptExistingSecrets" not in statements


def test_existing_and_va_secrets_each_get_their_own_statement(artifact) -> None:
    run = build_lambda(
        artifact,
        spec=spec(secrets=["openai-api-key"], existing_secrets=[
            {"env": "STRIPE_SECRET_ARN", "arn": SECRET},
            {"env": "LEDGER_SECRET", "name": "finance/ledger", "kmsKeyArn": KEY_ARN},
        ]),
        secret_arns={"openai-api-key": SECRET_ARN},
    )  # fmt: skip
    statements = policy_statements(run)
    assert statements["ReadOwnSecrets"]["Resource"] == SECRET_ARN
    assert statements["ReadExistingSecrets"]["Resource"] == sorted(
        [SECRET, "arn:aws:secretsmanager:eu-central-1:123456789012:secret:finance/ledger-??????"]
    )
    assert statements["DecryptExistingSecrets"]["Resource"] == KEY_ARN
    env = one(run, "aws:lambda/function:Function")["environment"]["variables"]
    assert (env["STRIPE_SECRET_ARN"], env["LEDGER_SECRET"]) == (
        SECRET,
        "arn:aws:secretsmanager:eu-central-1:123456789012:secret:finance/ledger",
    )


@pytest.mark.parametrize(
    ("given", "says"),
    [({"env": "STRIPE"}, "give the secret's arn or name"),
     ({"env": "STRIPE", "arn": SECRET, "name": "billing/stripe"}, "arn or name, not both"),
     ({"env": "STRIPE", "arn": "billing/stripe"}, "is not a Secrets Manager secret ARN"),
     ({"env": "STRIPE", "arn": PARTIAL}, "is a partial ARN"),
     ({"env": "STRIPE", "name": SECRET}, "is an ARN: give it as arn"),
     ({"env": "STRIPE", "name": "billing stripe"}, "is not a secret name"),
     ({"env": "STRIPE", "arn": SECRET, "kmsKeyArn": "alias/billing"}, "is not a KMS key ARN"),
     ({"env": "AWS_STRIPE", "arn": SECRET}, "env key 'AWS_STRIPE' is not allowed")],
    ids=["neither", "both", "arn", "partial-arn", "name-is-arn", "name", "key", "env"],
)  # fmt: skip
def test_a_wrong_existing_secret_is_one_clear_error(given, says) -> None:
    with pytest.raises(ValueError, match=says) as raised:
        spec(existing_secrets=[given])
    assert "existingSecrets" in str(raised.value) or "ExistingSecret" in str(raised.value)


@pytest.mark.parametrize(
    "fields",
    [{"env": {"STRIPE": "x"}, "existing_secrets": [{"env": "STRIPE", "arn": SECRET}]},
     {"secrets": [{"name": "openai-api-key", "env": "STRIPE"}],
      "existing_secrets": [{"env": "STRIPE", "arn": SECRET}]},
     {"existing_secrets": [{"env": "STRIPE", "arn": SECRET}, {"env": "STRIPE", "name": "b/s"}]}],
    ids=["plain-env", "va-secret", "twice"],
)  # fmt: skip
def test_an_existing_secrets_env_var_is_set_once(fields) -> None:
    with pytest.raises(ValueError, match=r"env STRIPE (is set both|carries two secrets)"):
        spec(**fields)


def test_an_existing_secrets_env_var_clashing_with_extra_env_is_one_clear_error(artifact) -> None:
    with pytest.raises(ValueError, match="env STRIPE given twice") as raised:
        VaLambdaArgs(context=CTX, spec=spec(existing_secrets=[{"env": "STRIPE", "arn": SECRET}]),
                     networking=NETWORKING, alarm_topic_arn=TOPIC_ARN, package=artifact,
                     extra_env={"STRIPE": "x"})  # fmt: skip
    assert "\n" not in str(raised.value)


def test_a_secret_arn_no_secret_of_the_spec_names_is_one_clear_error(artifact) -> None:
    """``secret_arns`` are the ARNs of the spec's VA secrets; one the spec does not list would
    grant nothing and reach no env var: refused, naming both and the way for any other secret."""
    with pytest.raises(ValueError, match="secret_arns") as raised:
        VaLambdaArgs(context=CTX, spec=spec(), networking=NETWORKING, alarm_topic_arn=TOPIC_ARN,
                     package=artifact, secret_arns={"billing/stripe": SECRET})  # fmt: skip
    message = str(raised.value)
    assert "FunctionSpec.secrets" in message
    assert "existing_secrets" in message
    assert "\n" not in message


def test_a_va_secret_without_its_arn_is_one_clear_error_naming_both(artifact) -> None:
    with pytest.raises(ValueError, match=r"VaLambdaArgs\.secret_arns") as raised:
        VaLambdaArgs(context=CTX, spec=spec(secrets=["openai-api-key"]), networking=NETWORKING,
                     alarm_topic_arn=TOPIC_ARN, package=artifact)  # fmt: skip
    assert "openai-api-key" in str(raised.value)


def test_the_existing_secret_sids_are_reserved() -> None:
    with pytest.raises(ValueError, match="ReadExistingSecrets"):
        spec(statements=[{"sid": "ReadExistingSecrets", "actions": ["sns:Publish"],
                          "resources": [TOPIC]}])  # fmt: skip


def test_the_workload_boundary_admits_the_existing_secrets_and_their_keys() -> None:
    """A team's boundary is declared from its specs: without these statements the function's
    role could read no secret outside va/<env>/ and decrypt with no key of another team."""
    fn = spec(existing_secrets=[{"env": "STRIPE", "name": "billing/stripe", "kmsKeyArn": KEY_ARN},
                                {"env": "LEDGER", "arn": SECRET}])  # fmt: skip
    declared = declared_statements([fn], [], "eu-central-1", "123456789012")
    boundary = workload_boundary("dev", "eu-central-1", "123456789012", declared)
    role = {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    stripe = BY_NAME.replace("??????", "Ab12Cd")
    via = (("kms:ViaService", "secretsmanager.eu-central-1.amazonaws.com"),)
    assert allows(role, Request("secretsmanager:GetSecretValue", stripe), boundary=boundary)
    assert allows(role, Request("secretsmanager:GetSecretValue", SECRET), boundary=boundary)
    assert allows(role, Request("kms:Decrypt", KEY_ARN, via), boundary=boundary)
    assert not allows(role, Request("kms:Decrypt", KEY_ARN), boundary=boundary)
    other = BY_NAME.replace("stripe-??????", "payroll-Ab12Cd")
    assert not allows(role, Request("secretsmanager:GetSecretValue", other), boundary=boundary)


# --- a bucket trigger on any bucket: of the same program, or of another stack ---------------------


def bucket_of_same_program() -> BucketRef:
    uploads = aws.s3.Bucket("uploads", bucket="acme-uploads")
    return BucketRef(arn=uploads.arn, name=uploads.bucket)


def bucket_of_other_stack() -> BucketRef:
    return BucketRef(
        arn=from_other_stack("mediaBucketArn"), name=from_other_stack("mediaBucketName")
    )


def run_bucket_trigger(artifact: Any, source: Any) -> Run:
    """A function started by objects created under ``in/`` of the bucket ``source()`` gives
    (which the program calls ``media``), and that bucket's notification."""

    def program() -> None:
        bucket = source()
        fn_spec = spec(triggers=[{"kind": "bucket", "bucket": "media", "prefix": "in/"}])
        fn = VaLambda("fn", VaLambdaArgs(context=CTX, spec=fn_spec, networking=NETWORKING,
                                         alarm_topic_arn=TOPIC_ARN, package=artifact,
                                         bucket_arns={"media": bucket.arn}))  # fmt: skip
        targets = [BucketTarget(fn_spec.purpose, fn.invoke_arn, trigger,
                                fn.bucket_permissions["media"]) for trigger in fn_spec.triggers]  # fmt: skip
        VaBucketNotifications("media-notifications", VaBucketNotificationsArgs(
            context=CTX, bucket=bucket, targets=targets, trigger_name="media"))  # fmt: skip

    return run_under_mocks(program, stack_references=REFERENCES)


BUCKET_SOURCES = pytest.mark.parametrize(
    ("source", "name"),
    [(bucket_of_same_program, "acme-uploads"), (bucket_of_other_stack, "acme-media")],
    ids=["output", "stack-reference"],
)


@BUCKET_SOURCES
def test_a_bucket_trigger_lets_s3_invoke_for_exactly_that_bucket(artifact, source, name) -> None:
    run = run_bucket_trigger(artifact, source)
    assert run.error is None, run.error
    permission = one(run, "aws:lambda/permission:Permission")
    assert (permission["principal"], permission["sourceArn"]) == (
        "s3.amazonaws.com", f"arn:aws:s3:::{name}")  # fmt: skip
    assert permission["sourceAccount"] == "123456789012"


@BUCKET_SOURCES
def test_a_bucket_trigger_notification_is_put_on_that_bucket(artifact, source, name) -> None:
    run = run_bucket_trigger(artifact, source)
    assert run.error is None, run.error
    notification = one(run, "aws:s3/bucketNotification:BucketNotification")
    assert notification["bucket"] == name
    (sent,) = notification["lambdaFunctions"]
    assert sent["lambdaFunctionArn"].endswith(":function:va-dev-contentgen-lambda")
    assert sent["filterPrefix"] == "in/"


def test_a_bucket_trigger_grants_the_role_nothing_on_that_bucket(artifact) -> None:
    """S3 invokes the function through its resource policy: reading the objects is a separate
    grant (bucketActions with VaLambdaArgs.bucket)."""
    run = run_bucket_trigger(artifact, bucket_of_other_stack)
    assert "acme-media" not in one(run, "aws:iam/rolePolicy:RolePolicy")["policy"]


def test_a_bucket_arn_that_is_no_s3_bucket_arn_is_one_line_naming_the_trigger(artifact) -> None:
    trigger = {"kind": "bucket", "bucket": "media"}
    with pytest.raises(ValueError, match="bucket_arns") as raised:
        VaLambdaArgs(context=CTX, spec=spec(triggers=[trigger]), networking=NETWORKING,
                     alarm_topic_arn=TOPIC_ARN, package=artifact,
                     bucket_arns={"media": "arn:aws:s3:::acme-media/in/*"})  # fmt: skip
    assert "\n" not in str(raised.value)


def test_a_notification_on_a_bucket_ref_needs_the_name_its_triggers_give_it() -> None:
    with pytest.raises(ValueError, match="trigger_name") as raised:
        VaBucketNotificationsArgs(context=CTX, bucket=BucketRef(arn="arn:aws:s3:::a", name="a"),
                                  targets=[object()])  # type: ignore[list-item]  # fmt: skip
    assert "\n" not in str(raised.value)
