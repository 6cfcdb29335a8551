"""VaBucketNotifications: one S3 notification per bucket for every function its objects start,
put only once S3 may invoke them, and never with filters S3 would find ambiguous."""

from __future__ import annotations

from typing import Any

import pulumi_aws as aws

from tests.support import CTX, NETWORKING, TOPIC_ARN, one, spec
from va_platform.components.bucket import (
    BucketTarget,
    VaBucket,
    VaBucketArgs,
    VaBucketNotifications,
    VaBucketNotificationsArgs,
)
from va_platform.components.lambda_function import VaLambda, VaLambdaArgs
from va_platform.components.lambda_function.triggers import BucketTrigger
from va_platform.preflight.runner import Run, run_under_mocks

NOTIFICATION = "aws:s3/bucketNotification:BucketNotification"
UPLOADS = {"kind": "bucket", "prefix": "uploads/"}
REPORTS = {"kind": "bucket", "prefix": "reports/", "suffix": ".csv"}


def build(artifact, triggers: dict[str, list[dict[str, Any]]], publish: bool = False) -> Run:
    """A content bucket, one function per entry of ``triggers``, and the bucket's notification."""

    def program() -> None:
        bucket = VaBucket("content", VaBucketArgs(CTX, "content"))
        targets = []
        for purpose, listed in triggers.items():
            fn_spec = spec(purpose=purpose, triggers=listed, publish=publish)
            fn = VaLambda(
                f"fn-{purpose}",
                VaLambdaArgs(
                    context=CTX, spec=fn_spec, networking=NETWORKING, alarm_topic_arn=TOPIC_ARN,
                    package=artifact, bucket_arns={"content": bucket.arn},
                ),
            )  # fmt: skip
            targets += [
                BucketTarget(purpose, fn.invoke_arn, t, fn.bucket_permissions["content"])
                for t in fn_spec.triggers
                if isinstance(t, BucketTrigger)
            ]
        VaBucketNotifications(
            "content-notifications", VaBucketNotificationsArgs(CTX, bucket, targets)
        )

    return run_under_mocks(program)


def test_every_functions_triggers_on_the_bucket_go_into_one_notification(artifact):
    run = build(artifact, {"drafts": [UPLOADS], "reports": [REPORTS]})
    assert run.error is None, run.error

    notification = one(run, NOTIFICATION)
    assert notification["bucket"] == "va-dev-content-bucket"
    sent = {
        c["id"]: (c["lambdaFunctionArn"].rsplit(":", 1)[-1], c["events"], c.get("filterPrefix"))
        for c in notification["lambdaFunctions"]
    }
    assert sent == {
        "drafts-1": ("va-dev-drafts-lambda", ["s3:ObjectCreated:*"], "uploads/"),
        "reports-1": ("va-dev-reports-lambda", ["s3:ObjectCreated:*"], "reports/"),
    }


def test_notification_is_put_after_the_permissions_that_let_s3_invoke(artifact):
    run = build(artifact, {"drafts": [UPLOADS], "reports": [REPORTS]})

    permissions = {r.urn for r in run.of_type("aws:lambda/permission:Permission")}
    assert len(permissions) == 2
    assert permissions <= set(run.of_type(NOTIFICATION)[0].dependencies)


def test_published_functions_are_notified_through_their_live_alias(artifact):
    run = build(artifact, {"drafts": [UPLOADS]}, publish=True)

    (config,) = one(run, NOTIFICATION)["lambdaFunctions"]
    assert config["lambdaFunctionArn"].endswith(":function:va-dev-drafts-lambda:live")


def test_overlapping_filters_of_two_functions_are_refused_naming_both(artifact):
    run = build(artifact, {"drafts": [UPLOADS], "reports": [{"kind": "bucket", "suffix": ".csv"}]})

    assert isinstance(run.error, ValueError)
    assert "drafts's trigger" in str(run.error)
    assert "reports's (s3:ObjectCreated:* of suffix '.csv')" in str(run.error)
    assert run.of_type(NOTIFICATION) == []


def test_a_trigger_for_another_bucket_is_refused():
    def program() -> None:
        bucket = VaBucket("content", VaBucketArgs(CTX, "content"))
        permission = aws.lambda_.Permission(
            "p", function="f", action="lambda:InvokeFunction", principal="s3.amazonaws.com"
        )
        trigger = BucketTrigger.model_validate({**UPLOADS, "bucket": "media"})
        target = BucketTarget(
            "drafts", "arn:aws:lambda:eu-central-1:1:function:f", trigger, permission
        )
        VaBucketNotifications("n", VaBucketNotificationsArgs(CTX, bucket, [target]))

    run = run_under_mocks(program)

    assert isinstance(run.error, ValueError)
    assert "triggers for bucket media belong to that bucket's notification" in str(run.error)
