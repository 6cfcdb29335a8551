"""va-naming: physical names follow ``va-<env>-<purpose>-<type>`` (the VA naming rule)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from . import standard
from .framework import Config, Family, Finding, Resource, pattern, string_list, unchecked, violation
from .props import UNKNOWN
from .tables import LOG_GROUP_TYPE

SETTINGS = {
    "environments": string_list(standard.ENVIRONMENTS, "Environments a name may carry."),
    "namePattern": pattern(
        standard.PHYSICAL_NAME_RE.pattern,
        "Regex for physical names, with named groups env, purpose and type.",
    ),
    "secretNamePattern": pattern(
        standard.SECRET_NAME_RE.pattern, "Regex for Secrets Manager names, with a named group env."
    ),
}
EXAMPLE = "va-prod-example-lambda"
# The resource property that holds a resource's own physical name, and the last token the
# ``<type>`` part of its name must end with (seed examples: ``-lambda``, ``-sg``, ``-dynamodb``,
# ``-bucket``). Resources of other types carry their name in the ``Name`` tag only.
NAMED_TYPES: dict[str, tuple[str, tuple[str, ...]]] = {
    "aws:lambda/function:Function": ("name", ("lambda",)),
    "aws:lambda/layerVersion:LayerVersion": ("layerName", ("layer",)),
    "aws:iam/role:Role": ("name", ("role",)),
    "aws:iam/rolePolicy:RolePolicy": ("name", ("policy",)),
    "aws:iam/policy:Policy": ("name", ("policy", "boundary")),
    "aws:ec2/securityGroup:SecurityGroup": ("name", ("sg",)),
    "aws:sqs/queue:Queue": ("name", ("dlq", "queue")),
    "aws:sns/topic:Topic": ("name", ("topic",)),
    "aws:dynamodb/table:Table": ("name", ("dynamodb", "table")),
    "aws:s3/bucket:Bucket": ("bucket", ("bucket",)),
    "aws:s3/bucketV2:BucketV2": ("bucket", ("bucket",)),
    "aws:cloudwatch/metricAlarm:MetricAlarm": ("name", ("alarm",)),
    "aws:ecr/repository:Repository": ("name", ("ecr", "repo")),
    "aws:kms/alias:Alias": ("name", ("key",)),
}
SECRET_TYPE = "aws:secretsmanager/secret:Secret"
KMS_ALIAS_PREFIX = "alias/"
# Prefix properties a resource may set instead of a full name (AWS appends a unique suffix).
PREFIX_PROPERTIES = ("namePrefix", "bucketPrefix")


def _name_problem(name: str, suffixes: tuple[str, ...], config: Config) -> str | None:
    m = re.match(config["namePattern"], name)
    if m is None:
        return f"does not follow va-<env>-<purpose>-<type> (e.g. {EXAMPLE!r})"
    groups = m.groupdict()
    env = groups.get("env")
    if env is not None and env not in config["environments"]:
        return f"has environment {env!r}; allowed: {', '.join(config['environments'])}"
    type_ = groups.get("type")
    if type_ is not None and suffixes and type_.rsplit("-", 1)[-1] not in suffixes:
        return f"ends in {type_!r}; for this resource type it must end in -{'/-'.join(suffixes)}"
    return None


def _env_matches_tag(name_env: str | None, r: Resource) -> Iterator[Finding]:
    tag_env = r.tags.get("Environment")
    if name_env and isinstance(tag_env, str) and tag_env and tag_env != name_env:
        yield violation(
            f"the name says environment {name_env!r} but the Environment tag says {tag_env!r}; "
            "a resource belongs to one environment - fix whichever is wrong"
        )


def _check_physical(
    r: Resource, prop: str, name: str, suffixes: tuple[str, ...], config: Config
) -> Iterator[Finding]:
    shown = name
    if r.type == "aws:kms/alias:Alias":
        if not name.startswith(KMS_ALIAS_PREFIX):
            yield violation(f"{prop}={name!r} must start with 'alias/'")
            return
        name = name[len(KMS_ALIAS_PREFIX) :]
    problem = _name_problem(name, suffixes, config)
    if problem:
        yield violation(
            f"{prop}={shown!r} {problem}. Set {prop} to a name that follows the VA naming standard"
        )
        return
    m = re.match(config["namePattern"], name)
    yield from _env_matches_tag(m.groupdict().get("env") if m else None, r)


def _check_auto_named(
    r: Resource, prop: str, suffixes: tuple[str, ...], config: Config
) -> Iterator[Finding]:
    """No physical name: Pulumi names it ``<logical name>-<random>``, so the logical name counts."""
    for prefix_prop in PREFIX_PROPERTIES:
        prefix = r.get(prefix_prop)
        if prefix is UNKNOWN:
            yield unchecked(f"the name prefix ({prefix_prop})")
            return
        if isinstance(prefix, str):
            if not re.match(r"^va-[a-z0-9]+-", prefix):
                yield violation(
                    f"{prefix_prop}={prefix!r} must start with va-<env>- (better: set {prop} "
                    f"to a full name such as {EXAMPLE!r})"
                )
            return
    problem = _name_problem(r.name, suffixes, config)
    if problem:
        yield violation(
            f"no {prop} is set, so Pulumi names it after the logical name {r.name!r}, which "
            f"{problem}. Set {prop} explicitly or rename the resource"
        )


def _check_secret(r: Resource, config: Config) -> Iterator[Finding]:
    name = r.get("name")
    if name is UNKNOWN:
        yield unchecked("the secret name (name)")
        return
    if not isinstance(name, str):
        prefix = r.get("namePrefix")
        name, what = (prefix, "namePrefix") if isinstance(prefix, str) else (r.name, "logical name")
        if not re.match(r"^va/[a-z0-9]+/", name):
            yield violation(
                f"the secret's {what} {name!r} must follow va/<env>/<name> "
                "(e.g. 'va/prod/openai-api-key'); set name"
            )
        return
    m = re.match(config["secretNamePattern"], name)
    env = m.groupdict().get("env") if m else None
    if m is None or (env is not None and env not in config["environments"]):
        yield violation(
            f"secret name {name!r} must follow va/<env>/<name> with env in "
            f"{', '.join(config['environments'])} (e.g. 'va/prod/openai-api-key')"
        )
        return
    yield from _env_matches_tag(env, r)


def _check_log_group(r: Resource, config: Config) -> Iterator[Finding]:
    name = r.get("name")
    if name is UNKNOWN:
        yield unchecked("the log group name (name)")
        return
    if not isinstance(name, str):
        yield violation(
            f"log group {r.name!r} has no name: set it to /aws/lambda/<function name> (so Lambda "
            "writes into it) or a va-<env>-<purpose>-<type> name"
        )
        return
    function = (
        name[len(standard.LOG_GROUP_PREFIX) :]
        if name.startswith(standard.LOG_GROUP_PREFIX)
        else name
    )
    problem = _name_problem(function, (), config)
    if problem:
        yield violation(
            f"log group name {name!r} must be /aws/lambda/<function name> or a "
            f"va-<env>-<purpose>-<type> name; {function!r} {problem}"
        )


def check(r: Resource, config: Config) -> Iterator[Finding]:
    if r.type == SECRET_TYPE:
        yield from _check_secret(r, config)
        return
    if r.type == LOG_GROUP_TYPE:
        yield from _check_log_group(r, config)
        return
    named = NAMED_TYPES.get(r.type)
    if named is None:
        return
    prop, suffixes = named
    name = r.get(prop)
    if name is UNKNOWN:
        yield unchecked(f"the physical name ({prop})")
    elif isinstance(name, str) and name:
        yield from _check_physical(r, prop, name, suffixes, config)
    else:
        yield from _check_auto_named(r, prop, suffixes, config)


FAMILY = Family(
    name="va-naming",
    description="Physical names follow va-<env>-<purpose>-<type>; secrets va/<env>/<name>.",
    remediation=(
        "Name the resource va-<env>-<purpose>-<type> (e.g. va-prod-example-lambda, "
        "va-prod-core-dynamodb), secrets va/<env>/<name>, log groups /aws/lambda/<function> "
        "(VA naming standard)."
    ),
    check=check,
    settings=SETTINGS,
    applies_to=frozenset([*NAMED_TYPES, SECRET_TYPE, LOG_GROUP_TYPE]).__contains__,
)
