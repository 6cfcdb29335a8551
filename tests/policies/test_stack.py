"""va-stack: rules that need the whole stack (roles, log groups, DLQs, alarms, groups, buckets)."""

from __future__ import annotations

from dataclasses import replace

from pulumi.runtime.rpc import UNKNOWN as ENGINE_UNKNOWN
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.proxy import unknown_checking_proxy

from policies.va_guard import stack
from tests.policies.support import resource

FN = "aws:lambda/function:Function"
NAME = "va-dev-example-lambda"


def function(name=NAME, role="arn:aws:iam::1:role/r1", **extra):
    props = {
        "name": name,
        "role": role,
        "deadLetterConfig": {"targetArn": "arn:aws:sqs:eu-central-1:1:q"},
        "vpcConfig": {"subnetIds": ["subnet-1"], "securityGroupIds": ["sg-1"]},
        **extra,
    }
    return resource(FN, props, name=f"{name}-fn")


def companions(name=NAME):
    alarms = [
        resource(stack.ALARM_TYPE, {"namespace": "AWS/Lambda", "metricName": m,
                                    "dimensions": {"FunctionName": name}}, name=f"{name}-{m}")
        for m in ("Errors", "Throttles", "Duration")
    ]  # fmt: skip
    log = resource(
        "aws:cloudwatch/logGroup:LogGroup", {"name": f"/aws/lambda/{name}"}, name=f"{name}-log"
    )
    https = {"protocol": "tcp", "fromPort": 443.0, "toPort": 443.0, "cidrBlocks": ["0.0.0.0/0"]}
    sg = resource(
        "aws:ec2/securityGroup:SecurityGroup", {"id": "sg-1", "egress": [https]}, name="sg"
    )
    return [*alarms, log, sg]


def found(resources, config=None):
    violations, _ = stack.FAMILY.evaluate_stack(resources, stack.FAMILY.config(config))
    return violations


def test_complete_function_passes():
    assert found([function(), *companions()]) == []


def test_two_functions_sharing_a_role_are_both_reported():
    other = "va-dev-other-lambda"
    result = found([function(), *companions(), function(other), *companions(other)[:-1]])
    assert len(result) == 2
    assert all("shares its role arn:aws:iam::1:role/r1" in m for _, m in result)


def test_function_without_its_log_group_is_a_violation():
    rest = [r for r in companions() if r.type != "aws:cloudwatch/logGroup:LogGroup"]
    ((urn, message),) = found([function(), *rest])
    assert urn == function().urn
    assert "has no log group '/aws/lambda/va-dev-example-lambda'" in message


def test_function_without_dlq_or_destination_is_a_violation():
    fn = function()
    props = {k: v for k, v in fn.props.items() if k != "deadLetterConfig"}
    ((_, message),) = found([resource(FN, props, name=fn.name), *companions()])
    assert "neither a dead-letter queue" in message


def test_on_failure_destination_counts_as_dlq():
    props = {k: v for k, v in function().props.items() if k != "deadLetterConfig"}
    invoke = resource(stack.INVOKE_CONFIG_TYPE, {"functionName": NAME, "destinationConfig":
                      {"onFailure": {"destination": "arn:aws:sqs:eu-central-1:1:q"}}})  # fmt: skip
    assert found([resource(FN, props, name="fn"), invoke, *companions()]) == []


def test_missing_alarms_are_named():
    rest = [r for r in companions() if r.get("metricName") != "Throttles"]
    ((_, message),) = found([function(), *rest])
    assert "has no alarm on Throttles" in message


def test_attached_group_with_wide_egress_is_reported_on_the_group():
    rest = [r for r in companions() if r.name != "sg"]
    out = {"protocol": "-1", "fromPort": 0.0, "toPort": 0.0, "cidrBlocks": ["0.0.0.0/0"]}
    sg = resource("aws:ec2/securityGroup:SecurityGroup", {"id": "sg-1", "egress": [out]}, name="sg")
    ((urn, message),) = found([function(), *rest, sg])
    assert urn == sg.urn
    assert "attached to 'va-dev-example-lambda'" in message


def test_standalone_ingress_rule_on_an_attached_group_is_a_violation():
    rule = resource(stack.VPC_INGRESS_TYPE, {"securityGroupId": "sg-1", "cidrIpv4": "10.0.0.0/8",
                                             "ipProtocol": "tcp", "fromPort": 443.0, "toPort": 443.0})  # fmt: skip
    ((_, message),) = found([function(), *companions(), rule])
    assert "has no ingress rules at all" in message


def test_bucket_without_public_access_block_and_encryption_is_reported_twice():
    bucket = resource("aws:s3/bucket:Bucket", {"bucket": "va-dev-content-bucket"})
    messages = [m for _, m in found([bucket])]
    assert any("has no public access block" in m for m in messages)
    assert any("has no server-side encryption configuration" in m for m in messages)


def test_group_attached_by_id_and_arn_is_judged_once_per_function():
    rest = [r for r in companions() if r.name != "sg"]
    out = {"protocol": "-1", "fromPort": 0.0, "toPort": 0.0, "cidrBlocks": ["0.0.0.0/0"]}
    sg = resource("aws:ec2/securityGroup:SecurityGroup",
                  {"id": "sg-1", "arn": "arn:aws:ec2:eu-central-1:1:security-group/sg-1",
                   "egress": [out]}, name="sg")  # fmt: skip
    fn = function(vpcConfig={"securityGroupIds": ["sg-1", sg.props["arn"]]})
    assert len(found([fn, *rest, sg])) == 1


def test_group_shared_by_two_functions_is_reported_for_each():
    other = "va-dev-other-lambda"
    rule = resource(stack.VPC_INGRESS_TYPE, {"securityGroupId": "sg-1", "cidrIpv4": "10.0.0.0/8",
                                             "ipProtocol": "tcp", "fromPort": 443.0, "toPort": 443.0})  # fmt: skip
    resources = [function(), *companions(), function(other, role="arn:aws:iam::1:role/r2"),
                 *companions(other)[:-1], rule]  # fmt: skip
    messages = [m for _, m in found(resources)]
    assert sorted(m.split("(attached to ")[1].split(")")[0] for m in messages) == [
        f"'{NAME}'",
        f"'{other}'",
    ]


def test_shared_role_message_names_at_most_five_functions():
    names = [f"va-dev-f{i}-lambda" for i in range(8)]
    resources = [r for n in names for r in (function(n), *companions(n)[:-1])]
    (_, message), *_ = found([*resources, companions()[-1]])
    assert (
        "with va-dev-f0-lambda, va-dev-f1-lambda, va-dev-f2-lambda, va-dev-f3-lambda, "
        "va-dev-f4-lambda and 3 more; give each" in message
    )


def test_group_shared_by_functions_is_judged_once(monkeypatch):
    judged = []

    def counting(*args):
        judged.append(1)
        return verdict(*args)

    verdict = stack.lambda_sg_verdict
    monkeypatch.setattr(stack, "lambda_sg_verdict", counting)
    names = [f"va-dev-f{i}-lambda" for i in range(3)]
    one_group = [r for r in companions() if r.name == "sg"]
    found([r for i, n in enumerate(names)
           for r in (function(n, role=f"arn:aws:iam::1:role/r{i}"), *companions(n)[:-1])]
          + one_group)  # fmt: skip
    assert len(judged) == 1


# --- first preview: links through the engine's propertyDependencies ---------------------------

BUCKET = "aws:s3/bucket:Bucket"
SSE = stack.SSE_TYPES[0]


def fresh(type_, props, name, deps=None):
    """A resource to be created, as AnalyzeStack sends it on a first preview: its props behind
    the SDK's proxy, unknowns as the engine's sentinel, its propertyDependencies."""
    r = resource(type_, unknown_checking_proxy(deserialize_properties(props)), name=name)
    return replace(r, dependencies=deps or {})


def content_bucket():
    return fresh(BUCKET, {"bucket": "va-dev-content-bucket", "id": ENGINE_UNKNOWN}, "content")


def test_public_access_block_of_a_bucket_not_yet_created_covers_that_bucket():
    bucket = content_bucket()
    pab = fresh(stack.PAB_TYPE, {"bucket": ENGINE_UNKNOWN}, "pab", {"bucket": (bucket.urn,)})
    sse = fresh(SSE, {"bucket": ENGINE_UNKNOWN}, "sse", {"bucket": (bucket.urn,)})
    assert found([bucket, pab, sse]) == []


def test_encryption_of_a_bucket_not_yet_created_covers_only_that_bucket():
    bucket, other = content_bucket(), fresh(BUCKET, {"bucket": "va-dev-logs-bucket"}, "logs")
    pab = fresh(stack.PAB_TYPE, {"bucket": "va-dev-logs-bucket"}, "pab")
    pab2 = fresh(stack.PAB_TYPE, {"bucket": ENGINE_UNKNOWN}, "pab2", {"bucket": (bucket.urn,)})
    sse = fresh(SSE, {"bucket": ENGINE_UNKNOWN}, "sse", {"bucket": (bucket.urn,)})
    ((urn, message),) = found([bucket, other, pab, pab2, sse])
    assert urn == other.urn
    assert "bucket 'va-dev-logs-bucket' has no server-side encryption configuration" in message


def test_unknown_bucket_reference_without_dependencies_is_a_notice_not_a_violation():
    pab = fresh(stack.PAB_TYPE, {"bucket": ENGINE_UNKNOWN}, "pab")
    sse = fresh(SSE, {"bucket": ENGINE_UNKNOWN}, "sse")
    violations, notices = stack.FAMILY.evaluate_stack(
        [content_bucket(), pab, sse], stack.FAMILY.config(None)
    )
    assert violations == []
    assert any(
        "unchecked: whether bucket 'va-dev-content-bucket' has a public access block is not "
        "known until the resource that public access block 'pab' names exists" in n
        for n in notices
    )


def test_functions_sharing_a_role_not_yet_created_are_both_reported():
    role = fresh("aws:iam/role:Role", {"arn": ENGINE_UNKNOWN}, "shared-role")
    other = "va-dev-other-lambda"
    fns = [
        replace(f, props=unknown_checking_proxy(deserialize_properties(
            {**f.props, "role": ENGINE_UNKNOWN})), dependencies={"role": (role.urn,)})
        for f in (function(), function(other))
    ]  # fmt: skip
    result = found([role, *fns, *companions(), *companions(other)[:-1]])
    assert [m.split(" shares")[0] for _, m in result] == [
        f"function '{NAME}'",
        f"function '{other}'",
    ]
    assert all("shares its role shared-role with" in m for _, m in result)


def test_group_of_a_function_not_yet_created_is_judged_through_its_dependencies():
    rest = [r for r in companions() if r.name != "sg"]
    out = {"protocol": "-1", "fromPort": 0.0, "toPort": 0.0, "cidrBlocks": ["0.0.0.0/0"]}
    sg = fresh("aws:ec2/securityGroup:SecurityGroup", {"id": ENGINE_UNKNOWN, "egress": [out]}, "sg")
    fn = fresh(FN, {**function().props, "vpcConfig": {"subnetIds": [ENGINE_UNKNOWN],
               "securityGroupIds": [ENGINE_UNKNOWN]}}, f"{NAME}-fn", {"vpcConfig": (sg.urn,)})  # fmt: skip
    ((urn, message),) = found([fn, *rest, sg])
    assert urn == sg.urn
    assert "allows egress all traffic (protocol -1)" in message


def test_standalone_rule_on_a_group_not_yet_created_applies_to_that_group():
    rest = [r for r in companions() if r.name != "sg"]
    https = {"protocol": "tcp", "fromPort": 443.0, "toPort": 443.0, "cidrBlocks": ["0.0.0.0/0"]}
    sg = fresh(
        "aws:ec2/securityGroup:SecurityGroup", {"id": ENGINE_UNKNOWN, "egress": [https]}, "sg"
    )
    fn = fresh(FN, {**function().props, "vpcConfig": {"subnetIds": ["s"],
               "securityGroupIds": [ENGINE_UNKNOWN]}}, f"{NAME}-fn", {"vpcConfig": (sg.urn,)})  # fmt: skip
    rule = fresh(stack.VPC_INGRESS_TYPE, {"securityGroupId": ENGINE_UNKNOWN, "cidrIpv4": "10.0.0.0/8",
                 "ipProtocol": "tcp", "fromPort": 443.0, "toPort": 443.0}, "in",
                 {"securityGroupId": (sg.urn,)})  # fmt: skip
    ((_, message),) = found([fn, *rest, sg, rule])
    assert "has no ingress rules at all" in message


def test_alarms_and_destination_of_a_function_not_yet_created_count_for_it():
    fn = fresh(FN, {k: v for k, v in function().props.items() if k != "deadLetterConfig"},
               f"{NAME}-fn")  # fmt: skip
    alarms = [
        fresh(stack.ALARM_TYPE, {"namespace": "AWS/Lambda", "metricName": m,
              "dimensions": {"FunctionName": ENGINE_UNKNOWN}}, m, {"dimensions": (fn.urn,)})
        for m in ("Errors", "Throttles", "Duration")
    ]  # fmt: skip
    invoke = fresh(stack.INVOKE_CONFIG_TYPE, {"functionName": ENGINE_UNKNOWN, "destinationConfig":
                   {"onFailure": {"destination": ENGINE_UNKNOWN}}}, "inv",
                   {"functionName": (fn.urn,)})  # fmt: skip
    rest = [r for r in companions() if r.type != stack.ALARM_TYPE]
    assert found([fn, *alarms, invoke, *rest]) == []


def test_log_group_named_by_an_unknown_reference_counts_when_it_came_from_a_log_group():
    log = fresh("aws:cloudwatch/logGroup:LogGroup", {"name": "va-dev-custom-logs"}, "log")
    fn = fresh(FN, {**function().props, "loggingConfig": {"logGroup": ENGINE_UNKNOWN}},
               f"{NAME}-fn", {"loggingConfig": (log.urn,)})  # fmt: skip
    rest = [r for r in companions() if r.type != "aws:cloudwatch/logGroup:LogGroup"]
    assert found([fn, log, *rest]) == []


def test_a_crash_on_one_function_fails_closed_on_it_and_the_others_are_still_checked(monkeypatch):
    def log_group(fn, name, ix):
        if name == NAME:
            raise KeyError("boom")
        return original(fn, name, ix)

    original = stack._log_group
    monkeypatch.setattr(stack, "_log_group", log_group)
    other = "va-dev-other-lambda"
    rest = [r for r in companions(other) if r.type != "aws:cloudwatch/logGroup:LogGroup"]
    fns = [function(), function(other, role="arn:aws:iam::1:role/r2")]
    result = found([*fns, *companions(), *rest[:-1]])
    (first_urn, first), (second_urn, second) = result
    assert first_urn == fns[0].urn
    assert first.startswith("could not be checked (KeyError in va-stack)")
    assert second_urn == fns[1].urn
    assert f"has no log group '/aws/lambda/{other}'" in second


def test_log_group_name_of_another_shape_is_no_log_group():
    odd = resource("aws:cloudwatch/logGroup:LogGroup", {"name": {"not": "a name"}}, name="odd")
    ((_, message),) = found([function(), odd, *companions()[:3], companions()[-1]])
    assert "has no log group '/aws/lambda/va-dev-example-lambda'" in message


# --- queue triggers: a message that keeps failing must end in a DLQ ------------------------------

QUEUE = "aws:sqs/queue:Queue"
QUEUE_ARN = "arn:aws:sqs:eu-central-1:1:va-dev-work-queue"


def mapping(source=QUEUE_ARN, deps=None):
    props = {"eventSourceArn": source, "functionName": NAME}
    return fresh(stack.ESM_TYPE, props, "mapping", deps)


def queue(**extra):
    return fresh(QUEUE, {"name": "va-dev-work-queue", "arn": QUEUE_ARN, **extra}, "queue")


def test_queue_trigger_on_a_queue_without_redrive_is_a_violation():
    assert found([function(), *companions(), queue(), mapping()]) == [
        (mapping().urn, "the event source mapping reads queue 'va-dev-work-queue', which has no "
         "redrive policy: a message that keeps failing is retried until it expires, and lost; "
         "give the queue a redrivePolicy to a dead-letter queue")
    ]  # fmt: skip


def test_queue_trigger_on_a_redriven_queue_passes():
    redriven = queue(redrivePolicy='{"deadLetterTargetArn": "arn:aws:sqs:eu-central-1:1:d"}')
    assert found([function(), *companions(), redriven, mapping()]) == []


def test_queue_trigger_on_a_queue_not_yet_created_is_judged_through_its_dependencies():
    fresh_queue = fresh(QUEUE, {"name": "va-dev-work-queue", "arn": ENGINE_UNKNOWN}, "queue")
    esm = mapping(ENGINE_UNKNOWN, {"eventSourceArn": (fresh_queue.urn,)})
    assert [v for _, v in found([function(), *companions(), fresh_queue, esm])] == [
        "the event source mapping reads queue 'va-dev-work-queue', which has no redrive policy: "
        "a message that keeps failing is retried until it expires, and lost; give the queue a "
        "redrivePolicy to a dead-letter queue"
    ]


def test_queue_trigger_on_a_queue_of_another_stack_is_not_a_violation():
    other = "arn:aws:sqs:eu-central-1:1:orders"
    violations, notices = stack.FAMILY.evaluate_stack(
        [function(), *companions(), mapping(other)], stack.FAMILY.config(None)
    )
    assert violations == []
    assert any("queue arn:aws:sqs:eu-central-1:1:orders is not in this stack" in n for n in notices)


def test_queue_trigger_on_a_queue_whose_redrive_names_a_dlq_not_yet_created_passes():
    """Our own work queue on a first preview: its redrivePolicy is built from the DLQ's ARN."""
    fresh_queue = fresh(
        QUEUE, {"name": "va-dev-work-queue", "arn": ENGINE_UNKNOWN, "redrivePolicy": ENGINE_UNKNOWN},
        "queue",
    )  # fmt: skip
    esm = mapping(ENGINE_UNKNOWN, {"eventSourceArn": (fresh_queue.urn,)})
    assert found([function(), *companions(), fresh_queue, esm]) == []
