"""The artifact flow: zips staged in va-<env>-artifacts-bucket as va-<env>-<purpose>-lambda-<commit>.zip."""

from __future__ import annotations

import re

import pytest

from tests.conventions import parse_artifact_key
from tests.support import CTX, build_lambda, one, package
from va_platform import standard
from va_platform.components.bucket import Expiry, VaBucket, VaBucketArgs
from va_platform.components.lambda_function import ArtifactStore
from va_platform.packaging import revision
from va_platform.preflight.runner import Run, run_program, run_under_mocks

BUCKET = "va-dev-artifacts-bucket"
DIGEST = bytes(range(32)).hex()


@pytest.fixture(scope="module")
def staged(tmp_path_factory) -> Run:
    artifact = package(tmp_path_factory.mktemp("pkg"))
    return build_lambda(artifact, artifacts=ArtifactStore(bucket=BUCKET, revision="0123456789ab"))


def test_zip_is_uploaded_under_the_standard_artifact_name(staged):
    obj = one(staged, "aws:s3/bucketObjectv2:BucketObjectv2")

    assert obj["bucket"] == BUCKET
    assert obj["key"] == "va-dev-contentgen-lambda-0123456789ab.zip"
    assert obj["tags"]["Name"] == obj["key"]


def test_function_is_deployed_from_the_staged_object_with_its_reproducible_hash(staged):
    fn = one(staged, "aws:lambda/function:Function")

    assert (fn["s3Bucket"], fn["s3Key"]) == (BUCKET, "va-dev-contentgen-lambda-0123456789ab.zip")
    assert "code" not in fn
    assert re.fullmatch(r"[A-Za-z0-9+/]{43}=", fn["sourceCodeHash"])


def test_clean_tree_revision_is_the_commit():
    assert revision("0123456789ab", dirty=False, content_sha256_hex=DIGEST) == "0123456789ab"


def test_dirty_tree_revision_carries_the_content_hash():
    assert revision("0123456789ab", dirty=True, content_sha256_hex=DIGEST) == (
        "0123456789ab-dirty-000102030405"
    )


def test_artifact_revision_must_be_a_commit_id():
    with pytest.raises(ValueError, match="commit id"):
        ArtifactStore(bucket=BUCKET, revision="../../etc")


def test_artifact_key_follows_the_standard_example():
    key = standard.artifact_key("va-prod-contentgen-lambda", "3f9a1c2")
    assert key == "va-prod-contentgen-lambda-3f9a1c2.zip"


@pytest.fixture(scope="module")
def bucket_run() -> Run:
    args = VaBucketArgs(CTX, "artifacts", expiry=Expiry(current_days=90, noncurrent_days=14))
    return run_under_mocks(lambda: VaBucket("artifacts", args))


def test_artifacts_bucket_expires_old_artifacts_and_versions(bucket_run):
    (rule,) = one(bucket_run, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")[
        "rules"
    ]

    assert rule["status"] == "Enabled"
    assert rule["expiration"] == {"days": 90}
    assert rule["noncurrentVersionExpiration"] == {"noncurrentDays": 14}
    assert rule["abortIncompleteMultipartUpload"] == {"daysAfterInitiation": 7}


def test_artifacts_bucket_is_encrypted_versioned_and_closed(bucket_run):
    assert one(bucket_run, "aws:s3/bucket:Bucket")["bucket"] == BUCKET
    assert one(bucket_run, "aws:s3/bucketVersioning:BucketVersioning")[
        "versioningConfiguration"
    ] == {"status": "Enabled"}
    block = one(bucket_run, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    assert all(block[k] for k in ("blockPublicAcls", "blockPublicPolicy", "restrictPublicBuckets"))


def test_expiry_of_zero_days_is_refused():
    with pytest.raises(ValueError, match="noncurrent_days must be at least 1"):
        Expiry(noncurrent_days=0)


def test_stack_deploys_its_zip_functions_from_the_artifacts_bucket():
    run = run_program("dev")
    fn = run.named("fn-contentgen-function").inputs

    assert fn["s3Bucket"] == run.named("artifacts-bucket-bucket").outputs["id"]
    assert re.fullmatch(r"va-dev-contentgen-lambda-[0-9a-f]{12}(-dirty-[0-9a-f]{12})?\.zip",
                        fn["s3Key"])  # fmt: skip


def test_artifact_key_parses_back_to_function_and_revision():
    key = standard.artifact_key("va-dev-contentgen-lambda", "0123456789ab-dirty-abcdef")

    assert parse_artifact_key(key) == (
        "va-dev-contentgen-lambda",
        "0123456789ab-dirty-abcdef",
    )
    assert parse_artifact_key("contentgen.zip") is None


def test_layer_is_staged_under_its_content_revision(tmp_path):
    from stack.config import LayerSpec
    from va_platform.components.layer import VaLayer, VaLayerArgs
    from va_platform.packaging import content_revision

    artifact = package(tmp_path)
    rev = content_revision(artifact.sha256_hex)
    args = VaLayerArgs(CTX, LayerSpec(purpose="shared", path="x"), artifact,
                       artifacts=ArtifactStore(bucket=BUCKET, revision=rev))  # fmt: skip
    run = run_under_mocks(lambda: VaLayer("shared", args))
    obj = one(run, "aws:s3/bucketObjectv2:BucketObjectv2")
    layer = one(run, "aws:lambda/layerVersion:LayerVersion")

    assert obj["key"] == f"va-dev-shared-layer-{rev}.zip"
    assert (layer["s3Bucket"], layer["s3Key"]) == (BUCKET, obj["key"])
    assert parse_artifact_key(obj["key"]) == ("va-dev-shared-layer", rev)
