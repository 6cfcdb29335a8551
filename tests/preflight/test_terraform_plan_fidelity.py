"""Where the stack-as-Terraform-plan conversion loses or distorts what Terraform would show, so
that Checkov passes what the real resource fails (or the reverse).

Found by reading Checkov 3.3.30's aws resource checks against what the conversion produces for
every pulumi-aws resource type: the Terraform type Checkov checks must be the one we write, the
argument names it reads must be the ones we write, and a JSON policy must reach it as JSON.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pulumi
import pulumi_aws as aws
import pytest

from tests.paths import PROJECT_ROOT
from tests.preflight.test_checkov import checkov
from va_platform.preflight import terraform_plan as tf
from va_platform.preflight.mocks import Recorded
from va_platform.preflight.runner import Run, run_under_mocks

ADMIN = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}


def plan_of(build) -> dict:
    run = run_under_mocks(build, config={"aws:region": "eu-central-1"})
    assert run.error is None, run.error
    return tf.plan(run)


def values_of(plan: dict, tf_type: str) -> dict:
    (found,) = [
        r["values"]
        for r in plan["planned_values"]["root_module"]["resources"]
        if r["type"] == tf_type
    ]
    return found


# --- Terraform types: pulumi-aws's bridge-metadata.json "renames" (e.g. aws:apigateway/restApi
# -> aws_api_gateway_rest_api), each a type Checkov 3.3.30 has checks for ---
@pytest.mark.parametrize(
    ("pulumi_type", "terraform_type"),
    [
        ("aws:alb/loadBalancer:LoadBalancer", "aws_alb"),
        ("aws:lb/loadBalancer:LoadBalancer", "aws_lb"),
        ("aws:elb/loadBalancer:LoadBalancer", "aws_elb"),
        ("aws:elb/loadBalancerPolicy:LoadBalancerPolicy", "aws_load_balancer_policy"),
        ("aws:apigateway/restApi:RestApi", "aws_api_gateway_rest_api"),
        ("aws:apigateway/stage:Stage", "aws_api_gateway_stage"),
        ("aws:apigateway/method:Method", "aws_api_gateway_method"),
        ("aws:apigateway/methodSettings:MethodSettings", "aws_api_gateway_method_settings"),
        ("aws:apigateway/deployment:Deployment", "aws_api_gateway_deployment"),
        ("aws:apigateway/domainName:DomainName", "aws_api_gateway_domain_name"),
        ("aws:appsync/graphQLApi:GraphQLApi", "aws_appsync_graphql_api"),
        ("aws:cloudtrail/trail:Trail", "aws_cloudtrail"),
        ("aws:rds/instance:Instance", "aws_db_instance"),
        ("aws:rds/snapshot:Snapshot", "aws_db_snapshot"),
        ("aws:rds/snapshotCopy:SnapshotCopy", "aws_db_snapshot_copy"),
        ("aws:rds/clusterSnapshot:ClusterSnapshot", "aws_db_cluster_snapshot"),
        (
            "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication",
            "aws_db_instance_automated_backups_replication",
        ),
        ("aws:codepipeline/pipeline:Pipeline", "aws_codepipeline"),
        ("aws:cfg/configurationAggregator:ConfigurationAggregator",
         "aws_config_configuration_aggregator"),
        ("aws:ec2transitgateway/transitGateway:TransitGateway", "aws_ec2_transit_gateway"),
        ("aws:elasticbeanstalk/environment:Environment", "aws_elastic_beanstalk_environment"),
        ("aws:fsx/openZfsFileSystem:OpenZfsFileSystem", "aws_fsx_openzfs_file_system"),
        ("aws:bedrock/agentAgent:AgentAgent", "aws_bedrockagent_agent"),
    ],
)  # fmt: skip
def test_pulumi_types_get_the_terraform_type_checkov_checks(pulumi_type, terraform_type):
    assert tf.terraform_type(pulumi_type) == terraform_type


# --- argument names: list blocks pulumi-aws pluralises, read by Checkov checks ---
def cdn_with_an_http_behavior() -> None:
    """A distribution whose ordered cache behavior (Pulumi: ``orderedCacheBehaviors``) allows
    plain HTTP."""
    aws.cloudfront.Distribution(
        "cdn", enabled=True,
        origins=[{"domain_name": "o.example", "origin_id": "o"}],
        default_cache_behavior={
            "target_origin_id": "o", "viewer_protocol_policy": "redirect-to-https",
            "allowed_methods": ["GET", "HEAD"], "cached_methods": ["GET", "HEAD"],
        },
        ordered_cache_behaviors=[{
            "path_pattern": "/api/*", "target_origin_id": "o",
            "viewer_protocol_policy": "allow-all",
            "allowed_methods": ["GET", "HEAD"], "cached_methods": ["GET", "HEAD"],
        }],
        restrictions={"geo_restriction": {"restriction_type": "none"}},
        viewer_certificate={"cloudfront_default_certificate": True},
    )  # fmt: skip


def test_cloudfront_cache_behaviors_get_their_terraform_name():
    values = values_of(plan_of(cdn_with_an_http_behavior), "aws_cloudfront_distribution")
    assert {"ordered_cache_behavior", "origin"} <= set(values)


@pytest.mark.parametrize(
    ("build", "tf_type", "argument"),
    [
        (lambda: aws.lb.Listener("l", load_balancer_arn="arn:lb", port=80, protocol="HTTP",
                                 default_actions=[{"type": "redirect", "redirect": {
                                     "protocol": "HTTPS", "port": "443",
                                     "status_code": "HTTP_301"}}]),
         "aws_lb_listener", "default_action"),
        (lambda: aws.ec2.Instance("i", ami="ami-1", instance_type="t3.micro",
                                  ebs_block_devices=[{"device_name": "/dev/sdb"}]),
         "aws_instance", "ebs_block_device"),
        (lambda: aws.ecs.TaskDefinition("t", family="f", container_definitions="[]",
                                        volumes=[{"name": "v"}]),
         "aws_ecs_task_definition", "volume"),
        (lambda: aws.ecs.Cluster("c", settings=[{"name": "containerInsights",
                                                "value": "enabled"}]),
         "aws_ecs_cluster", "setting"),
        (lambda: aws.iam.OpenIdConnectProvider("p", url="https://x.example",
                                               client_id_lists=["sts.amazonaws.com"]),
         "aws_iam_openid_connect_provider", "client_id_list"),
        (lambda: aws.sns.TopicSubscription("s", topic="arn:aws:sns:eu-central-1:1:t",
                                           protocol="sqs", endpoint="arn:aws:sqs:x"),
         "aws_sns_topic_subscription", "topic_arn"),
    ],
    ids=["lb-listener", "instance", "ecs-task-definition", "ecs-cluster", "oidc-provider",
         "sns-subscription"],
)  # fmt: skip
def test_renamed_arguments_get_their_terraform_names(build, tf_type, argument):
    assert argument in values_of(plan_of(build), tf_type)


def test_checkov_reports_an_ordered_cache_behavior_that_allows_http(tmp_path: Path):
    """CKV_AWS_34 reads ``ordered_cache_behavior``; under Pulumi's name it passed."""

    plans = {"cdn": plan_of(cdn_with_an_http_behavior)}
    failed = {c["check_id"] for c in checkov(plans, tmp_path)["failed"]}
    assert "CKV_AWS_34" in failed


# --- JSON policies given as a document (pulumi-aws's PolicyDocument): Terraform sees JSON ---
def document_plan() -> dict:
    """The role policy as the engine registers it (the document as given); built by hand since
    the mocks themselves fail on a document (below)."""
    urn = "urn:pulumi:dev::p::aws:iam/rolePolicy:RolePolicy::admin"
    policy = Recorded(urn, "aws:iam/rolePolicy:RolePolicy", "admin", "", True,
                      {"role": "r", "policy": ADMIN})  # fmt: skip
    return tf.plan(Run("dev", [policy], {}))


def test_a_policy_given_as_a_document_reaches_terraform_as_json():
    assert json.loads(values_of(document_plan(), "aws_iam_role_policy")["policy"]) == ADMIN


def test_checkov_reports_an_admin_policy_given_as_a_document(tmp_path: Path):
    """pulumi-aws takes ``policy`` as a JSON string or a PolicyDocument; the bridge sends both to
    Terraform as JSON. As a document it was snake-cased ("statement", "action") and Checkov,
    which parses only JSON strings, passed Action * on Resource *."""
    failed = {c["check_id"] for c in checkov({"p": document_plan()}, tmp_path)["failed"]}
    assert {"CKV_AWS_62", "CKV_AWS_355", "CKV2_AWS_40"} <= failed


def test_a_program_passing_a_policy_document_runs_under_the_mocks():
    # In a process of its own: the SDK's failed output futures, left unretrieved, upset the
    # interpreter of the test session (CPython 3.11 "AST constructor recursion depth mismatch").
    script = (
        "import pulumi_aws as aws\n"
        "from va_platform.preflight.runner import run_under_mocks\n"
        f"doc = {ADMIN!r}\n"
        "runs = [run_under_mocks(lambda: aws.iam.RolePolicy('admin', role='r', policy=doc),\n"
        "                        config={'aws:region': 'eu-central-1'}, mode=mode)\n"
        "        for mode in ('preview', 'update')]\n"
        "print('ERROR' if any(run.error for run in runs) else 'OK')\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         cwd=PROJECT_ROOT, timeout=120, check=False)  # fmt: skip
    assert out.stdout.strip().splitlines()[-1:] == ["OK"]


# --- secrets: the mocks lift a secret to the whole argument holding it ---
def test_a_plain_env_var_beside_a_secret_one_stays_visible():
    def build() -> None:
        aws.lambda_.Function(
            "fn", role="arn:aws:iam::123456789012:role/r", image_uri="x", package_type="Image",
            environment={"variables": {"TOKEN": pulumi.Output.secret("s3cr3t-value"),
                                       "PLAIN": "visible"}},
        )  # fmt: skip

    fn = values_of(plan_of(build), "aws_lambda_function")
    assert fn["environment"]["variables"]["PLAIN"] == "visible"


def test_a_secret_in_a_map_argument_is_masked():
    """The mocks wrap a map holding a secret (tags) whole; the map case copied the wrapper, with
    the secret in clear, into the plan file."""

    def build() -> None:
        aws.sqs.Queue("q", tags={"Owner": pulumi.Output.secret("hunter2hunter2")})

    assert "hunter2" not in json.dumps(plan_of(build))
