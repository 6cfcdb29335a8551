"""Computed ARNs in AWS's own formats, from the IAM catalogue's (``preflight/arns.py``), and the
ids and ARNs the mocks give resources once they exist."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws
import pytest

from va_platform import catalogue
from va_platform.preflight.arns import arn_of
from va_platform.preflight.runner import run_under_mocks

A, R = "123456789012", "eu-central-1"


@pytest.mark.parametrize(
    ("type_", "inputs", "name", "expected"),
    [
        ("aws:sqs/queue:Queue", {}, "q", f"arn:aws:sqs:{R}:{A}:q"),
        ("aws:sns/topic:Topic", {}, "t", f"arn:aws:sns:{R}:{A}:t"),
        ("aws:cloudwatch/logGroup:LogGroup", {}, "/aws/lambda/f", f"arn:aws:logs:{R}:{A}:log-group:/aws/lambda/f"),
        ("aws:cloudwatch/metricAlarm:MetricAlarm", {}, "a", f"arn:aws:cloudwatch:{R}:{A}:alarm:a"),
        ("aws:cloudwatch/eventRule:EventRule", {}, "r", f"arn:aws:events:{R}:{A}:rule/r"),
        ("aws:cloudwatch/eventRule:EventRule", {"eventBusName": "bus"}, "r", f"arn:aws:events:{R}:{A}:rule/bus/r"),
        ("aws:cloudwatch/eventRule:EventRule", {"eventBusName": "default"}, "r", f"arn:aws:events:{R}:{A}:rule/r"),
        ("aws:iam/policy:Policy", {"policy": '{"Version": "2012-10-17"}'}, "p", f"arn:aws:iam::{A}:policy/p"),
        ("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", {}, "d", f"arn:aws:ec2:{R}:{A}:security-group/ID"),
        ("aws:iam/role:Role", {}, "r", f"arn:aws:iam::{A}:role/r"),
        ("aws:iam/user:User", {}, "u", f"arn:aws:iam::{A}:user/u"),
        ("aws:iam/instanceProfile:InstanceProfile", {}, "p", f"arn:aws:iam::{A}:instance-profile/p"),
        ("aws:lambda/function:Function", {}, "f", f"arn:aws:lambda:{R}:{A}:function:f"),
        ("aws:lambda/layerVersion:LayerVersion", {"layerName": "l"}, "l", f"arn:aws:lambda:{R}:{A}:layer:l:1"),
        ("aws:dynamodb/table:Table", {}, "t", f"arn:aws:dynamodb:{R}:{A}:table/t"),
        ("aws:s3/bucket:Bucket", {}, "b", "arn:aws:s3:::b"),
        ("aws:ecr/repository:Repository", {}, "r", f"arn:aws:ecr:{R}:{A}:repository/r"),
        ("aws:ecs/cluster:Cluster", {}, "c", f"arn:aws:ecs:{R}:{A}:cluster/c"),
        ("aws:ecs/service:Service", {"cluster": f"arn:aws:ecs:{R}:{A}:cluster/c"}, "s", f"arn:aws:ecs:{R}:{A}:service/c/s"),
        ("aws:ecs/taskDefinition:TaskDefinition", {"family": "web"}, "web", f"arn:aws:ecs:{R}:{A}:task-definition/web:1"),
        ("aws:eks/cluster:Cluster", {}, "k", f"arn:aws:eks:{R}:{A}:cluster/k"),
        ("aws:kinesis/stream:Stream", {}, "s", f"arn:aws:kinesis:{R}:{A}:stream/s"),
        ("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream", {}, "d", f"arn:aws:firehose:{R}:{A}:deliverystream/d"),
        ("aws:rds/instance:Instance", {}, "db", f"arn:aws:rds:{R}:{A}:db:db"),
        ("aws:rds/cluster:Cluster", {}, "c", f"arn:aws:rds:{R}:{A}:cluster:c"),
        ("aws:sfn/stateMachine:StateMachine", {}, "m", f"arn:aws:states:{R}:{A}:stateMachine:m"),
        ("aws:ssm/parameter:Parameter", {}, "/app/db", f"arn:aws:ssm:{R}:{A}:parameter/app/db"),
        ("aws:scheduler/schedule:Schedule", {"groupName": "g"}, "s", f"arn:aws:scheduler:{R}:{A}:schedule/g/s"),
        ("aws:lb/loadBalancer:LoadBalancer", {}, "lb", f"arn:aws:elasticloadbalancing:{R}:{A}:loadbalancer/lb"),
        ("aws:lb/targetGroup:TargetGroup", {}, "tg", f"arn:aws:elasticloadbalancing:{R}:{A}:targetgroup/tg/ID"),
        ("aws:ec2/vpc:Vpc", {}, "v", f"arn:aws:ec2:{R}:{A}:vpc/ID"),
        ("aws:ec2/securityGroup:SecurityGroup", {}, "g", f"arn:aws:ec2:{R}:{A}:security-group/ID"),
        ("aws:ec2/instance:Instance", {}, "i", f"arn:aws:ec2:{R}:{A}:instance/ID"),
        ("aws:kms/key:Key", {}, "k", f"arn:aws:kms:{R}:{A}:key/ID"),
        ("aws:apigateway/restApi:RestApi", {}, "api", f"arn:aws:apigateway:{R}::/restapis/ID"),
        ("aws:apigatewayv2/stage:Stage", {"apiId": "abc", "name": "live"}, "live", f"arn:aws:apigateway:{R}::/apis/abc/stages/live"),
        ("aws:lambda/alias:Alias", {"functionName": "f"}, "live", f"arn:aws:lambda:{R}:{A}:function:f:live"),
    ],
)  # fmt: skip
def test_arn_is_the_catalogues_format_for_the_type(type_, inputs, name, expected):
    assert arn_of(type_, inputs, name, "ID", R, A) == expected


@pytest.mark.parametrize(
    "type_",
    ["aws:lambda/permission:Permission", "aws:iam/rolePolicy:RolePolicy",
     "aws:s3/bucketPolicy:BucketPolicy", "aws:sqs/queuePolicy:QueuePolicy"],
)  # fmt: skip
def test_a_type_without_an_arn_of_its_own_gets_none(type_):
    assert arn_of(type_, {}, "x", "ID", R, A) is None


def test_v1_stage_has_no_format_of_its_own_in_the_catalogue():
    """The catalogue keeps one "Stage" type (HTTP APIs'): a REST API stage is built by hand."""
    assert arn_of("aws:apigateway/stage:Stage", {"restApi": "a", "stageName": "s"}, "s", "ID",
                  R, A) is None  # fmt: skip


def _everything() -> None:
    use1 = aws.Provider("use1", region="us-east-1")
    role = aws.iam.Role("role", assume_role_policy="{}")
    fn = aws.lambda_.Function("fn", role=role.arn, runtime="python3.12", handler="i.h",
                              code=pulumi.AssetArchive({}))  # fmt: skip
    resources: dict[str, pulumi.CustomResource] = {
        "role": role,
        "fn": fn,
        "queue": aws.sqs.Queue("queue"),
        "topic": aws.sns.Topic("topic"),
        "stream": aws.kinesis.Stream("stream", shard_count=1),
        "cluster": aws.ecs.Cluster("cluster"),
        "task": aws.ecs.TaskDefinition("task", family="web", container_definitions="[]"),
        "db": aws.rds.Instance("db", instance_class="db.t3.micro", engine="postgres",
                               allocated_storage=20),
        "eks": aws.eks.Cluster("eks", role_arn=role.arn, vpc_config={"subnet_ids": ["s"]}),
        "machine": aws.sfn.StateMachine("machine", role_arn=role.arn, definition="{}"),
        "vpc": aws.ec2.Vpc("vpc", cidr_block="10.0.0.0/16"),
        "certificate": aws.acm.Certificate("certificate", domain_name="example.com",
                                           opts=pulumi.ResourceOptions(provider=use1)),
        "topic-eu-west-1": aws.sns.Topic("topic-eu-west-1", region="eu-west-1"),
    }  # fmt: skip
    for name, resource in resources.items():
        pulumi.export(name, resource.arn)  # type: ignore[attr-defined]
    pulumi.export("invokeArn", fn.invoke_arn)
    pulumi.export("qualifiedArn", fn.qualified_arn)
    pulumi.export("taskWithoutRevision", resources["task"].arn_without_revision)  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def created() -> dict:
    run = run_under_mocks(_everything, config={"aws:region": R})
    assert run.error is None
    return run.outputs


def test_every_created_arn_fits_one_of_its_services_catalogue_formats(created):
    for name, arn in created.items():
        if name in ("invokeArn", "qualifiedArn", "taskWithoutRevision"):
            continue
        service = arn.split(":")[2]
        formats = [
            f for a in catalogue.matching(f"{service}:*") for f in a.arn_formats
        ]  # fmt: skip
        assert any(catalogue.arn_matches(f, arn) for f in formats), (name, arn)


def test_arns_are_in_the_region_of_the_resource_or_its_provider(created):
    assert created["certificate"].startswith(f"arn:aws:acm:us-east-1:{A}:certificate/")
    assert created["topic-eu-west-1"].startswith(f"arn:aws:sns:eu-west-1:{A}:")
    assert created["queue"].startswith(f"arn:aws:sqs:{R}:{A}:")


def test_lambda_invoke_and_qualified_arns_are_awss(created):
    function = created["fn"]
    assert created["qualifiedArn"] == f"{function}:$LATEST"
    assert created["invokeArn"] == (
        f"arn:aws:apigateway:{R}:lambda:path/2015-03-31/functions/{function}/invocations"
    )


def test_task_definition_arn_without_revision(created):
    assert created["task"] == f"arn:aws:ecs:{R}:{A}:task-definition/web:1"
    assert created["taskWithoutRevision"] == f"arn:aws:ecs:{R}:{A}:task-definition/web"
