"""Found by another team trying the library from outside the repository (review rev20c), with
three programs of its own: an HTTP API in another stack's network reading the existing secret
``billing/stripe-key``, an S3-triggered processor on its own bucket writing to its own table,
and a nightly job encrypted with another stack's KMS key. Each test is written as that team's
code; an xfail says what is wrong today and what a user expects."""

from __future__ import annotations

import json
from fnmatch import fnmatchcase
from functools import cache

import pulumi
import pytest

from tests.iam_eval import Request, allows
from tests.paths import PROJECT_ROOT
from tests.support import NETWORKING, TOPIC_ARN, one, policy_statements, spec
from va_platform import standard
from va_platform.components import (
    BucketTarget,
    BucketTrigger,
    EgressRule,
    ExistingSecret,
    FunctionSpec,
    HttpTrigger,
    LambdaNetworking,
    ScheduleTrigger,
    SecretRef,
    StatementSpec,
    VaAlarmTopic,
    VaAlarmTopicArgs,
    VaBucket,
    VaBucketArgs,
    VaBucketNotifications,
    VaBucketNotificationsArgs,
    VaContext,
    VaKey,
    VaKeyArgs,
    VaLambda,
    VaLambdaArgs,
    VaNetwork,
    VaNetworkArgs,
    VaSecret,
    VaSecretArgs,
    VaTable,
    VaTableArgs,
    ZipCode,
)
from va_platform.packaging import build_zip
from va_platform.preflight.mocks import ACCOUNT, REGION
from va_platform.preflight.runner import run_program, run_under_mocks

TEAM = VaContext(
    environment="dev",
    owner="payments-team",
    permissions_boundary=standard.boundary_arn("dev", ACCOUNT),
)
STRIPE_KEY = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"  # what a user pastes in the wrong field
KEYS = "acme/keys/dev"
NETWORK = "acme/network/dev"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"
REFERENCES = {
    KEYS: {"reportsKeyArn": KEY_ARN},
    NETWORK: {
        "vpcId": "vpc-0a1b2c3d4e5f60718",
        "privateSubnetIds": ["subnet-0a1b2c3d4e5f60718", "subnet-1a1b2c3d4e5f60718"],
        "lambdaSecurityGroupId": "sg-0a1b2c3d4e5f60718",
        "alarmTopicArn": f"arn:aws:sns:{REGION}:{ACCOUNT}:payments-dev-alarms",
    },
}


def lambda_args(artifact, **fields) -> VaLambdaArgs:
    return VaLambdaArgs(
        **{
            "context": TEAM,
            "spec": spec(),
            "networking": NETWORKING,
            "alarm_topic_arn": TOPIC_ARN,
            "package": artifact,
            **fields,
        }
    )


def function_of(run) -> dict:
    assert run.error is None, run.error
    return one(run, "aws:lambda/function:Function")


# --- what works: the three programs, as the team wrote them ---------------------------------


def test_an_http_api_in_another_stacks_network_reading_an_existing_secret(artifact) -> None:
    made: dict[str, VaLambda] = {}

    def program() -> None:
        net = pulumi.StackReference(NETWORK)
        subnets = net.get_output("privateSubnetIds")
        payments = FunctionSpec(
            purpose="payments",
            code=ZipCode(path="handler"),
            existing_secrets=[ExistingSecret(env="STRIPE_SECRET_ARN", name="billing/stripe-key")],
            triggers=[
                HttpTrigger(kind="http", via="api", routes=["POST /charges", "GET /charges/{id}"])
            ],
        )
        made["fn"] = VaLambda("payments", VaLambdaArgs(
            context=TEAM, spec=payments, package=artifact,
            networking=LambdaNetworking.from_ids(
                vpc_id=net.get_output("vpcId"), subnet_ids=[subnets[0], subnets[1]],
                security_group_ids=[net.get_output("lambdaSecurityGroupId")],
                region=REGION, account_id=ACCOUNT),
            alarm_topic_arn=net.get_output("alarmTopicArn"),
        ))  # fmt: skip

    run = run_under_mocks(program, stack_references=REFERENCES)
    fn = function_of(run)
    secret = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:billing/stripe-key"
    assert fn["environment"]["variables"]["STRIPE_SECRET_ARN"] == secret
    assert policy_statements(run)["ReadExistingSecrets"]["Resource"] == f"{secret}-??????"
    routes = {r.inputs["routeKey"]: r.inputs for r in run.of_type("aws:apigatewayv2/route:Route")}
    assert set(routes) == {"POST /charges", "GET /charges/{id}"}
    assert {r["authorizationType"] for r in routes.values()} == {"AWS_IAM"}
    assert len(run.of_type("aws:lambda/permission:Permission")) == 2
    assert made["fn"].http_api is not None  # where the API (and its endpoint) is found


def test_an_s3_processor_on_its_own_bucket_writing_to_its_own_table(artifact) -> None:
    """The docs' snippet (development.md), BucketTarget positional, on a VaBucket of the
    program, with the table and the bucket's objects it works on."""

    def program() -> None:
        uploads = VaBucket("uploads", VaBucketArgs(context=TEAM, purpose="uploads"))
        table = VaTable("records", VaTableArgs(context=TEAM, purpose="records", hash_key="id",
                                               range_key=None))  # fmt: skip
        ingest = FunctionSpec(
            purpose="ingest",
            code=ZipCode(path="processor"),
            table_actions=["dynamodb:PutItem"],
            bucket_actions=["s3:GetObject"],
            triggers=[
                BucketTrigger(kind="bucket", bucket="uploads", prefix="incoming/", suffix=".csv")
            ],
        )
        fn = VaLambda("ingest", lambda_args(artifact, spec=ingest, table=table.ref(),
                                            bucket=uploads.ref(),
                                            bucket_arns={"uploads": uploads.arn}))  # fmt: skip
        VaBucketNotifications("uploads-notifications", VaBucketNotificationsArgs(
            context=TEAM, bucket=uploads,
            targets=[BucketTarget("ingest", fn.invoke_arn, t, fn.bucket_permissions["uploads"])
                     for t in ingest.triggers],
        ))  # fmt: skip

    run = run_under_mocks(program)
    fn = function_of(run)
    assert set(fn["environment"]["variables"]) >= {"DYNAMODB_TABLE", "S3_BUCKET"}
    (table,) = run.of_type("aws:dynamodb/table:Table")
    assert (table.inputs["hashKey"], table.inputs.get("rangeKey")) == ("id", None)
    statements = policy_statements(run)
    assert statements["TableAccess"]["Action"] == ["dynamodb:PutItem"]
    assert statements["BucketObjects"]["Resource"].endswith("va-dev-uploads-bucket/*")
    (sent,) = one(run, "aws:s3/bucketNotification:BucketNotification")["lambdaFunctions"]
    assert (sent["filterPrefix"], sent["filterSuffix"]) == ("incoming/", ".csv")
    permission = one(run, "aws:lambda/permission:Permission")
    assert permission["sourceArn"].endswith(":va-dev-uploads-bucket")
    assert permission["sourceAccount"] == ACCOUNT


def test_a_nightly_job_runs_in_its_time_zone_encrypted_with_another_stacks_key(artifact) -> None:
    def program() -> None:
        key = pulumi.StackReference(KEYS).get_output("reportsKeyArn")
        nightly = FunctionSpec(
            purpose="nightly",
            code=ZipCode(path="job"),
            timeout=300,
            log_retention_days=90,
            triggers=[
                ScheduleTrigger(
                    kind="schedule", expression="cron(0 2 * * ? *)", timezone="Europe/Berlin"
                )
            ],
        )
        VaLambda("nightly", lambda_args(artifact, spec=nightly, kms_key_arn=key))

    run = run_under_mocks(program, stack_references=REFERENCES)
    fn = function_of(run)
    assert fn["kmsKeyArn"] == KEY_ARN
    logs = one(run, "aws:cloudwatch/logGroup:LogGroup")
    assert (logs["kmsKeyId"], logs["retentionInDays"]) == (KEY_ARN, 90)
    schedule = one(run, "aws:scheduler/schedule:Schedule")
    assert schedule["scheduleExpression"] == "cron(0 2 * * ? *)"
    assert schedule["scheduleExpressionTimezone"] == "Europe/Berlin"
    roles = {r.inputs["name"]: r.inputs for r in run.of_type("aws:iam/role:Role")}
    assert {r.get("permissionsBoundary") for r in roles.values()} == {
        standard.boundary_arn("dev", ACCOUNT)
    }
    assert "va-dev-nightly-schedule-role" in roles


@pytest.mark.parametrize(
    ("trigger", "field"),
    [({"via": "url", "routes": ["GET /a"]}, "routes"),
     ({"via": "url", "jwt": {"issuer": "https://idp.example", "audiences": ["a"]}}, "jwt"),
     ({"via": "url", "throttleRate": 5}, "throttleRate"),
     ({"via": "api", "routes": ["/charges"]}, "route '/charges'")],
    ids=["routes-on-url", "jwt-on-url", "throttle-on-url", "route-without-method"],
)  # fmt: skip
def test_an_http_setting_that_cannot_apply_is_one_line_naming_it(trigger, field) -> None:
    with pytest.raises(pulumi.RunError) as raised:
        HttpTrigger(kind="http", **trigger)
    assert field in str(raised.value)
    assert "\n" not in str(raised.value)


# --- findings ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields", [{"architecture": "arm64"}, {"runtime": "python3.12"}], ids=["arch", "runtime"]
)
def test_a_package_built_for_another_architecture_or_runtime_is_refused(artifact, fields) -> None:
    # artifact: build_zip(..., runtime="python3.11"), architecture x86_64 (the default)
    with pytest.raises(pulumi.RunError, match="|".join(fields)) as raised:
        lambda_args(artifact, spec=spec(**fields))
    assert "\n" not in str(raised.value)


def test_layers_by_purpose_without_their_arns_are_one_clear_error(artifact) -> None:
    run = run_under_mocks(lambda: VaLambda("fn", lambda_args(artifact, spec=spec(layers=["deps"]))))
    assert run.error is not None, one(run, "aws:lambda/function:Function").get("layers")
    assert isinstance(run.error, pulumi.RunError)
    assert "layer_arns" in str(run.error)


@pytest.mark.parametrize(
    "build",
    [lambda: ExistingSecret(env="STRIPE_SECRET_ARN", arn=STRIPE_KEY),
     lambda: ExistingSecret(env="STRIPE_SECRET_ARN", name="billing/stripe-key",
                            kms_key_arn=STRIPE_KEY),
     lambda: SecretRef(name=STRIPE_KEY),
     lambda: spec(destinations={"onFailure": STRIPE_KEY}),
     lambda: StatementSpec(sid="ReadJobs", actions=["sqs:ReceiveMessage"],
                           resources=[STRIPE_KEY])],
    ids=["existing-secret-arn", "existing-secret-key", "secret-ref", "destination", "statement"],
)  # fmt: skip
def test_a_credential_given_where_an_arn_goes_is_refused_without_echoing_it(build) -> None:
    with pytest.raises(pulumi.RunError) as raised:
        build()
    assert STRIPE_KEY[-12:] not in str(raised.value)


PLATFORM_NAMES = {"alias/va-dev-lambda-key", "alias/va-dev-alarms-key", "va-dev-alarms-topic",
                  "va-dev-core-vpc"}  # fmt: skip


def names_made(build) -> set[str]:
    run = run_under_mocks(build)
    assert run.error is None, run.error
    found = set()
    for r in run.resources:
        found.add(r.inputs.get("name"))
        found.add((r.inputs.get("tags") or {}).get("Name"))
    return found


@pytest.mark.parametrize(
    "build",
    [lambda: VaKey("key", VaKeyArgs(context=TEAM, region=REGION, account_id=ACCOUNT)),
     lambda: VaAlarmTopic("alarms", VaAlarmTopicArgs(context=TEAM)),
     lambda: VaNetwork("network", VaNetworkArgs(context=TEAM, region=REGION,
                                                vpc_cidr="10.60.0.0/16",
                                                availability_zones=("eu-central-1a",
                                                                    "eu-central-1b")))],
    ids=["key", "alarm-topic", "network"],
)  # fmt: skip
def test_a_teams_defaults_do_not_name_the_platform_stacks_resources(build) -> None:
    refused, made = None, set()
    try:
        made = names_made(build)
    except (TypeError, ValueError) as error:  # purpose made required: fine
        refused = str(error)
    assert refused is None or "purpose" in refused
    assert not made & PLATFORM_NAMES, made & PLATFORM_NAMES


def test_a_teams_secret_is_not_tagged_with_the_platform_stacks_purpose() -> None:
    run = run_under_mocks(lambda: VaSecret("stripe", VaSecretArgs(context=TEAM, leaf="stripe-key")))
    assert run.error is None, run.error
    assert one(run, "aws:secretsmanager/secret:Secret")["tags"]["Purpose"] != "core"


def test_a_bucket_trigger_without_its_bucket_says_which_field_to_set(artifact) -> None:
    try:
        trigger = BucketTrigger(kind="bucket", prefix="incoming/")
    except pulumi.RunError as error:  # bucket made required: fine
        refused = str(error)
    else:
        with pytest.raises(pulumi.RunError) as raised:
            lambda_args(
                artifact,
                spec=spec(triggers=[trigger]),
                bucket_arns={"uploads": "arn:aws:s3:::acme-uploads"},
            )
        refused = str(raised.value)
    assert "BucketTrigger.bucket" in refused or "default" in refused


@pytest.mark.parametrize(
    "build",
    [lambda: VaTable("t", VaTableArgs(context=TEAM, purpose="Orders")),
     lambda: VaBucket("b", VaBucketArgs(context=TEAM, purpose="Uploads"))],
    ids=["table", "bucket"],
)  # fmt: skip
def test_a_bad_table_or_bucket_purpose_is_a_run_error_naming_the_field(build) -> None:
    error = run_under_mocks(build).error
    assert isinstance(error, pulumi.RunError), repr(error)
    assert "Args.purpose" in str(error)


def test_a_package_path_that_does_not_exist_is_a_run_error(tmp_path) -> None:
    with pytest.raises(pulumi.RunError, match="handlr"):
        build_zip(tmp_path / "handlr", runtime="python3.11", cache_dir=tmp_path / "build")


def test_the_reference_lists_the_attributes_the_triggers_add() -> None:
    reference = (PROJECT_ROOT / "docs/library.md").read_text()
    section = reference.split("### VaLambda\n", 1)[1].split("\n### ", 1)[0]
    (attributes,) = [line for line in section.splitlines() if line.startswith("Attributes:")]
    for name in ("bucket_permissions", "http_api", "function_url", "schedules", "work_queue"):
        assert f"`{name}`" in attributes, name


@pytest.mark.parametrize(
    "fields",
    [{"expression": "cron(0 2 * * * *)"}, {"expression": "rate(0 minutes)"},
     {"expression": "cron(0 25 * * ? *)"},
     {"expression": "cron(0 2 * * ? *)", "timezone": "Europe/Berln"}],
    ids=["both-day-fields", "rate-zero", "hour-25", "time-zone-typo"],
)  # fmt: skip
def test_a_schedule_eventbridge_refuses_is_one_clear_error(fields) -> None:
    with pytest.raises(pulumi.RunError) as raised:
        ScheduleTrigger(kind="schedule", **fields)
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize(
    "env",
    [{"STRIPE_KEY": STRIPE_KEY}, {"AWS_REGION": "eu-central-1"}],
    ids=["credential", "reserved"],
)
def test_extra_env_is_checked_as_the_specs_env_is(artifact, env) -> None:
    with pytest.raises(pulumi.RunError, match="extra_env") as raised:
        lambda_args(artifact, extra_env=env)
    assert STRIPE_KEY[-12:] not in str(raised.value)


def test_a_key_alias_as_the_args_key_names_kms_key_arn(artifact) -> None:
    alias = f"arn:aws:kms:{REGION}:{ACCOUNT}:alias/payments"
    run = run_under_mocks(lambda: VaLambda("fn", lambda_args(artifact, kms_key_arn=alias)))
    assert isinstance(run.error, pulumi.RunError), repr(run.error)
    assert "kms_key_arn" in str(run.error)


def test_a_layer_arn_literal_of_the_args_is_checked(artifact) -> None:
    with pytest.raises(pulumi.RunError, match="layer"):
        lambda_args(artifact, layer_arns=["deps"])


@pytest.mark.parametrize(
    "fields", [{"region": "us-east-1"}, {"account_id": "12345"}], ids=["region", "account"]
)
def test_a_key_for_another_region_or_no_account_is_refused(fields) -> None:
    with pytest.raises(pulumi.RunError, match="|".join(fields)):
        VaKeyArgs(**{"context": TEAM, "region": REGION, "account_id": ACCOUNT,
                     "purpose": "payments", **fields})  # fmt: skip


@pytest.mark.parametrize(
    ("fields", "named"),
    [({"availability_zones": ("eu-west-1a", "eu-west-1b")}, "availability_zones"),
     ({"vpc_cidr": "10.60.0.0/28"}, "vpc_cidr"),
     ({"vpc_cidr": "10.60.0.0/33"}, "vpc_cidr")],
    ids=["zones-of-another-region", "too-small", "bad-netmask"],
)  # fmt: skip
def test_a_network_that_cannot_exist_is_one_line_naming_the_field(fields, named) -> None:
    with pytest.raises(pulumi.RunError, match=named):
        VaNetworkArgs(**{"context": TEAM, "region": REGION, "vpc_cidr": "10.60.0.0/16",
                         "availability_zones": ("eu-central-1a", "eu-central-1b"),
                         "purpose": "payments", **fields})  # fmt: skip


@pytest.mark.parametrize(
    "keys", [{"hash_key": "id", "range_key": "id"}, {"hash_key": ""}], ids=["same", "empty"]
)
def test_table_keys_dynamodb_refuses_are_one_clear_error(keys) -> None:
    with pytest.raises(pulumi.RunError, match="key"):
        VaTableArgs(context=TEAM, purpose="records", **keys)


def test_cors_settings_without_origins_are_not_silently_dropped() -> None:
    with pytest.raises(pulumi.RunError, match="allowOrigins"):
        HttpTrigger(kind="http", via="api", routes=["GET /charges"], allow_methods=["GET"],
                    max_age_s=600)  # fmt: skip


@cache
def platform_dev():
    """This repository's dev stack: the platform whose boundary and names a team shares."""
    run = run_program("dev")
    assert run.error is None, run.error
    return run


def test_the_names_the_defaults_collide_with_are_the_platform_stacks_own() -> None:
    """Keeps PLATFORM_NAMES honest: this repository's dev stack deploys each of them."""
    run = platform_dev()
    names = set()
    for r in run.resources:
        names.add(r.inputs.get("name"))
        names.add((r.inputs.get("tags") or {}).get("Name"))
    assert names >= PLATFORM_NAMES, PLATFORM_NAMES - names


@pytest.mark.parametrize(
    "build",
    [lambda: VaContext(environment="dev", owner="payments-team\n"),
     lambda: spec(purpose="payments\n"),
     lambda: ExistingSecret(env="STRIPE_SECRET_ARN", name="billing/stripe-key\n"),
     lambda: ExistingSecret(env="STRIPE_SECRET_ARN\n", name="billing/stripe-key"),
     lambda: SecretRef(name="stripe-key\n"),
     lambda: HttpTrigger(kind="http", via="api", routes=["GET /charges\n"]),
     lambda: ScheduleTrigger(kind="schedule", expression="rate(5 minutes)\n"),
     lambda: BucketTrigger(kind="bucket", bucket="uploads", prefix="incoming/\n"),
     lambda: EgressRule(security_group_id="sg-0123456789abcdef0", port=5432,
                        description="orders db\n")],
    ids=["owner", "purpose", "secret-name", "secret-env", "secret-ref", "route", "schedule",
         "prefix", "egress-description"],
)  # fmt: skip
def test_a_value_with_a_trailing_newline_is_refused_in_one_line(build) -> None:
    with pytest.raises(pulumi.RunError):
        build()


def test_an_existing_secret_of_the_team_is_readable_under_the_environments_boundary(
    artifact,
) -> None:
    """An outside team's function carries va-dev-workload-boundary, as the examples say, and
    reads its existing secret billing/stripe-key (examples/shared-vpc-function's case). The
    boundary (the platform's) reads a secret outside va/dev/* by its tags: the team tags the
    secret Environment=dev and Owner=<its owner>, which the role carries (VaContext), and the
    role's policy and the boundary together allow the read, as AWS decides it (tests/iam_eval.py:
    conditions, policy variables, the boundary). Untagged, it stays refused (the warning below)."""
    stripe = ExistingSecret(env="STRIPE_SECRET_ARN", name="billing/stripe-key")
    run = run_under_mocks(
        lambda: VaLambda("payments", lambda_args(artifact, spec=spec(existingSecrets=[stripe])))
    )
    assert run.error is None, run.error
    granted = policy_statements(run)["ReadExistingSecrets"]
    secret = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:billing/stripe-key-AbCdEf"
    assert fnmatchcase(secret, granted["Resource"])  # the role's own grant matches it
    (boundary,) = [
        r
        for r in platform_dev().of_type("aws:iam/policy:Policy")
        if r.inputs["name"] == standard.boundary_name("dev")
    ]
    role = one(run, "aws:iam/role:Role")
    assert role["permissionsBoundary"] == standard.boundary_arn("dev", ACCOUNT)
    owner = role["tags"]["Owner"]
    assert owner == TEAM.owner
    role_policy = json.loads(one(run, "aws:iam/rolePolicy:RolePolicy")["policy"])
    read = Request(
        "secretsmanager:GetSecretValue",
        secret,
        (
            ("aws:ResourceTag/Environment", "dev"),
            ("aws:ResourceTag/Owner", owner),
            ("aws:PrincipalTag/Owner", owner),
        ),
    )
    assert allows(role_policy, read, boundary=json.loads(boundary.inputs["policy"]))
    untagged = Request(read.action, read.arn, (("aws:PrincipalTag/Owner", owner),))
    assert not allows(role_policy, untagged, boundary=json.loads(boundary.inputs["policy"]))


def test_an_existing_secret_outside_the_boundary_is_said_in_one_line_at_preview(artifact) -> None:
    """The library says it: one warning naming the secret, the boundary, the tags it needs
    (Environment=<env>, Owner=<owner>) and where the docs say what to do."""
    stripe = ExistingSecret(env="STRIPE_SECRET_ARN", name="billing/stripe-key")
    inside = ExistingSecret(env="OWN_SECRET_ARN", name="va/dev/stripe-key")
    run = run_under_mocks(
        lambda: VaLambda(
            "payments", lambda_args(artifact, spec=spec(existingSecrets=[stripe, inside]))
        )
    )
    assert run.error is None, run.error
    (warning,) = [line for line in run.logs if "workload boundary" in line]
    assert "billing/stripe-key" in warning
    assert "va/dev/stripe-key" not in warning
    assert standard.boundary_name("dev") in warning
    assert "Environment=dev" in warning
    assert f"Owner={TEAM.owner}" in warning
    assert "\n" not in warning
