"""The VA naming, tagging, region and runtime conventions, defined once for both sides.

The component library builds names and tags with this module, and the va-guard policy pack
checks resources against the same rules. Only what both sides use lives here: what the pack
alone needs (resource types, exemptions, network and alarm tables) lives beside the rules that
use it. Pure functions over plain data (no Pulumi imports, no AWS calls), so the components
produce by construction what the pack demands, and the pack is published on its own.

Defined once, in the component library (``src/va_platform/standard.py``); the va-guard pack ships
a verbatim copy (``policies/va_guard/standard.py``, written by ``make vendor-standard``), so it
installs and runs without the library. A test fails while the two differ.

Sources: the VA Lambda runtime and configuration standard (names ``va-<env>-<purpose>-<type>``,
e.g. ``va-prod-example-lambda``, ``va-prod-lambda-sg``; secrets ``va/<env>/<name>``, e.g.
``va/prod/openai-api-key``; five tags ``Name``, ``Environment``, ``Purpose``, ``Project``,
``Owner`` on every taggable resource; the Control Tower SCP restricting resources to
eu-central-1) and AWS's Lambda runtime deprecation calendar.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from . import catalogue

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


# --- identities: who may change what ----------------------------------------------------------
# Every role the stack creates for its workloads (execution, schedule and agent roles) carries
# this administrator-owned managed policy as its permissions boundary; the deploy role may
# create or change a role only with it attached, and never remove it.
BOUNDARY_PURPOSE = "workload"
BOUNDARY_TYPE = "boundary"
# The identities CI runs as (GitHub OIDC roles): created and changed by an administrator only,
# never by a deploy session, and they carry no workload boundary.
IDENTITY_PURPOSES = ("ghdeploy", "ghpreview")


def boundary_name(env: str) -> str:
    """``va-<env>-workload-boundary``: the permissions boundary of the workload roles."""
    return physical_name(env, BOUNDARY_PURPOSE, BOUNDARY_TYPE)


def boundary_arn(env: str, account: str) -> str:
    return f"arn:aws:iam::{account}:policy/{boundary_name(env)}"


def is_identity_role(name: str) -> bool:
    """A CI identity role (``va-<env>-ghdeploy-role``, ``va-<env>-ghpreview-role``)."""
    match = PHYSICAL_NAME_RE.match(name)
    if match is None:
        return False
    return match["purpose"] in IDENTITY_PURPOSES and match["type"] == "role"


def secret_name(env: str, leaf: str) -> str:
    """``va/<env>/<name>``, the Secrets Manager name of a VA secret."""
    validate_environment(env)
    return f"{NAME_PREFIX}/{env}/{validate_secret_leaf(leaf)}"


def validate_secret_leaf(leaf: str) -> str:
    """The ``<name>`` of ``va/<env>/<name>``."""
    if not isinstance(leaf, str) or not SECRET_LEAF_RE.match(leaf) or len(leaf) > 64:
        raise ValueError(
            f"secret name {leaf!r} does not follow the convention va/<env>/<name>: <name> is "
            "lowercase letters and digits joined by '-', at most 64 characters "
            "(e.g. 'openai-api-key')"
        )
    return leaf


def artifact_key(function_name: str, revision: str) -> str:
    """The VA standard's key, e.g. ``va-prod-contentgen-lambda-<commitid>.zip``."""
    return f"{function_name}-{validate_revision(revision)}.zip"


REVISION_RE = re.compile(r"[0-9a-z][0-9a-z-]{0,63}")


def validate_revision(revision: str) -> str:
    """What names an artifact or an image: a commit id, or one with a content-hash suffix."""
    if not isinstance(revision, str) or not REVISION_RE.fullmatch(revision):
        raise ValueError(f"artifact revision {revision!r}: a commit id (lowercase hex and '-')")
    return revision


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
    """The five tags every taggable VA resource carries (the VA tagging rule)."""
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


# --- Least privilege: one check for every Allow statement, on both sides ------------------------
# Whether an action can be scoped, and to which ARNs, is AWS's to say: ``catalogue`` reads its
# Service Authorization Reference. The pack reports broad problems as violations and the others
# as notices; the components refuse to build a statement with a broad problem.


@dataclass(frozen=True)
class StatementProblem:
    """What is wrong with an Allow statement, as a sentence.

    ``broad``: it grants more than it names (least privilege broken). Otherwise it grants less
    than it says: AWS would deny what it lists (an unknown action, an action scoped to ARNs
    that AWS authorizes only on '*', ARNs of the wrong type).
    """

    message: str
    broad: bool


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [v for v in value if isinstance(v, str)]
    return []


def is_service_wildcard(action: str) -> bool:
    """``*``, ``iam:*`` and their spellings (``iam:?*``, ``s3:*?``): every action of a service."""
    service, colon, name = action.partition(":")
    return action.strip("*?") == "" or bool(service and colon and not name.strip("*?"))


def wildcards_location(resource: str) -> bool:
    """An ARN whose region or account is a wildcard and whose resource part is one too
    (``arn:aws:logs:*:*:*``): as broad as ``*``. ``arn:aws:bedrock:*::foundation-model/m``
    (one model, any region) is not."""
    fields = catalogue.arn_fields(resource)
    if fields is None:
        return False
    wild = [any(c in f for c in "*?") for f in fields]
    # S3 (and IAM's global) ARNs leave region and account empty: ``arn:aws:s3:::*`` is every
    # bucket of every account, as broad as '*' when the resource part is nothing but wildcards.
    every_resource = not fields[5].replace("*", "").replace("?", "").replace("/", "")
    global_name = not fields[3] and not fields[4]
    return (wild[3] or wild[4] or (global_name and every_resource)) and wild[5]


def _described(name: str, granted: tuple[catalogue.Action, ...]) -> str:
    """An action for a message: a wildcard says what it covers, an unknown action says so."""
    if not granted:
        what = "a wildcard that matches no action" if catalogue.is_wildcard(name) else "unknown"
        return (
            f"{name} ({what} in AWS's Service Authorization Reference, {catalogue.source()}; "
            "check the spelling)"
        )
    if not catalogue.is_wildcard(name):
        return name
    scoped = [a.name for a in granted if a.takes_resources]
    return (
        f"{name} (a wildcard over {len(granted)} actions, {len(scoped)} of which take resource "
        f"ARNs, e.g. {', '.join(scoped[:3])})"
    )


def _granted(name: str) -> tuple[catalogue.Action, ...]:
    if catalogue.is_wildcard(name):
        return catalogue.matching(name)
    found = catalogue.action(name)
    return (found,) if found is not None else ()


def allow_statement(
    sid: str,
    actions: Sequence[str],
    resources: Sequence[str],
    condition: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """An Allow statement as the VA policies write it: actions sorted, one resource as a string."""
    statement: dict[str, Any] = {
        "Sid": sid,
        "Effect": "Allow",
        "Action": sorted(actions),
        "Resource": sorted(resources) if len(resources) > 1 else resources[0],
    }
    if condition is not None:
        statement["Condition"] = dict(condition)
    return statement


def statement_problems(statement: object, where: str = "statement") -> list[StatementProblem]:
    """What breaks least privilege (or would be denied) in one IAM policy statement.

    Deny statements and anything that is not a statement are not judged. A statement whose
    ``Resource`` is missing or holds values not known yet is judged on its actions only.
    """
    if not isinstance(statement, Mapping) or statement.get("Effect") != "Allow":
        return []
    sid = statement.get("Sid")
    label = f"{where}: Allow statement" + (f" {sid!r}" if isinstance(sid, str) else "")
    wide, granted = _statement_actions(statement)
    resources, known = _statement_resources(statement)
    problems = [*_negation_problems(statement, label), *_service_wildcard_problems(wide, label)]
    star = _as_broad_as_star(resources)
    if star is not None:
        return problems + _star_problems(granted, star, label)
    return problems + [
        problem
        for name, found in granted.items()
        if (problem := _scope_problem(name, found, resources, known, label)) is not None
    ]


def _statement_actions(
    statement: Mapping[str, Any],
) -> tuple[list[str], dict[str, tuple[catalogue.Action, ...]]]:
    """The statement's service wildcards (``s3:*``), and what each other action grants."""
    actions = _strings(statement.get("Action"))
    wide = [a for a in actions if is_service_wildcard(a)]
    return wide, {a: _granted(a) for a in actions if a not in wide}


def _as_broad_as_star(resources: list[str]) -> str | None:
    """The first resource that is '*' or wildcards the region or account, if any."""
    return next((r for r in resources if r == "*" or wildcards_location(r)), None)


def _statement_resources(statement: Mapping[str, Any]) -> tuple[list[str], bool]:
    """The statement's resources that are strings, and whether every resource is one (known)."""
    raw = statement.get("Resource")
    resources = _strings(raw)
    known = bool(resources) and len(resources) == len(
        raw if isinstance(raw, list | tuple) else [raw]
    )
    return resources, known


def _negation_problems(statement: Mapping[str, Any], label: str) -> list[StatementProblem]:
    return [
        StatementProblem(
            f"{label} uses {negated}, which grants everything not listed; list what it allows",
            broad=True,
        )
        for negated in ("NotAction", "NotResource")
        if negated in statement
    ]


def _service_wildcard_problems(wide: list[str], label: str) -> list[StatementProblem]:
    if not wide:
        return []
    return [
        StatementProblem(
            f"{label} grants {', '.join(wide)}; name the actions the workload calls "
            "(e.g. dynamodb:PutItem)",
            broad=True,
        )
    ]


def _star_problems(
    granted: Mapping[str, tuple[catalogue.Action, ...]], star: str, label: str
) -> list[StatementProblem]:
    """Actions AWS scopes to resource types, granted on '*' or an ARN as broad."""
    scoped = [
        _described(a, g) for a, g in granted.items() if not g or any(x.takes_resources for x in g)
    ]
    if not scoped:
        return []
    on = (
        "Resource '*'"
        if star == "*"
        else f"Resource {star!r}, which wildcards the region or account (as broad as '*')"
    )
    return [
        StatementProblem(
            f"{label} grants {'; '.join(scoped)} on {on}; AWS's Service Authorization "
            "Reference lists resource types for these actions, so name the exact ARNs",
            broad=True,
        )
    ]


def _scope_problem(
    name: str,
    found: tuple[catalogue.Action, ...],
    resources: list[str],
    known: bool,
    label: str,
) -> StatementProblem | None:
    """One action on named resources: unknown to AWS, scoped where AWS takes no ARN, or scoped
    to ARNs of none of its resource types."""
    if not found:
        return StatementProblem(f"{label} grants {_described(name, found)}", False)
    if catalogue.is_wildcard(name) or not known:
        return None
    if not found[0].takes_resources:
        return StatementProblem(
            f"{label} scopes {name} to ARNs, but AWS's Service Authorization Reference "
            "lists no resource types for it, so AWS denies it on any ARN; grant it on "
            "Resource '*' in a statement of its own",
            broad=False,
        )
    if not any(catalogue.arn_matches(f, r) for f in found[0].arn_formats for r in resources):
        return StatementProblem(
            f"{label} scopes {name} to {', '.join(resources)}, none of which is an ARN it "
            f"takes ({', '.join(found[0].arn_formats)}); AWS would deny it",
            broad=False,
        )
    return None
