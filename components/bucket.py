"""VaBucket: an S3 bucket as the Control Tower SCPs demand - encrypted, never public."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.base import VaComponent
from components.context import VaContext


@dataclass(frozen=True)
class Expiry:
    """Lifecycle of a bucket whose objects are rebuildable (artifacts): days before expiry."""

    current_days: int = 180
    noncurrent_days: int = 30
    incomplete_upload_days: int = 7

    def __post_init__(self) -> None:
        for name in ("current_days", "noncurrent_days", "incomplete_upload_days"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1 day")


@dataclass(frozen=True)
class VaBucketArgs:
    context: VaContext
    purpose: str
    versioning: bool = True
    expiry: Expiry | None = None
    # A versioned bucket without ``expiry`` keeps its current objects; replaced and deleted
    # versions go after this many days, so versioning protects without growing forever.
    noncurrent_days: int = 90

    def __post_init__(self) -> None:
        if self.noncurrent_days < 1:
            raise ValueError("noncurrent_days must be at least 1 day")


class VaBucket(VaComponent):
    """Bucket ``va-<env>-<purpose>-bucket`` with SSE, all public access blocked, ACLs disabled."""

    MODULE = "data"

    def __init__(
        self, name: str, args: VaBucketArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, args.context, opts=opts)
        self.bucket_name = args.context.name(args.purpose, "bucket")
        self.bucket = aws.s3.Bucket(
            f"{name}-bucket",
            bucket=self.bucket_name,
            tags=args.context.tags(args.purpose, self.bucket_name),
            opts=self.child_opts(),
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-sse",
            bucket=self.bucket.id,
            rules=[
                {
                    "apply_server_side_encryption_by_default": {"sse_algorithm": "aws:kms"},
                    "bucket_key_enabled": True,
                }
            ],
            opts=self.child_opts(),
        )
        aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access-block",
            bucket=self.bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=self.child_opts(),
        )
        aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            bucket=self.bucket.id,
            rule={"object_ownership": "BucketOwnerEnforced"},  # disables ACLs altogether
            opts=self.child_opts(),
        )
        if args.versioning:
            aws.s3.BucketVersioning(
                f"{name}-versioning",
                bucket=self.bucket.id,
                versioning_configuration={"status": "Enabled"},
                opts=self.child_opts(),
            )
        if args.expiry is None and args.versioning:
            aws.s3.BucketLifecycleConfiguration(
                f"{name}-lifecycle",
                bucket=self.bucket.id,
                rules=[
                    {
                        "id": "expire-old-versions",
                        "status": "Enabled",
                        "filter": {},
                        "noncurrent_version_expiration": {"noncurrent_days": args.noncurrent_days},
                        "abort_incomplete_multipart_upload": {"days_after_initiation": 7},
                    }
                ],
                opts=self.child_opts(),
            )
        if args.expiry is not None:
            days = args.expiry
            aws.s3.BucketLifecycleConfiguration(
                f"{name}-lifecycle",
                bucket=self.bucket.id,
                rules=[
                    {
                        "id": "expire-rebuildable-objects",
                        "status": "Enabled",
                        "filter": {},
                        "expiration": {"days": days.current_days},
                        "noncurrent_version_expiration": {"noncurrent_days": days.noncurrent_days},
                        "abort_incomplete_multipart_upload": {
                            "days_after_initiation": days.incomplete_upload_days
                        },
                    }
                ],
                opts=self.child_opts(),
            )
        self.arn: pulumi.Output[str] = self.bucket.arn
        self.register_outputs({"arn": self.arn, "name": self.bucket_name})
