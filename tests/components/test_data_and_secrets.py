"""VaSecret, VaBucket, VaTable, VaAlarmTopic and VaLayer: names, encryption, exposure."""

from __future__ import annotations

import json

import pulumi
import pytest

from stack.config import LayerSpec
from tests.support import CTX, one, package
from va_platform.components.alarm_topic import VaAlarmTopic, VaAlarmTopicArgs
from va_platform.components.bucket import VaBucket, VaBucketArgs
from va_platform.components.context import VaContext
from va_platform.components.layer import VaLayer, VaLayerArgs
from va_platform.components.secret import VaSecret, VaSecretArgs
from va_platform.preflight.runner import run_under_mocks

SECRET = "aws:secretsmanager/secret:Secret"
VERSION = "aws:secretsmanager/secretVersion:SecretVersion"


def test_secret_is_named_va_env_name_and_tagged():
    run = run_under_mocks(lambda: VaSecret("s", VaSecretArgs(CTX, "openai-api-key")))
    secret = one(run, SECRET)
    assert secret["name"] == "va/dev/openai-api-key"
    assert secret["tags"]["Name"] == "va/dev/openai-api-key"


def test_secret_without_value_creates_no_version():
    run = run_under_mocks(lambda: VaSecret("s", VaSecretArgs(CTX, "openai-api-key")))
    assert not run.of_type(VERSION)


def test_secret_value_reaches_the_version_as_a_pulumi_secret():
    def build() -> None:
        value = pulumi.Output.secret("sk-test-value-not-real")
        VaSecret("s", VaSecretArgs(CTX, "openai-api-key", value=value))

    run = run_under_mocks(build)
    string = one(run, VERSION)["secretString"]
    assert isinstance(string, dict)
    assert string.get("value") == "sk-test-value-not-real"
    assert string.get(pulumi.runtime.rpc._special_sig_key) == pulumi.runtime.rpc._special_secret_sig


def test_secret_value_is_not_in_the_component_outputs():
    def build() -> None:
        value = pulumi.Output.secret("sk-test-value-not-real")
        VaSecret("s", VaSecretArgs(CTX, "openai-api-key", value=value))

    run = run_under_mocks(build)
    assert "sk-test-value-not-real" not in json.dumps(run.registered_outputs)


def test_bad_secret_name_is_refused():
    with pytest.raises(ValueError, match="va/<env>/<name>"):
        VaSecretArgs(CTX, "OpenAI Key")


@pytest.fixture(scope="module")
def bucket_run():
    return run_under_mocks(lambda: VaBucket("b", VaBucketArgs(CTX, "content")))


def test_bucket_is_named_by_convention(bucket_run):
    assert one(bucket_run, "aws:s3/bucket:Bucket")["bucket"] == "va-dev-content-bucket"


def test_bucket_blocks_all_public_access(bucket_run):
    block = one(bucket_run, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    flags = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    assert all(block[f] is True for f in flags)


def test_bucket_is_encrypted_with_kms(bucket_run):
    sse = one(
        bucket_run,
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    )
    assert sse["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "aws:kms"


def test_bucket_disables_acls(bucket_run):
    ctl = one(bucket_run, "aws:s3/bucketOwnershipControls:BucketOwnershipControls")
    assert ctl["rule"]["objectOwnership"] == "BucketOwnerEnforced"


@pytest.mark.parametrize(("env", "protected"), [("dev", False), ("prod", True)])
def test_table_is_encrypted_with_pitr_and_protected_in_prod(env, protected):
    from va_platform.components.table import VaTable, VaTableArgs

    ctx = VaContext(env, "platform-team")
    table = one(run_under_mocks(lambda: VaTable("t", VaTableArgs(ctx, "core"))),
                "aws:dynamodb/table:Table")  # fmt: skip
    assert table["name"] == f"va-{env}-core-dynamodb"
    assert table["serverSideEncryption"] == {"enabled": True}
    assert table["pointInTimeRecovery"] == {"enabled": True}
    assert table["deletionProtectionEnabled"] is protected


@pytest.fixture(scope="module")
def topic_run():
    return run_under_mocks(
        lambda: VaAlarmTopic(
            "a", VaAlarmTopicArgs(CTX, alarm_email="ops@virtualagentics.example", purpose="alarms")
        )
    )


def test_alarm_topic_is_encrypted_with_its_own_key(topic_run):
    topic = one(topic_run, "aws:sns/topic:Topic")
    assert topic["name"] == "va-dev-alarms-topic"
    assert topic["kmsMasterKeyId"].startswith("arn:aws:kms:eu-central-1:123456789012:key/")


def test_alarm_key_lets_cloudwatch_publish_for_this_account_only(topic_run):
    policy = json.loads(one(topic_run, "aws:kms/key:Key")["policy"])
    cw = next(s for s in policy["Statement"] if s["Sid"] == "CloudWatchPublishesAlarms")
    assert cw["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert cw["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}


def test_alarm_key_rotates(topic_run):
    assert one(topic_run, "aws:kms/key:Key")["enableKeyRotation"] is True


def test_alarm_email_is_subscribed(topic_run):
    sub = one(topic_run, "aws:sns/topicSubscription:TopicSubscription")
    assert (sub["protocol"], sub["endpoint"]) == ("email", "ops@virtualagentics.example")


def test_bad_alarm_email_is_refused():
    with pytest.raises(ValueError, match="not an e-mail address"):
        VaAlarmTopicArgs(CTX, alarm_email="ops", purpose="alarms")


def test_layer_is_named_by_convention_and_declares_its_runtimes(tmp_path):
    spec = LayerSpec(purpose="common", path="x", runtimes=("python3.11", "python3.12"))
    args = VaLayerArgs(CTX, spec, package(tmp_path))
    layer = one(run_under_mocks(lambda: VaLayer("l", args)), "aws:lambda/layerVersion:LayerVersion")
    assert layer["layerName"] == "va-dev-common-layer"
    assert layer["compatibleRuntimes"] == ["python3.11", "python3.12"]
    assert layer["sourceCodeHash"] == args.package.sha256_b64


def test_secret_is_encrypted_with_the_stack_key_when_given():
    key = "arn:aws:kms:eu-central-1:123456789012:key/57ac5e1e-1111-2222-3333-444455556666"
    run = run_under_mocks(
        lambda: VaSecret("s", VaSecretArgs(CTX, "openai-api-key", kms_key_id=key))
    )
    assert one(run, SECRET)["kmsKeyId"] == key


def test_versioned_bucket_without_expiry_deletes_replaced_versions_after_90_days():
    run = run_under_mocks(lambda: VaBucket("b", VaBucketArgs(CTX, "content")))
    (rule,) = one(run, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")["rules"]
    assert rule["noncurrentVersionExpiration"] == {"noncurrentDays": 90}
    assert "expiration" not in rule  # current objects are kept


def test_bucket_noncurrent_days_below_one_is_refused():
    with pytest.raises(ValueError, match="noncurrent_days must be at least 1 day"):
        VaBucketArgs(CTX, "content", noncurrent_days=0)
