"""``kind: bucket``: objects created in a bucket run the function: a bucket of the program or of
another stack, in the function's account, named by the key of its ARN in
``VaLambdaArgs.bucket_arns``. S3 may invoke it for exactly that bucket (``sourceArn`` and
``sourceAccount``); the notification itself is the bucket's (S3 keeps one per bucket, so every
function's triggers on it go into one: VaBucketNotifications), and filters S3 would find
ambiguous are refused."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from itertools import combinations
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Final, Literal
from urllib.parse import quote_plus

import pulumi_aws as aws
from pydantic import AfterValidator, Field, model_validator

from va_platform import standard
from va_platform.components.lambda_function.triggers.base import (
    PlanLines,
    TriggerKind,
    account_of,
    qualifier,
)
from va_platform.components.model import VaModel, is_known

if TYPE_CHECKING:
    from va_platform.components.lambda_function.component import VaLambda, VaLambdaArgs

# S3's object-created event types; the wildcard covers the others.
OBJECT_CREATED: Final = "s3:ObjectCreated:*"
ObjectCreatedEvent = Literal[
    "s3:ObjectCreated:*",
    "s3:ObjectCreated:Put",
    "s3:ObjectCreated:Post",
    "s3:ObjectCreated:Copy",
    "s3:ObjectCreated:CompleteMultipartUpload",
]
KEY_FILTER_MAX_CHARS = 1024  # S3: an object key is at most 1,024 bytes
# S3 matches key filters against the URL-encoded key: its safe characters as they are (letters,
# digits, !-_.'() and /; '*' is refused as a wildcard), a space as '+', others as %XX.
# An S3 bucket's ARN (bucket names: 3-63 of lowercase letters, digits, '.' and '-').
BUCKET_ARN_RE = re.compile(r"^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
KEY_FILTER_RE = re.compile(r"^(?:[A-Za-z0-9!_.'()/+-]|%[0-9A-Fa-f]{2})*$")


class BucketTrigger(VaModel):
    """Runs the function for each object created in a bucket (an S3 notification)."""

    kind: Literal["bucket"] = Field(description="`bucket`.")
    bucket: Annotated[str, AfterValidator(standard.validate_purpose)] = Field(
        default="content",
        description="The bucket, by the name its ARN is given under in VaLambdaArgs.bucket_arns "
        "(any bucket of the function's account: a VaBucket's, a bucket of the program, one "
        "read from a StackReference). In the stack config, the stack's bucket by purpose: "
        "`content` (va-<env>-content-bucket); the artifacts bucket holds the stack's own code "
        "and is refused.",
    )
    prefix: str = Field(
        default="",
        max_length=KEY_FILTER_MAX_CHARS,
        description="Only keys that start with this (e.g. `uploads/`), URL-encoded as S3 "
        "compares it (`year%3D2024/` for `year=2024/`, a space as `+`); empty: every key.",
    )
    suffix: str = Field(
        default="",
        max_length=KEY_FILTER_MAX_CHARS,
        description="Only keys that end with this (e.g. `.json`), URL-encoded as the prefix; "
        "empty: every key.",
    )
    events: tuple[ObjectCreatedEvent, ...] = Field(
        default=(OBJECT_CREATED,),
        description="Object-created event types: `s3:ObjectCreated:*` (every way), or some of "
        "`:Put`, `:Post`, `:Copy`, `:CompleteMultipartUpload` (at least one).",
    )

    @model_validator(mode="after")
    def _filters(self) -> BucketTrigger:
        for key, value in (("prefix", self.prefix), ("suffix", self.suffix)):
            if "*" in value or "?" in value:
                raise ValueError(
                    f"{key} {value!r}: S3 key filters are literal text, not wildcards (a "
                    f"{key} of '*.json' matches no key); write e.g. "
                    f"{'uploads/' if key == 'prefix' else '.json'!r}"
                )
            if not KEY_FILTER_RE.match(value):
                encoded = quote_plus(value, safe="/!'()").replace("~", "%7E")
                raise ValueError(
                    f"{key} {value!r}: S3 compares key filters with the URL-encoded key, so this "
                    f"one never matches; write it URL-encoded, {encoded!r} (a space as '+', "
                    "characters other than letters, digits, !-_.'() and / as %XX)"
                )
        if not self.events:
            raise ValueError(f"events: list at least one, e.g. {OBJECT_CREATED}")
        if len(set(self.events)) != len(self.events):
            raise ValueError(f"events {', '.join(self.events)}: each event type may appear once")
        if OBJECT_CREATED in self.events and len(self.events) > 1:
            raise ValueError(
                f"events: {OBJECT_CREATED} already covers {', '.join(self.events[1:])}; "
                "list either the wildcard or the types you want"
            )
        return self

    def overlaps(self, other: BucketTrigger) -> bool:
        """Whether S3 would find the two ambiguous on one bucket ("Configuration is ambiguously
        defined"): a common event type, and one object key that both filters match (one prefix
        starts the other and one suffix ends the other)."""
        return (
            self.bucket == other.bucket
            and (self.prefix.startswith(other.prefix) or other.prefix.startswith(self.prefix))
            and (self.suffix.endswith(other.suffix) or other.suffix.endswith(self.suffix))
            and any(_events_overlap(a, b) for a in self.events for b in other.events)
        )

    def described(self) -> str:
        keys = " ".join(
            f"{k} {v!r}" for k, v in (("prefix", self.prefix), ("suffix", self.suffix)) if v
        )
        return f"{', '.join(self.events)} of {keys or 'every key'}"


def _events_overlap(a: str, b: str) -> bool:
    return a == b or OBJECT_CREATED in (a, b)


def overlapping_bucket_triggers(owned: Sequence[tuple[str, BucketTrigger]]) -> list[str]:
    """One message per pair of ``(function, trigger)`` that S3 would refuse together on one
    bucket, naming both functions; empty when every key and event goes to one function."""
    return [
        f"bucket {a.bucket}: {first}'s trigger ({a.described()}) and {second}'s "
        f"({b.described()}) match the same objects; S3 refuses overlapping filters on one bucket "
        "('Configuration is ambiguously defined'): give them prefixes or suffixes no key "
        "matches both of, or different event types"
        for (first, a), (second, b) in combinations(owned, 2)
        if a.overlaps(b)
    ]


def _notification_line(c: Mapping[str, Any], shown: Any) -> str:
    """``<events> of <prefix>*<suffix> -> <function>``, one line per function notified."""
    keys = f"{c.get('filterPrefix') or ''}*{c.get('filterSuffix') or ''}"
    events = ", ".join(c.get("events") or [])
    return f"{events} of {keys} -> {shown(c.get('lambdaFunctionArn'))}"


def _notification_lines(i: Mapping[str, Any], shown: Any) -> dict[str, Any]:
    return {"sends": [_notification_line(c, shown) for c in i.get("lambdaFunctions") or []]}


class BucketKind(TriggerKind[BucketTrigger]):
    """A permission for S3 per bucket named (this account's bucket only); the bucket's one
    notification (VaBucketNotifications) gathers every function's bucket triggers."""

    model = BucketTrigger
    attributes = ("bucket_permissions",)
    # The notification is VaBucketNotifications', one per bucket for every function's triggers.
    plan: ClassVar[Mapping[str, PlanLines]] = {
        "aws:s3/bucketNotification:BucketNotification": _notification_lines
    }
    permission_unit = "buckets"

    def check(self, triggers: Sequence[BucketTrigger], owner: str) -> None:
        overlapping = overlapping_bucket_triggers([(owner, t) for t in triggers])
        if overlapping:
            raise ValueError("triggers: " + "; ".join(overlapping))

    def invoke_permissions(self, triggers: Sequence[BucketTrigger]) -> int:
        return len({t.bucket for t in triggers})

    def check_args(self, triggers: Sequence[BucketTrigger], args: VaLambdaArgs) -> None:
        named = {t.bucket for t in triggers}
        unknown = sorted(named - set(args.bucket_arns))
        if unknown:
            # A trigger that names no bucket names the stack config's (BucketTrigger.bucket's
            # default): say so, as the caller never wrote it.
            defaulted = any("bucket" not in t.model_fields_set for t in triggers)
            default = BucketTrigger.model_fields["bucket"].default
            raise ValueError(
                f"{args.spec.purpose}: bucket triggers name {', '.join(unknown)}"
                + (
                    f" ({default!r} is BucketTrigger.bucket's default, for the stack config's "
                    "bucket: set BucketTrigger.bucket to the key of your bucket's ARN)"
                    if defaulted and default in unknown
                    else ""
                )
                + f"; give the ARN of each in bucket_arns (given: "
                f"{', '.join(sorted(args.bucket_arns)) or 'none'})"
            )
        # A literal is checked now (an Output by va-guard once known): S3 names the bucket as
        # the permission's sourceArn, never a prefix or an object.
        wrong = sorted(
            name
            for name in named
            if is_known(arn := args.bucket_arns[name]) and not BUCKET_ARN_RE.match(arn)
        )
        if wrong:
            raise ValueError(
                f"{args.spec.purpose}: bucket_arns[{', '.join(wrong)}] is not an S3 bucket ARN "
                "(arn:aws:s3:::<bucket name>, no key or prefix)"
            )

    def build(self, fn: VaLambda, triggers: Sequence[BucketTrigger]) -> dict[str, Any]:
        """S3 may invoke the function (its alias) for each bucket its bucket triggers name, and
        for this account's bucket only (sourceArn and sourceAccount). The notification is the
        bucket's (VaBucketNotifications): S3 keeps one per bucket for every function."""
        buckets = sorted({t.bucket for t in triggers})
        if not buckets:
            return {"bucket_permissions": {}}
        account = account_of(fn)
        permissions = {
            bucket: aws.lambda_.Permission(
                f"{fn._name}-{bucket}-bucket-permission",
                function=fn.function.name,
                qualifier=qualifier(fn),
                action="lambda:InvokeFunction",
                principal="s3.amazonaws.com",
                source_arn=fn._args.bucket_arns[bucket],
                source_account=account,
                opts=fn.child_opts(),
            )
            for bucket in buckets
        }
        return {"bucket_permissions": permissions}


BUCKET = BucketKind()
