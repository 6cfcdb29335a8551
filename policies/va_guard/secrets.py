"""va-secrets: no secret where AWS shows it in plain text.

Programs nobody here wrote put secrets where any reader of the account (or of the repository)
sees them. Checked per resource:

- **A secret-marked value in plain configuration.** The engine sends every value the program
  marked secret (``pulumi config set --secret`` read with ``require_secret``, ``Output.secret``,
  a provider's secret output) with its mark; the SDK unwraps it, ``sdk_compat`` keeps where it
  was. Placed in a Lambda's environment, a container definition, a String SSM parameter, user
  data, a CodeBuild or App Runner plain variable or a tag, AWS stores and shows it in plain
  text to whoever may describe the resource: a violation naming where it belongs instead.
- **A literal secret in an ECS task definition's environment**: a value that looks like a
  credential, or one under a credential's name (``DB_PASSWORD``, ``SECRET_KEY``) that is not a
  reference, as va-lambda judges a function's environment.
- **A literal credential in a resource's input** (judged by va-stack, which sees where each
  value came from; ``CREDENTIALS``): a ``SecretVersion.secretString``, the master password of an
  RDS instance or cluster, a DocumentDB or Redshift cluster, a Redshift Serverless namespace, an
  ElastiCache auth token, a DMS endpoint's password, written in the program's code or its plain
  config, so in the repository in clear. pulumi-aws marks all of them secret, so the mark does
  not tell; a value computed from another resource or read from secret config passes.

Values are never shown in messages.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from . import standard
from .framework import Config, Family, Finding, Resource, unchecked, violation
from .lambda_rules import REFERENCE_RE, SECRET_KEY_NAME_RE
from .props import UNKNOWN, get, is_list, is_mapping, plain, shown
from .tables import FUNCTION_TYPE

TASK_TYPE = "aws:ecs/taskDefinition:TaskDefinition"
SECRET_VERSION_TYPE = "aws:secretsmanager/secretVersion:SecretVersion"
PARAMETER_TYPE = "aws:ssm/parameter:Parameter"
SECRET_VERSION_VALUES = ("secretString", "secretBinary", "secretStringWo")
# A secret config value found inside a larger value (a JSON document) counts from this length.
MIN_SECRET_MATCH = 8
ANY = "*"

SecretPath = tuple[str | int, ...]


@dataclass(frozen=True)
class Place:
    """A property AWS shows in plain text: where (a path, ``*`` for any key or index), who sees
    it, and where the secret belongs instead. ``applies``: whether the concrete path is plain
    (a CodeBuild variable of type PLAINTEXT, a parameter not of type SecureString)."""

    pattern: SecretPath
    shown: str
    fix: str
    applies: Callable[[Resource, SecretPath], bool] | None = None


def _not_secure_string(r: Resource, _path: SecretPath) -> bool:
    return r.get("type") != "SecureString"


def _plaintext_variable(r: Resource, path: SecretPath) -> bool:
    index = path[2] if len(path) > 2 else None
    kind = r.get("environment", "environmentVariables", index) if isinstance(index, int) else None
    return get(kind, "type") in (None, "", "PLAINTEXT")


USER_DATA = (
    "user data is shown to anyone who may describe the instance's attributes, and to every "
    "process on it (instance metadata)",
    "fetch the secret at boot from Secrets Manager or SSM Parameter Store with the instance's role",
)
CONTAINERS = (
    "the container definitions, environment included, are shown to anyone who may describe "
    "the task or job definition",
    "put the value in Secrets Manager or SSM Parameter Store and reference it under the "
    "container's secrets (valueFrom)",
)
APP_RUNNER = (
    "App Runner shows runtime environment variables to anyone who may describe the service",
    "use runtimeEnvironmentSecrets (Secrets Manager or SSM Parameter Store ARNs)",
)
PLACES: dict[str, tuple[Place, ...]] = {
    FUNCTION_TYPE: (
        Place(
            ("environment", "variables", ANY),
            "Lambda shows a function's environment in plain text to anyone who may read its "
            "configuration",
            "store it in Secrets Manager and pass the secret's ARN or name instead",
        ),
    ),
    TASK_TYPE: (Place(("containerDefinitions",), *CONTAINERS),),
    "aws:batch/jobDefinition:JobDefinition": (
        Place(("containerProperties",), *CONTAINERS),
        Place(("ecsProperties",), *CONTAINERS),
    ),
    PARAMETER_TYPE: tuple(
        Place(
            (prop,),
            "a String or StringList parameter is stored and shown unencrypted",
            "set type=SecureString (encrypted with KMS)",
            _not_secure_string,
        )
        for prop in ("value", "insecureValue")
    ),
    "aws:ec2/instance:Instance": (
        Place(("userData",), *USER_DATA),
        Place(("userDataBase64",), *USER_DATA),
    ),
    "aws:ec2/launchTemplate:LaunchTemplate": (Place(("userData",), *USER_DATA),),
    "aws:codebuild/project:Project": (
        Place(
            ("environment", "environmentVariables", ANY, "value"),
            "CodeBuild shows a PLAINTEXT variable to anyone who may read the project",
            "set the variable's type to SECRETS_MANAGER or PARAMETER_STORE and its value to the "
            "secret's name",
            _plaintext_variable,
        ),
    ),
    "aws:apprunner/service:Service": (
        Place(
            (
                "sourceConfiguration",
                "imageRepository",
                "imageConfiguration",
                "runtimeEnvironmentVariables",
                ANY,
            ),
            *APP_RUNNER,
        ),
        Place(
            (
                "sourceConfiguration",
                "codeRepository",
                "codeConfiguration",
                "codeConfigurationValues",
                "runtimeEnvironmentVariables",
                ANY,
            ),
            *APP_RUNNER,
        ),
    ),
    "aws:elasticbeanstalk/environment:Environment": (
        Place(
            ("settings", ANY, "value"),
            "Elastic Beanstalk shows an environment's settings to anyone who may describe it",
            "have the application read the secret from Secrets Manager",
        ),
    ),
}
TAGS = Place(
    ("tags", ANY),
    "tags are shown to anyone who may list the resource's tags, and copied into billing reports",
    "keep secrets out of tags",
)


def _overlaps(path: SecretPath, pattern: SecretPath) -> bool:
    """The secret at ``path`` is at, above or inside a place matching ``pattern``."""
    return all(p in (ANY, s) for s, p in zip(path, pattern, strict=False))


def path_text(path: SecretPath) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _marked_in_plain_places(r: Resource) -> Iterator[Finding]:
    places = (*PLACES.get(r.type, ()), TAGS)
    for path in sorted(r.secret_paths, key=path_text):
        for place in places:
            if _overlaps(path, place.pattern) and (place.applies is None or place.applies(r, path)):
                yield violation(
                    f"{path_text(path)} holds a secret (marked secret by Pulumi: a --secret "
                    f"config value, Output.secret or a secret output; value not shown), but "
                    f"{place.shown}; {place.fix}"
                )
                break


def literal_secret(key: Any, value: Any) -> str | None:
    """What is wrong with a plain variable ``key=value``: it looks like a credential, or it is
    named like one and holds a literal that is not a reference; None when neither."""
    kind = standard.secret_value_kind(value)
    if kind is not None:
        return f"holds what looks like {kind} (value not shown)"
    if (
        isinstance(key, str)
        and SECRET_KEY_NAME_RE.search(key)
        and isinstance(value, str)
        and value
        and not REFERENCE_RE.match(value)
    ):
        return (
            "is named like a credential and holds a literal (value not shown), not an ARN or "
            "secret name"
        )
    return None


def _container_definitions(r: Resource) -> Iterator[Finding]:
    if r.secret_at("containerDefinitions"):
        return  # reported as a secret-marked value in plain configuration
    value = r.get("containerDefinitions")
    if value is UNKNOWN:
        yield unchecked("the containers' environment (containerDefinitions)")
        return
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return  # AWS refuses the definition itself
    containers = plain(value) if is_list(value) else []
    for container in containers:
        if not is_mapping(container):
            continue
        name = container.get("name") if isinstance(container.get("name"), str) else "?"
        for variable in container.get("environment") or []:
            if not is_mapping(variable):
                continue
            key = variable.get("name")
            problem = literal_secret(key, variable.get("value"))
            if problem:
                yield violation(
                    f"container {name}'s environment variable "
                    f"{key if isinstance(key, str) else shown(key)} {problem}; "
                    "ECS shows a task definition's environment to anyone who may describe it: "
                    "put the value in Secrets Manager or SSM Parameter Store and reference it "
                    "under the container's secrets (valueFrom) instead"
                )


def _ciphertext(values: Any) -> bool:
    """Secret config values still encrypted (``v1:...``, Pulumi's ciphertext form): they cannot
    be compared with anything, so the rule must not decide on them."""
    return any(isinstance(v, str) and v.startswith("v1:") for v in values)


AT_LEAST = (
    "or at least read it with `pulumi config set --secret <key>` and config.require_secret, or "
    "generate it (random.RandomPassword)"
)
AWS_KEEPS_IT = (
    "(the service keeps the password in Secrets Manager and rotates it; a value read with a "
    "data source such as get_secret_version looks like a literal here, and this avoids it too)"
)


@dataclass(frozen=True)
class Credential:
    """The properties of a resource type that hold a credential the program supplies, and the
    fix a message names (where the credential belongs instead)."""

    props: tuple[str, ...]
    fix: str


def _managed(flag: str, prop: str) -> str:
    return f"set {flag}=True and drop {prop} {AWS_KEEPS_IT}, {AT_LEAST}"


CREDENTIALS: dict[str, Credential] = {
    SECRET_VERSION_TYPE: Credential(
        SECRET_VERSION_VALUES,
        "read it with `pulumi config set --secret <key>` and config.require_secret, generate it "
        "(random.RandomPassword), or put the value out of band (aws secretsmanager "
        "put-secret-value)",
    ),
    "aws:rds/instance:Instance": Credential(
        ("password", "passwordWo"), _managed("manage_master_user_password", "password")
    ),
    "aws:rds/cluster:Cluster": Credential(
        ("masterPassword", "masterPasswordWo"),
        _managed("manage_master_user_password", "master_password"),
    ),
    "aws:docdb/cluster:Cluster": Credential(
        ("masterPassword", "masterPasswordWo"),
        _managed("manage_master_user_password", "master_password"),
    ),
    "aws:redshift/cluster:Cluster": Credential(
        ("masterPassword", "masterPasswordWo"),
        _managed("manage_master_password", "master_password"),
    ),
    "aws:redshiftserverless/namespace:Namespace": Credential(
        ("adminUserPassword", "adminUserPasswordWo"),
        _managed("manage_admin_password", "admin_user_password"),
    ),
    "aws:elasticache/replicationGroup:ReplicationGroup": Credential(
        ("authToken", "authTokenWo"),
        "generate it (random.RandomPassword) or read it with `pulumi config set --secret <key>` "
        "and config.require_secret; or authenticate clients per user instead (user_group_ids: "
        "elasticache.User with IAM authentication)",
    ),
    "aws:dms/endpoint:Endpoint": Credential(
        ("password",),
        "give the endpoint secrets_manager_arn and secrets_manager_access_role_arn (the "
        f"credentials in Secrets Manager) instead of a password, {AT_LEAST}",
    ),
}


def _from_secret_config(value: str, secret_values: Iterable[str]) -> bool:
    """``value`` is a secret config value, holds one (a JSON document built from it), or is
    part of one (a field of ``config.require_secret_object``)."""
    return any(
        v == value
        or (len(v) >= MIN_SECRET_MATCH and v in value)
        or (len(value) >= MIN_SECRET_MATCH and value in v)
        for v in secret_values
    )


def literal_credential_problems(r: Resource, stack: Any) -> Iterator[Finding]:
    """A credential written in the program: a secret version's value, a database's master
    password, a cache's auth token (va-stack runs this: it needs the stack's view). pulumi-aws
    marks each of these properties secret whatever its origin, so the mark cannot tell; what
    can: a value computed from another resource (a generated password, a database's) comes with
    the engine's propertyDependencies, and one read from secret config equals (or holds, or is
    part of) a secret config value the engine sent in ``ConfigureStack``. Anything else is a
    literal in the program or a plain config value: in the repository in clear."""
    credential = CREDENTIALS.get(r.type)
    if credential is None:
        return
    for prop in credential.props:
        value = r.get(prop)
        if value is None or value == "" or r.dependencies.get(prop):
            continue
        if value is UNKNOWN:
            yield unchecked(f"whether {prop} is a literal (computed, from no resource here)", r.urn)
        elif not isinstance(value, str):
            continue
        elif stack is None or not stack.config_sent or _ciphertext(stack.secret_values):
            yield Finding(
                f"could not check whether {prop} is a literal: the engine sent no (decrypted) "
                "stack config to tell a secret config value from a literal",
                "unchecked",
                r.urn,
            )
        elif not _from_secret_config(value, stack.secret_values):
            yield violation(
                f"{prop} is neither a secret config value nor computed from another resource: "
                "it is a literal in the program or a plain config value, so it sits in the "
                f"repository in clear (value not shown); {credential.fix}",
                r.urn,
            )


def check(r: Resource, config: Config) -> Iterator[Finding]:
    if r.secret_paths:
        yield from _marked_in_plain_places(r)
    if r.type == TASK_TYPE:
        yield from _container_definitions(r)


FAMILY = Family(
    name="va-secrets",
    description=(
        "No secret where AWS shows it in plain text: no secret-marked value in a function's "
        "environment, container definitions, String parameters, user data, plain build or "
        "service variables or tags; no literal credential in an ECS task definition's "
        "environment."
    ),
    remediation=(
        "Keep secrets in Secrets Manager or SSM SecureString parameters and pass references "
        "(ARNs, names, ECS secrets/valueFrom); set secret values from `pulumi config set "
        "--secret` or generate them, never as literals."
    ),
    check=check,
)
