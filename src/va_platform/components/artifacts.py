"""The VA standard's S3 staging of zip packages: one place that uploads a package and says
where it is (an artifacts bucket, objects named after a commit).

VaLambda and VaLayer both deploy from the uploaded object; the key is
``standard.artifact_key(<physical name>, <revision>)``.
"""

from __future__ import annotations

import base64
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

from va_platform import standard


@dataclass(frozen=True)
class ZipArtifact:
    """A built zip: where it is and the base64 SHA-256 Lambda compares to decide on an update."""

    # The zip on disk (under the build cache).
    path: Path
    # Base64 SHA-256 of the zip: the function's source_code_hash.
    sha256_b64: str
    # Bytes: Lambda takes a zip of at most 50 MB directly, larger ones through S3.
    size: int
    # The runtime its dependencies were installed for (build_zip's runtime); None: not known
    # (an archive built elsewhere). VaLambdaArgs refuses one that is not the spec's.
    runtime: str | None = None
    # The architecture its dependencies' wheels are for (build_zip's architecture); None: not
    # known. VaLambdaArgs refuses one that is not the spec's.
    architecture: str | None = None

    @property
    def sha256_hex(self) -> str:
        return base64.b64decode(self.sha256_b64).hex()


def zip_names(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as zf:
        return zf.namelist()


@dataclass(frozen=True)
class ArtifactStore:
    """Where zip packages are uploaded (the VA standard's S3 staging bucket), and which revision."""

    # The staging bucket's name (VaBucket(purpose="artifacts").bucket.id).
    bucket: pulumi.Input[str]
    # Names the object (va_platform.packaging.code_revision or content_revision): an unchanged
    # revision is the same object, so an unchanged function never churns.
    revision: str

    def __post_init__(self) -> None:
        standard.validate_revision(self.revision)


def stage(
    resource_name: str,
    physical_name: str,
    package: ZipArtifact,
    store: ArtifactStore,
    tags: dict[str, str],
    opts: pulumi.ResourceOptions,
) -> tuple[aws.s3.BucketObjectv2, dict[str, Any]]:
    """Upload ``package``; returns the object and the ``s3_*`` code arguments pointing at it."""
    obj = aws.s3.BucketObjectv2(
        resource_name,
        bucket=store.bucket,
        key=standard.artifact_key(physical_name, store.revision),
        source=pulumi.FileAsset(str(package.path)),
        content_type="application/zip",
        tags=tags,
        opts=opts,
    )
    return obj, {"s3_bucket": obj.bucket, "s3_key": obj.key, "s3_object_version": obj.version_id}
