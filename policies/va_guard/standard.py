"""The VA naming, tagging, region and runtime conventions, defined once for both sides.

The component library builds names and tags with this module, and the va-guard policy pack
checks resources against the same rules. Only what both sides use lives here: what the pack
alone needs (resource types, exemptions, network and alarm tables) lives beside the rules that
use it. Pure functions over plain data (no Pulumi imports, no AWS calls), so the components
produce by construction what the pack demands, and the pack is published on its own.

Sources: seed 000 (naming examples ``va-prod-example-lambda``, ``va-prod-lambda-sg``,
``va/prod/openai-api-key``; tags ``Name``, ``Environment``, ``Purpose``, ``Project``, ``Owner``;
the Control Tower SCP restricting resources to eu-central-1) and AWS's Lambda runtime deprecation
calendar.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping
from datetime import date

PROJECT = "VirtualAgentics"
NAME_PREFIX = "va"
ENVIRONMENTS: tuple[str, ...] = ("dev", "test", "prod")
ALLOWED_REGIONS: tuple[str, ...] = ("eu-central-1",)
REQUIRED_TAGS: tuple[str, ...] = ("Name", "Environment", "Purpose", "Project", "Owner")

# A purpose is one lowercase token so that ``va-<env>-<purpose>-<type>`` parses without
# ambiguity even when the type has several parts (``lambda-role``, ``errors-alarm``).
PURPOSE_RE = re.compile(r"^[a-z][a-z0-9]{1,31}$")
TYPE_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SECRET_LEAF_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
PHYSICAL_NAME_RE = re.compile(
    r"^va-(?P<env>[a-z0-9]+)-(?P<purpose>[a-z][a-z0-9]{1,31})-(?P<type>[a-z0-9]+(?:-[a-z0-9]+)*)$"
)
SECRET_NAME_RE = re.compile(r"^va/(?P<env>[a-z0-9]+)/(?P<name>[a-z0-9]+(?:-[a-z0-9]+)*)$")
LOG_GROUP_PREFIX = "/aws/lambda/"

# AWS limits on the physical name, by the name's type suffix. A name longer than its limit is
# rejected by AWS at create time, after other resources already exist; checking it here turns
# that half-created stack into an error before anything is registered.
NAME_MAX_LENGTH: Mapping[str, int] = {
    "lambda": 64,
    "lambda-role": 64,
    "dlq": 80,
    "bucket": 63,
    "layer": 140,
    "sg": 255,
    "dynamodb": 255,
    "topic": 256,
    "ecr": 256,
}
DEFAULT_NAME_MAX_LENGTH = 255

# AWS tag values: letters, digits, spaces and + - = . _ : / @, at most 256 characters.
TAG_VALUE_RE = re.compile(r"^[\w .:/=+\-@]{1,256}$")

DEFAULT_RUNTIME = "python3.11"
# AWS's published deprecation dates (block-function-create follows later; deprecation is the day
# security patches stop, which is what matters to us).
RUNTIME_DEPRECATION: Mapping[str, date] = {
    "python3.9": date(2025, 12, 15),
    "python3.10": date(2026, 10, 31),
    "python3.11": date(2027, 6, 30),
    "python3.12": date(2028, 10, 31),
    "python3.13": date(2029, 6, 30),
    "python3.14": date(2029, 6, 30),
    "provided.al2": date(2026, 6, 30),
    "provided.al2023": date(2029, 6, 30),
}
CUSTOM_RUNTIME_PREFIX = "provided"

MEMORY_MB_RANGE = (128, 10240)
TIMEOUT_S_RANGE = (1, 300)
DEFAULT_MEMORY_MB = 256
DEFAULT_TIMEOUT_S = 30


def validate_environment(env: str) -> str:
    if env not in ENVIRONMENTS:
        raise ValueError(
            f"environment {env!r} is not a VA environment; allowed: {', '.join(ENVIRONMENTS)}"
        )
    return env


def validate_region(region: str) -> str:
    if region not in ALLOWED_REGIONS:
        raise ValueError(
            f"region {region!r} is not allowed (Control Tower SCP); allowed: "
            f"{', '.join(ALLOWED_REGIONS)}"
        )
    return region


def validate_purpose(purpose: str) -> str:
    if not isinstance(purpose, str) or not PURPOSE_RE.match(purpose):
        raise ValueError(
            f"purpose {purpose!r} does not follow the naming convention: one lowercase token of "
            "2-32 letters and digits starting with a letter (e.g. 'contentgen', 'core')"
        )
    return purpose


def physical_name(env: str, purpose: str, type_: str) -> str:
    """``va-<env>-<purpose>-<type>``, checked against the AWS length limit for its type."""
    validate_environment(env)
    validate_purpose(purpose)
    if not TYPE_RE.match(type_):
        raise ValueError(
            f"name type {type_!r} must be lowercase tokens joined by '-' (e.g. 'lambda', "
            "'lambda-role', 'dlq')"
        )
    name = f"{NAME_PREFIX}-{env}-{purpose}-{type_}"
    limit = NAME_MAX_LENGTH.get(type_, DEFAULT_NAME_MAX_LENGTH)
    if len(name) > limit:
        raise ValueError(
            f"name {name!r} is {len(name)} characters; AWS allows at most {limit} for a "
            f"'{type_}' - shorten the purpose {purpose!r}"
        )
    return name


def secret_name(env: str, leaf: str) -> str:
    """``va/<env>/<name>``, the Secrets Manager name of a VA secret."""
    validate_environment(env)
    if not isinstance(leaf, str) or not SECRET_LEAF_RE.match(leaf) or len(leaf) > 64:
        raise ValueError(
            f"secret name {leaf!r} does not follow the convention va/<env>/<name>: <name> is "
            "lowercase letters and digits joined by '-', at most 64 characters "
            "(e.g. 'openai-api-key')"
        )
    return f"{NAME_PREFIX}/{env}/{leaf}"


def artifact_key(function_name: str, revision: str) -> str:
    """Seed 000: ``va-prod-contentgen-lambda-<commitid>.zip`` in the artifacts bucket."""
    if not re.fullmatch(r"[0-9a-z][0-9a-z-]{0,63}", revision):
        raise ValueError(f"artifact revision {revision!r}: a commit id (lowercase hex and '-')")
    return f"{function_name}-{revision}.zip"


def log_group_name(function_name: str) -> str:
    """Where Lambda writes a function's logs; creating it ourselves keeps retention under IaC."""
    return f"{LOG_GROUP_PREFIX}{function_name}"


def validate_tag_value(key: str, value: str) -> str:
    if not isinstance(value, str) or not TAG_VALUE_RE.match(value):
        raise ValueError(
            f"tag {key}={value!r} is not a valid AWS tag value: 1-256 characters of letters, "
            "digits, spaces and + - = . _ : / @"
        )
    return value


def standard_tags(env: str, purpose: str, name: str, owner: str) -> dict[str, str]:
    """The five tags every taggable VA resource carries (seed 000 §8)."""
    validate_environment(env)
    validate_purpose(purpose)
    tags = {
        "Name": name,
        "Environment": env,
        "Purpose": purpose,
        "Project": PROJECT,
        "Owner": owner,
    }
    for key, value in tags.items():
        validate_tag_value(key, value)
    return tags


def runtime_is_deprecated(runtime: str, today: date) -> bool:
    deprecated_on = RUNTIME_DEPRECATION.get(runtime)
    return deprecated_on is not None and today >= deprecated_on


def supported_runtimes(today: date) -> tuple[str, ...]:
    return tuple(r for r in RUNTIME_DEPRECATION if not runtime_is_deprecated(r, today))


# Values that are credentials whatever the key is called. Patterns follow the published formats
# (AWS access key ids, OpenAI/Anthropic ``sk-`` keys, PEM private keys).
_SECRET_VALUE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("an AWS access key id", re.compile(r"\b(?:AKIA|ASIA|AIDA|AROA)[A-Z0-9]{16}\b")),
    ("an 'sk-' API key", re.compile(r"\bsk-[A-Za-z0-9_\-]{16,}")),
    ("a PEM private key", re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----")),
)
HIGH_ENTROPY_MIN_LENGTH = 20
# Measured on 25,000 ``secrets.token_urlsafe`` tokens: 88% of 20-character ones and 99% of
# 64-character ones are caught; CamelCase identifiers, UUIDs and hex digests are not.
HIGH_ENTROPY_MIN_RATIO = 0.75
WORDLIKE_MAX_FRACTION = 0.5
_WORDLIKE_RE = re.compile(r"[A-Z]?[a-z]{3,}|[A-Z]{4,}")


def shannon_entropy(value: str) -> float:
    counts = Counter(value)
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in counts.values()) if n else 0.0


def looks_random(value: str) -> bool:
    """A token of mixed case and digits, near-maximal entropy, and few word-like letter runs.

    Entropy alone cannot tell ``ContentGenerationLambdaHandler`` from a key (short strings cap it
    at log2(length)); random tokens differ in having almost no runs such as ``Name`` or ``prod``.
    """
    n = len(value)
    if n < HIGH_ENTROPY_MIN_LENGTH or any(c.isspace() for c in value):
        return False
    if not (
        any(c.islower() for c in value)
        and any(c.isupper() for c in value)
        and any(c.isdigit() for c in value)
    ):
        return False
    if shannon_entropy(value) / math.log2(n) < HIGH_ENTROPY_MIN_RATIO:
        return False
    wordlike = sum(len(m) for m in _WORDLIKE_RE.findall(value))
    return wordlike / n < WORDLIKE_MAX_FRACTION


def secret_value_kind(value: object) -> str | None:
    """Why ``value`` looks like a credential (e.g. 'an AWS access key id'), or None.

    ARNs, URLs and paths are references, not values, and are never judged by entropy.
    """
    if not isinstance(value, str):
        return None
    for kind, pattern in _SECRET_VALUE_PATTERNS:
        if pattern.search(value):
            return kind
    if value.startswith(("arn:", "/")) or "://" in value:
        return None
    return "a high-entropy token" if looks_random(value) else None


# --- What the va-guard pack checks beyond names and tags (seed 000 §8, the appendix SCPs) -------

# Actions that AWS's Service Authorization Reference lists with no resource types: they can only
# be granted on "*". Any other action must name its resources.
STAR_RESOURCE_ACTIONS: frozenset[str] = frozenset(
    {
        "ec2:DescribeNetworkInterfaces",  # Lambda VPC access; only works with "Resource": "*"
        "ec2:DescribeSubnets",
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeVpcs",
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "xray:GetSamplingRules",
        "xray:GetSamplingTargets",
        "cloudwatch:PutMetricData",
        "ce:GetCostAndUsage",  # Cost Explorer has no resource types at all
        "ce:GetCostForecast",
        "ce:GetDimensionValues",
        # What a deploy role needs besides the scoped actions (components/github/deploy_policy.py).
        "ec2:DescribeVpcAttribute",
        "ec2:DescribeRouteTables",
        "ec2:DescribeInternetGateways",
        "ec2:DescribeAddresses",
        "ec2:DescribeAddressesAttribute",
        "ec2:DescribeNatGateways",
        "ec2:DescribeSecurityGroupRules",
        "ec2:DescribeVpcEndpoints",
        "ec2:DescribePrefixLists",
        "ec2:DescribeAvailabilityZones",
        "ec2:DescribeTags",
        "kms:CreateKey",  # a key has no ARN before it exists
        "kms:ListAliases",
        "logs:DescribeLogGroups",
        "ecr:GetAuthorizationToken",
    }
)
# AWS managed policies that grant far more than one workload needs.
FORBIDDEN_MANAGED_POLICIES: tuple[str, ...] = (
    "AdministratorAccess",
    "PowerUserAccess",
    "IAMFullAccess",
)
