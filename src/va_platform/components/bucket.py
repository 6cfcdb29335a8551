"""VaBucket: an S3 bucket as the Control Tower SCPs demand - encrypted, never public; and
VaBucketNotifications: the functions its new objects start (S3 keeps one notification
configuration per bucket, so every function's ``bucket`` triggers on it go into one)."""

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from va_platform.components.base import VaComponent
from va_platform.components.context import VaContext, purpose_checked
from va_platform.components.lambda_function.triggers import (
    BucketTrigger,
    overlapping_bucket_triggers,
)
from va_platform.components.refs import BucketRef


@dataclass(frozen=True)
class Expiry:
    """Lifecycle of a bucket whose objects are rebuildable (artifacts): days before expiry."""

    # Days before a current object expires.
    current_days: int = 180
    # Days before a replaced or deleted version goes.
    noncurrent_days: int = 30
    # Days before an unfinished multipart upload is aborted.
    incomplete_upload_days: int = 7

    def __post_init__(self) -> None:
        for name in ("current_days", "noncurrent_days", "incomplete_upload_days"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1 day")


@dataclass(frozen=True)
class VaBucketArgs:
    """What a VaBucket is for and how long its objects live."""

    # Environment and owner (names and tags).
    context: VaContext
    # Names the bucket va-<env>-<purpose>-bucket (the name a bucket trigger gives).
    purpose: str
    # Keep replaced and deleted versions (for noncurrent_days, or the expiry's).
    versioning: bool = True
    # For rebuildable objects (artifacts): when they expire; None: current objects are kept.
    expiry: Expiry | None = None
    # A versioned bucket without ``expiry`` keeps its current objects; replaced and deleted
    # versions go after this many days, so versioning protects without growing forever.
    noncurrent_days: int = 90

    def __post_init__(self) -> None:
        purpose_checked("VaBucketArgs", self.context, self.purpose, "bucket")
        if self.noncurrent_days < 1:
            raise ValueError("noncurrent_days must be at least 1 day")


def _lifecycle_rule(args: VaBucketArgs) -> aws.s3.BucketLifecycleConfigurationRuleArgsDict | None:
    """Rebuildable objects (``expiry``) expire; a versioned bucket's replaced versions go after
    ``noncurrent_days``, its current objects stay; an unversioned one keeps everything."""
    if args.expiry is not None:
        days = args.expiry
        return {
            "id": "expire-rebuildable-objects",
            "status": "Enabled",
            "filter": {},
            "expiration": {"days": days.current_days},
            "noncurrent_version_expiration": {"noncurrent_days": days.noncurrent_days},
            "abort_incomplete_multipart_upload": {
                "days_after_initiation": days.incomplete_upload_days
            },
        }
    if args.versioning:
        return {
            "id": "expire-old-versions",
            "status": "Enabled",
            "filter": {},
            "noncurrent_version_expiration": {"noncurrent_days": args.noncurrent_days},
            "abort_incomplete_multipart_upload": {"days_after_initiation": 7},
        }
    return None


class VaBucket(VaComponent):
    """Bucket ``va-<env>-<purpose>-bucket`` with SSE, all public access blocked, ACLs disabled."""

    MODULE = "data"

    def __init__(
        self, name: str, args: VaBucketArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, args.context, opts=opts)
        self.purpose = args.purpose
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
        rule = _lifecycle_rule(args)
        if rule is not None:
            aws.s3.BucketLifecycleConfiguration(
                f"{name}-lifecycle",
                bucket=self.bucket.id,
                rules=[rule],
                opts=self.child_opts(),
            )
        self.arn: pulumi.Output[str] = self.bucket.arn
        self.register_outputs({"arn": self.arn, "name": self.bucket_name})

    def ref(self) -> BucketRef:
        """This bucket as a function's data (``VaLambdaArgs.bucket``)."""
        return BucketRef(arn=self.arn, name=self.bucket_name)


@dataclass(frozen=True)
class BucketTarget:
    """One function's ``bucket`` trigger: where S3 sends the event (the function, or its ``live``
    alias) and the permission that must exist first (S3 checks it when the configuration is put)."""

    function: str  # the function's purpose, for messages and the configuration's id
    # What S3 invokes: VaLambda.invoke_arn (the ``live`` alias when published).
    function_arn: pulumi.Input[str]
    # Which objects (prefix, suffix) and events start it.
    trigger: BucketTrigger
    # The function's permission for S3 (VaLambda.bucket_permissions[purpose]).
    permission: pulumi.Resource


@dataclass(frozen=True)
class VaBucketNotificationsArgs:
    """One bucket and every function its new objects start: a VaBucket of the program, or any
    bucket of the functions' account as a BucketRef (an ``aws.s3.Bucket`` of the program, a
    StackReference's outputs). S3 keeps one notification configuration per bucket, and this one
    replaces whatever the bucket had: give it every function the bucket starts, and put a bucket
    that another stack already notifies through that stack."""

    # Environment and owner (names and tags).
    context: VaContext
    # The bucket whose notification configuration this is (S3 keeps one per bucket).
    bucket: VaBucket | BucketRef
    # One per function bucket trigger on this bucket; overlapping triggers are refused.
    targets: Sequence[BucketTarget]
    # The name the functions' bucket triggers give this bucket (their ``bucket``, the key of its
    # ARN in VaLambdaArgs.bucket_arns); default: a VaBucket's purpose. Required with a BucketRef.
    trigger_name: str | None = None

    @property
    def watched(self) -> str:
        """The name the triggers on this bucket give it."""
        if self.trigger_name is not None:
            return self.trigger_name
        assert isinstance(self.bucket, VaBucket)
        return self.bucket.purpose

    def __post_init__(self) -> None:
        if self.trigger_name is None and not isinstance(self.bucket, VaBucket):
            raise ValueError(
                "VaBucketNotificationsArgs: a BucketRef needs trigger_name, the name its "
                "functions' bucket triggers give it (their `bucket`)"
            )
        if not self.targets:
            raise ValueError(f"bucket {self.watched}: a notification needs a bucket trigger")
        other = sorted({t.trigger.bucket for t in self.targets} - {self.watched})
        if other:
            raise ValueError(
                f"bucket {self.watched}: triggers for bucket {', '.join(other)} belong to "
                "that bucket's notification"
            )
        overlapping = overlapping_bucket_triggers([(t.function, t.trigger) for t in self.targets])
        if overlapping:
            raise ValueError("; ".join(overlapping))


class VaBucketNotifications(VaComponent):
    """The bucket's one S3 notification: each function's object-created events and key
    filters, sent once the functions' permissions exist."""

    MODULE = "data"

    def __init__(
        self, name: str, args: VaBucketNotificationsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, args.context, opts=opts)
        seen: dict[str, int] = {}
        configurations = []
        for target in args.targets:
            seen[target.function] = seen.get(target.function, 0) + 1
            trigger = target.trigger
            configurations.append(
                aws.s3.BucketNotificationLambdaFunctionArgs(
                    id=f"{target.function}-{seen[target.function]}",
                    lambda_function_arn=target.function_arn,
                    events=list(trigger.events),
                    filter_prefix=trigger.prefix or None,
                    filter_suffix=trigger.suffix or None,
                )
            )
        self.notification = aws.s3.BucketNotification(
            f"{name}-notification",
            bucket=args.bucket.bucket.id if isinstance(args.bucket, VaBucket) else args.bucket.name,
            lambda_functions=configurations,
            opts=self.child_opts(depends_on=[t.permission for t in args.targets]),
        )
        watched = args.bucket
        self.register_outputs(
            {"bucket": watched.bucket_name if isinstance(watched, VaBucket) else watched.name}
        )
