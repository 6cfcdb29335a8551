"""va-iam: least privilege in every IAM policy document and attachment.

No Allow statement with ``*`` or ``service:*`` actions, or with NotAction/NotResource (they grant
everything but a list); ``*`` resources (or ARNs that wildcard the region or account, such as
``arn:aws:logs:*:*:*``) only for actions that AWS's Service Authorization Reference lists with no
resource types (``catalogue``); no AdministratorAccess, PowerUserAccess or ``*FullAccess``
attachments (role, user, group, Identity Center permission set); no trust policy that lets
anyone assume a role; every VA role Lambda or EventBridge Scheduler assumes (an execution or
schedule role) carries its environment's workload boundary, ``va-<env>-workload-boundary``, as
its permissions boundary (without it, one inline ``"*"`` a deploy session writes on
the role is an administrator one function or schedule away). What AWS would deny (an unknown
action, an action scoped to ARNs it does not take) is a notice. Documents are checked wherever
they appear: role inline policies, role/user/group policies, standalone policies, as JSON
strings or objects. The statement check is the shared standard's, which the components use too.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator
from typing import Any

from . import resource_policies, standard
from .framework import (
    Config,
    Family,
    Finding,
    Resource,
    string_list,
    unchecked,
    violation,
    warning,
)
from .props import UNKNOWN, contains_unknown, get, items_of, json_document, shown

# AWS managed policies (names, globs) that grant far more than one workload needs.
FORBIDDEN_MANAGED_POLICIES: tuple[str, ...] = (
    "AdministratorAccess",
    "PowerUserAccess",
    "*FullAccess",
)
SETTINGS = {
    "forbiddenManagedPolicies": string_list(
        FORBIDDEN_MANAGED_POLICIES,
        "AWS managed policy names (globs, e.g. '*FullAccess') that may not be attached.",
    ),
}
# Resource type -> properties holding a policy document.
DOCUMENT_PROPERTIES: dict[str, tuple[str, ...]] = {
    "aws:iam/rolePolicy:RolePolicy": ("policy",),
    "aws:iam/userPolicy:UserPolicy": ("policy",),
    "aws:iam/groupPolicy:GroupPolicy": ("policy",),
    "aws:iam/policy:Policy": ("policy",),
    "aws:ssoadmin/permissionSetInlinePolicy:PermissionSetInlinePolicy": ("inlinePolicy",),
}
# Resource type -> properties holding managed policy ARNs.
ATTACHMENT_PROPERTIES: dict[str, tuple[str, ...]] = {
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": ("policyArn",),
    "aws:iam/userPolicyAttachment:UserPolicyAttachment": ("policyArn",),
    "aws:iam/groupPolicyAttachment:GroupPolicyAttachment": ("policyArn",),
    "aws:iam/policyAttachment:PolicyAttachment": ("policyArn",),
    "aws:iam/role:Role": ("managedPolicyArns",),
    "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive": ("policyArns",),
    "aws:iam/userPolicyAttachmentsExclusive:UserPolicyAttachmentsExclusive": ("policyArns",),
    "aws:iam/groupPolicyAttachmentsExclusive:GroupPolicyAttachmentsExclusive": ("policyArns",),
    # IAM Identity Center permission sets: what people signing in get.
    "aws:ssoadmin/managedPolicyAttachment:ManagedPolicyAttachment": ("managedPolicyArn",),
    "aws:ssoadmin/managedPolicyAttachmentsExclusive:ManagedPolicyAttachmentsExclusive": (
        "managedPolicyArns",
    ),
}
ROLE_TYPE = "aws:iam/role:Role"


def statements(document: Any) -> list[Any]:
    return items_of(get(document, "Statement"))


def document_problems(document: Any, where: str, config: Config) -> Iterator[Finding]:
    """Every statement that is known is judged; the ones holding unknown values are reported."""
    parsed = json_document(document) if document is not UNKNOWN else UNKNOWN
    if parsed is UNKNOWN or get(parsed, "Statement") is UNKNOWN:
        yield unchecked(f"{where} (computed from other resources' outputs)")
        return
    if parsed is None:
        yield violation(f"{where} is not a JSON policy document; it cannot be checked")
        return
    for i, st in enumerate(statements(parsed)):
        if contains_unknown(st):
            yield unchecked(f"statement {i} of {where} (it holds values from other resources)")
        for problem in standard.statement_problems(st, where):
            yield violation(problem.message) if problem.broad else warning(problem.message)


def _trust_problems(r: Resource) -> Iterator[Finding]:
    trust = r.get("assumeRolePolicy")
    if trust is UNKNOWN:
        yield unchecked("the trust policy (assumeRolePolicy)")
        return
    for st in statements(json_document(trust)):
        if not isinstance(st, dict) or st.get("Effect") != "Allow":
            continue
        principal = st.get("Principal")
        condition = st.get("Condition")
        blocks = condition.items() if isinstance(condition, dict) else ()
        narrowed = any(resource_policies.narrows(op, block) for op, block in blocks)
        if (principal == "*" or "*" in items_of(get(principal, "AWS"))) and not narrowed:
            yield violation(
                "the trust policy lets any AWS principal ('*') assume this role; name the "
                "service or account that may, or narrow it with aws:PrincipalOrgID"
            )
        federated = [f for f in items_of(get(principal, "Federated")) if isinstance(f, str)]
        if any(f.endswith(GITHUB_OIDC) for f in federated) and not _names_subjects(blocks):
            yield violation(
                "the trust policy lets any GitHub repository's workflows assume this role (no "
                f"condition on {GITHUB_OIDC}:sub); add StringEquals/StringLike on it naming "
                "repo:<owner>/<repo>:…"
            )


GITHUB_OIDC = "token.actions.githubusercontent.com"
# The services whose roles run a VA workload's code, and so carry the workload boundary.
WORKLOAD_SERVICES = ("lambda.amazonaws.com", "scheduler.amazonaws.com")
BOUNDARY_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:policy/(?P<name>.+)$")


def _workload_services(trust: Any) -> list[str] | None:
    """The workload services the trust policy lets assume the role (None: not known yet)."""
    found: list[str] = []
    for st in statements(trust):
        if contains_unknown(st):
            return None
        if get(st, "Effect") != "Allow":
            continue
        services = items_of(get(get(st, "Principal"), "Service"))
        found += [s for s in WORKLOAD_SERVICES if s in services and s not in found]
    return found


def _environment(r: Resource) -> str | None:
    """The VA environment of a role: from its name (``va-<env>-<purpose>-<type>``), else from
    its tags (``Environment``, with ``Project`` the standard's); None: not a VA role."""
    name = r.get("name")
    match = standard.PHYSICAL_NAME_RE.match(name) if isinstance(name, str) else None
    if match is not None:
        return match["env"]
    env = r.tags.get("Environment")
    return env if isinstance(env, str) and r.tags.get("Project") == standard.PROJECT else None


def _boundary_problems(r: Resource) -> Iterator[Finding]:
    env = _environment(r)
    trust = r.get("assumeRolePolicy")
    if env is None or trust is None:
        return
    parsed = json_document(trust) if trust is not UNKNOWN else UNKNOWN
    services = _workload_services(parsed) if parsed is not UNKNOWN else None
    if services is None:
        return  # the trust check reports it unchecked
    if not services:
        return
    expected = standard.boundary_name(env)
    boundary = r.get("permissionsBoundary")
    who = " and ".join(services)
    fix = (
        f"set permissionsBoundary to arn:aws:iam::<account>:policy/{expected}, the "
        "administrator-owned policy every workload role of the environment carries"
    )
    if boundary is UNKNOWN:
        yield unchecked("the role's permissions boundary (permissionsBoundary)")
    elif not boundary:
        yield violation(
            f"the role is assumed by {who} and carries no permissions boundary: any policy a "
            f"deploy session writes on it (one inline '*') becomes what its code may do; {fix}"
        )
    else:
        match = BOUNDARY_ARN.match(boundary) if isinstance(boundary, str) else None
        if match is None or match["name"] != expected:
            yield violation(
                f"the role is assumed by {who} and carries the permissions boundary "
                f"{shown(boundary)}, not {expected}: only that one caps what a policy written "
                f"on the role can grant; {fix}"
            )


def _names_subjects(blocks: Any) -> bool:
    """A positive condition on the GitHub token's ``sub`` naming a repository, not '*'."""
    for op, block in blocks:
        if not isinstance(op, str) or "not" in op.lower() or not isinstance(block, dict):
            continue
        for key, value in block.items():
            if isinstance(key, str) and key.lower() == f"{GITHUB_OIDC}:sub":
                values = [v for v in items_of(value) if isinstance(v, str)]
                if values and all(v.startswith("repo:") and "/" in v for v in values):
                    return True
    return False


def _attachment_problems(r: Resource, config: Config) -> Iterator[Finding]:
    forbidden = config["forbiddenManagedPolicies"]
    for prop in ATTACHMENT_PROPERTIES.get(r.type, ()):
        value = r.get(prop)
        if value is UNKNOWN:
            yield unchecked(f"the attached policies ({prop})")
            continue
        for arn in items_of(value):
            aws_managed = isinstance(arn, str) and ":aws:policy/" in arn
            name = arn.rsplit("/", 1)[-1] if aws_managed else ""
            if any(fnmatch.fnmatchcase(name, pattern) for pattern in forbidden):
                yield violation(
                    f"{prop} attaches {arn}, far more than one workload needs; write a policy "
                    "with the exact actions and resources instead (VA standard: least privilege)"
                )


def check(r: Resource, config: Config) -> Iterator[Finding]:
    for prop in DOCUMENT_PROPERTIES.get(r.type, ()):
        yield from document_problems(r.get(prop), f"policy document ({prop})", config)
    if r.type == ROLE_TYPE:
        inline = r.get("inlinePolicies")
        if inline is UNKNOWN:
            yield unchecked("the inline policies (inlinePolicies)")
        for i, item in enumerate(items_of(inline)):
            name = get(item, "name")
            where = f"inline policy {name!r}" if isinstance(name, str) else f"inlinePolicies[{i}]"
            if get(item, "policy") is not None:
                yield from document_problems(get(item, "policy"), where, config)
        yield from _trust_problems(r)
        yield from _boundary_problems(r)
    yield from _attachment_problems(r, config)


FAMILY = Family(
    name="va-iam",
    description=(
        "IAM policies grant named actions on named resources: no '*' or 'service:*' actions, "
        "'*' resources only where AWS supports nothing narrower, no admin-like managed policies; "
        "roles Lambda or the Scheduler assume carry the workload boundary."
    ),
    remediation=(
        "List the exact actions and resource ARNs (VA standard: least privilege). Use "
        "Resource '*' only for actions that AWS's Service Authorization Reference lists with "
        "no resource types."
    ),
    check=check,
    settings=SETTINGS,
    applies_to=frozenset([*DOCUMENT_PROPERTIES, *ATTACHMENT_PROPERTIES, ROLE_TYPE]).__contains__,
)
