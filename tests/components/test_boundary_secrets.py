"""A secret outside ``va/<env>/*`` read by its tags under the workload boundary, and the attacks
on that rule (rev20c's finding: a team's existing secret was AccessDenied at run time).

The boundary allows ``secretsmanager:GetSecretValue``/``DescribeSecret`` on any secret of the
account and region tagged ``Environment=<env>`` and ``Owner=${aws:PrincipalTag/Owner}`` (the
calling role's own Owner tag), and ``kms:Decrypt`` on keys tagged for the environment. Each
workload role below is given ``*`` (whatever policy a deploy session writes), so the boundary
alone decides; each deploy session is the environment's deploy policy with its owner. Every
request is decided by tests/iam_eval.py (conditions, policy variables, explicit Deny, the
boundary) and carries the role's principal tag, so a refusal is a condition that does not hold,
never a variable the evaluator could not resolve.
"""

from __future__ import annotations

import pytest

from tests.components.test_deploy_role import stack_run
from tests.iam_eval import Request, allows
from va_platform import standard
from va_platform.components import workload_boundary
from va_platform.components.github import deploy_policy
from va_platform.standard import allow_statement

REGION, ACCOUNT = "eu-central-1", "123456789012"
OWNER, OTHER = "payments-team", "billing-team"
EVERYTHING = {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
STRIPE = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:billing/stripe-key-AbCdEf"
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"
READS = ("secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret")
VIA = ("kms:ViaService", f"secretsmanager.{REGION}.amazonaws.com")


def workload_may(
    action: str,
    arn: str,
    *tags: tuple[str, str],
    env: str = "dev",
    owner: str | None = OWNER,
    declared: tuple[dict, ...] = (),
) -> bool:
    """Whether a workload role of ``env`` (Owner tag ``owner``, policy ``*``) may; ``tags``
    are request context pairs (the resource's tags, ...); ``declared``: the stack config's
    statements in the boundary."""
    principal = () if owner is None else (("aws:PrincipalTag/Owner", owner),)
    request = Request(action, arn, (*principal, *tags))
    boundary = workload_boundary(env, REGION, ACCOUNT, declared)
    return allows(EVERYTHING, request, boundary=boundary)


def tagged(env: str, owner: str) -> tuple[tuple[str, str], ...]:
    return (("aws:ResourceTag/Environment", env), ("aws:ResourceTag/Owner", owner))


def deploy_may(request: Request, env: str = "dev", owner: str = OWNER) -> bool:
    return allows(
        list(deploy_policy.deploy_policies(env, REGION, ACCOUNT, owner).values()), request
    )


def role_arn(env: str = "dev") -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{standard.NAME_PREFIX}-{env}-payments-lambda-role"


# --- the rule ---------------------------------------------------------------------------------


@pytest.mark.parametrize("action", READS)
def test_a_secret_tagged_for_the_environment_and_the_roles_owner_is_readable(action) -> None:
    assert workload_may(action, STRIPE, *tagged("dev", OWNER))


def test_the_key_of_such_a_secret_decrypts_through_secrets_manager() -> None:
    assert workload_may("kms:Decrypt", KEY, ("aws:ResourceTag/Environment", "dev"), VIA)


def test_the_environments_own_secrets_stay_readable_untagged() -> None:
    own = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:va/dev/stripe-AbCdEf"
    assert workload_may("secretsmanager:GetSecretValue", own)


def test_the_evaluator_resolves_the_owner_variable() -> None:
    """Guards the attacks below: the variable is read from the request, not ignored."""
    statement = {
        "Effect": "Allow",
        "Action": "s:A",
        "Resource": "*",
        "Condition": {"StringEquals": {"aws:ResourceTag/Owner": "${aws:PrincipalTag/Owner}"}},
    }
    policy = {"Statement": [statement]}
    same = (("aws:ResourceTag/Owner", "a"), ("aws:PrincipalTag/Owner", "a"))
    other = (("aws:ResourceTag/Owner", "b"), ("aws:PrincipalTag/Owner", "a"))
    assert allows(policy, Request("s:A", "x", same))
    assert not allows(policy, Request("s:A", "x", other))
    assert not allows(policy, Request("s:A", "x", same[:1]))  # no principal tag: never grants


# --- attacks by a workload --------------------------------------------------------------------


@pytest.mark.parametrize("action", READS)
def test_another_owners_environment_tagged_secret_stays_unreadable(action) -> None:
    assert not workload_may(action, STRIPE, *tagged("dev", OTHER))


@pytest.mark.parametrize("action", READS)
def test_a_prod_tagged_secret_is_unreadable_from_a_dev_workload(action) -> None:
    assert not workload_may(action, STRIPE, *tagged("prod", OWNER))
    prod = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:va/prod/stripe-AbCdEf"
    assert not workload_may(action, prod, *tagged("prod", OWNER))


@pytest.mark.parametrize("action", READS)
def test_an_untagged_secret_outside_the_environments_names_is_unreadable(action) -> None:
    assert not workload_may(action, STRIPE)
    assert not workload_may(action, STRIPE, ("aws:ResourceTag/Environment", "dev"))
    assert not workload_may(action, STRIPE, ("aws:ResourceTag/Owner", OWNER))


def test_a_role_without_an_owner_tag_reads_no_tagged_secret() -> None:
    assert not workload_may(
        "secretsmanager:GetSecretValue", STRIPE, *tagged("dev", OWNER), owner=None
    )


def test_a_prod_tagged_key_does_not_decrypt_from_a_dev_workload() -> None:
    assert not workload_may("kms:Decrypt", KEY, ("aws:ResourceTag/Environment", "prod"), VIA)
    assert not workload_may("kms:Decrypt", KEY, VIA)  # untagged


@pytest.mark.parametrize("action", ["secretsmanager:TagResource", "secretsmanager:UntagResource"])
@pytest.mark.parametrize("key", ["Owner", "Environment"])
def test_a_workload_cannot_retag_a_secret_to_match(action, key) -> None:
    """Even where the stack config declares the tagging actions (in the boundary)."""
    request = (("aws:TagKeys", key), (f"aws:RequestTag/{key}", OWNER if key == "Owner" else "dev"))
    declared = (allow_statement("DeclaredTagging", [action], ["*"]),)
    assert not workload_may(action, STRIPE, *tagged("dev", OTHER), *request, declared=declared)
    other = (("aws:TagKeys", "Team"), ("aws:RequestTag/Team", "x"))
    assert workload_may(action, STRIPE, *other, declared=declared)  # control: other tags


def test_a_workload_cannot_retag_a_secret_with_a_differently_cased_key() -> None:
    declared = (allow_statement("DeclaredTagging", ["secretsmanager:TagResource"], ["*"]),)
    request = (("aws:TagKeys", "owner"), ("aws:RequestTag/owner", OWNER))
    assert not workload_may("secretsmanager:TagResource", STRIPE, *request, declared=declared)


def test_a_workload_cannot_claim_another_owner_through_session_tags() -> None:
    """aws:PrincipalTag includes session tags: an agent role assumed with Owner=<another>
    would read that owner's secrets. Refused whatever the stack config declares."""
    agent = f"arn:aws:iam::{ACCOUNT}:role/{standard.NAME_PREFIX}-dev-payments-agent-role"
    declared = (allow_statement("DeclaredSessionTags", ["sts:TagSession"], [agent]),)
    tags = (("aws:TagKeys", "Owner"), ("aws:RequestTag/Owner", OTHER))
    assert not workload_may("sts:TagSession", agent, *tags, declared=declared)


# --- attacks by a deploy session --------------------------------------------------------------


def owner_tag(owner: str) -> tuple[tuple[str, str], ...]:
    return (("aws:RequestTag/Owner", owner), ("aws:TagKeys", "Owner"))


def test_the_deploy_session_cannot_tag_its_role_with_another_owner() -> None:
    mine = (("aws:ResourceTag/Owner", OWNER),)
    assert deploy_may(Request("iam:TagRole", role_arn(), (*mine, *owner_tag(OWNER))))  # control
    assert not deploy_may(Request("iam:TagRole", role_arn(), (*mine, *owner_tag(OTHER))))
    # A role with no Owner tag (made before it) is not claimed for another owner either.
    assert not deploy_may(Request("iam:TagRole", role_arn(), owner_tag(OTHER)))


def test_the_deploy_session_cannot_create_a_role_with_another_owner() -> None:
    bounded = (("iam:PermissionsBoundary", standard.boundary_arn("dev", ACCOUNT)),)
    assert deploy_may(Request("iam:CreateRole", role_arn(), (*bounded, *owner_tag(OWNER))))
    assert not deploy_may(Request("iam:CreateRole", role_arn(), (*bounded, *owner_tag(OTHER))))


def test_the_deploy_session_cannot_make_a_secret_match_by_tagging() -> None:
    own = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:va/dev/x-AbCdEf"
    tag = Request("secretsmanager:TagResource", STRIPE, (*owner_tag(OWNER),))
    # Outside va/dev/*: no secret of another name is the session's to tag.
    assert not deploy_may(tag)
    assert not deploy_may(
        Request(tag.action, STRIPE, (("aws:RequestTag/Environment", "dev"), ("aws:TagKeys", "Environment")))
    )  # fmt: skip
    # Its own secrets: never for another owner or environment (the control: its own owner).
    assert deploy_may(Request(tag.action, own, owner_tag(OWNER)))
    assert not deploy_may(Request(tag.action, own, owner_tag(OTHER)))
    env_tag = (("aws:RequestTag/Environment", "prod"), ("aws:TagKeys", "Environment"))
    assert not deploy_may(Request(tag.action, own, env_tag))
    # Another owner's secret under va/dev/*: not retagged at all.
    theirs = (("aws:ResourceTag/Owner", OTHER), *owner_tag(OWNER))
    assert not deploy_may(Request(tag.action, own, theirs))


def test_the_deploy_session_cannot_create_a_secret_for_another_owner_or_environment() -> None:
    new = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:va/dev/x-AbCdEf"
    assert deploy_may(Request("secretsmanager:CreateSecret", new, owner_tag(OWNER)))  # control
    assert not deploy_may(Request("secretsmanager:CreateSecret", new, owner_tag(OTHER)))
    prod = (("aws:RequestTag/Environment", "prod"), ("aws:TagKeys", "Environment"))
    assert not deploy_may(Request("secretsmanager:CreateSecret", new, prod))


def test_a_prod_deploy_session_cannot_tag_a_secret_or_key_for_dev() -> None:
    """A prod secret or key tagged Environment=dev would be readable by dev's workloads."""
    secret = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:va/prod/x-AbCdEf"
    to = lambda env: (("aws:RequestTag/Environment", env), ("aws:TagKeys", "Environment"))  # noqa: E731
    key = (("aws:ResourceTag/Environment", "prod"), ("aws:ResourceTag/Project", standard.PROJECT))
    assert deploy_may(Request("secretsmanager:TagResource", secret, to("prod")), env="prod")
    assert not deploy_may(Request("secretsmanager:TagResource", secret, to("dev")), env="prod")
    assert deploy_may(Request("kms:TagResource", KEY, (*key, *to("prod"))), env="prod")
    assert not deploy_may(Request("kms:TagResource", KEY, (*key, *to("dev"))), env="prod")


# --- the Owner tag every role carries ---------------------------------------------------------


@pytest.mark.parametrize("stack", ["dev", "prod", "every-trigger"])
def test_every_role_the_stack_creates_carries_its_owner_tag(stack) -> None:
    """The boundary reads the caller's Owner tag: a bounded role without it reads no tagged
    secret; every role the library makes carries the context's."""
    run = stack_run(stack)
    roles = run.of_type("aws:iam/role:Role")
    assert roles
    untagged = [r.inputs["name"] for r in roles if not (r.inputs.get("tags") or {}).get("Owner")]
    assert untagged == []
