"""va-iam: least privilege in every IAM policy document and attachment.

No Allow statement with ``*`` or ``service:*`` actions, or with NotAction/NotResource (they grant
everything but a list); ``*`` resources only for actions that support no resource-level
permission (``standard.STAR_RESOURCE_ACTIONS``, configurable); no AdministratorAccess,
PowerUserAccess or IAMFullAccess attachments; no trust policy that lets anyone assume a role.
Documents are checked wherever they appear: role inline policies, role/user/group policies,
standalone policies, as JSON strings or objects.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from . import standard
from .framework import Config, Family, Finding, Resource, string_list, unchecked, violation
from .props import UNKNOWN, contains_unknown, get, items_of, json_document

SETTINGS = {
    "starResourceActions": string_list(
        sorted(standard.STAR_RESOURCE_ACTIONS),
        "Actions that may be granted on Resource '*' (they support no resource-level "
        "permissions in AWS's Service Authorization Reference).",
    ),
    "forbiddenManagedPolicies": string_list(
        standard.FORBIDDEN_MANAGED_POLICIES, "AWS managed policy names that may not be attached."
    ),
}
# Resource type -> properties holding a policy document.
DOCUMENT_PROPERTIES: dict[str, tuple[str, ...]] = {
    "aws:iam/rolePolicy:RolePolicy": ("policy",),
    "aws:iam/userPolicy:UserPolicy": ("policy",),
    "aws:iam/groupPolicy:GroupPolicy": ("policy",),
    "aws:iam/policy:Policy": ("policy",),
}
# Resource type -> properties holding managed policy ARNs.
ATTACHMENT_PROPERTIES: dict[str, tuple[str, ...]] = {
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": ("policyArn",),
    "aws:iam/userPolicyAttachment:UserPolicyAttachment": ("policyArn",),
    "aws:iam/groupPolicyAttachment:GroupPolicyAttachment": ("policyArn",),
    "aws:iam/policyAttachment:PolicyAttachment": ("policyArn",),
    "aws:iam/role:Role": ("managedPolicyArns",),
    "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive": ("policyArns",),
}
ROLE_TYPE = "aws:iam/role:Role"


def statements(document: Any) -> list[Any]:
    return items_of(get(document, "Statement"))


def statement_problems(st: Any, where: str, star_actions: set[str]) -> Iterator[str]:
    if not isinstance(st, dict) or st.get("Effect") != "Allow":
        return
    sid = f" {st['Sid']!r}" if isinstance(st.get("Sid"), str) else ""
    label = f"{where}: Allow statement{sid}"
    for negated in ("NotAction", "NotResource"):
        if negated in st:
            yield f"{label} uses {negated}, which grants everything not listed; list what it allows"
    actions = [a for a in items_of(st.get("Action")) if isinstance(a, str)]
    wide = [a for a in actions if a == "*" or a.endswith(":*")]
    if wide:
        yield (
            f"{label} grants {', '.join(wide)}; name the actions the workload calls "
            "(e.g. dynamodb:PutItem)"
        )
    resources = items_of(st.get("Resource"))
    if "*" in resources:
        narrow = [a for a in actions if a not in wide and a.lower() not in star_actions]
        patterns = [a for a in narrow if "*" in a or "?" in a]
        named = [a for a in narrow if a not in patterns]
        if named:
            yield (
                f"{label} grants {', '.join(named)} on Resource '*'; these actions support "
                "resource-level permissions, so name the exact ARNs"
            )
        if patterns:
            yield (
                f"{label} grants the wildcard action {', '.join(patterns)} on Resource '*': "
                "every action it matches, today's and those AWS adds later; list the actions "
                "the workload calls"
            )


def document_problems(document: Any, where: str, config: Config) -> Iterator[Finding]:
    """Every statement that is known is judged; the ones holding unknown values are reported."""
    parsed = json_document(document) if document is not UNKNOWN else UNKNOWN
    if parsed is UNKNOWN or get(parsed, "Statement") is UNKNOWN:
        yield unchecked(f"{where} (computed from other resources' outputs)")
        return
    if parsed is None:
        yield violation(f"{where} is not a JSON policy document; it cannot be checked")
        return
    star_actions = {a.lower() for a in config["starResourceActions"]}
    for i, st in enumerate(statements(parsed)):
        if contains_unknown(st):
            yield unchecked(f"statement {i} of {where} (it holds values from other resources)")
        for message in statement_problems(st, where, star_actions):
            yield violation(message)


def _trust_problems(r: Resource) -> Iterator[Finding]:
    trust = r.get("assumeRolePolicy")
    if trust is UNKNOWN:
        yield unchecked("the trust policy (assumeRolePolicy)")
        return
    for st in statements(json_document(trust)):
        if isinstance(st, dict) and st.get("Effect") == "Allow":
            principal = st.get("Principal")
            if principal == "*" or "*" in items_of(get(principal, "AWS")):
                yield violation(
                    "the trust policy lets any AWS principal ('*') assume this role; name the "
                    "service or account that may"
                )


def _attachment_problems(r: Resource, config: Config) -> Iterator[Finding]:
    forbidden = set(config["forbiddenManagedPolicies"])
    for prop in ATTACHMENT_PROPERTIES.get(r.type, ()):
        value = r.get(prop)
        if value is UNKNOWN:
            yield unchecked(f"the attached policies ({prop})")
            continue
        for arn in items_of(value):
            aws_managed = isinstance(arn, str) and ":aws:policy/" in arn
            if aws_managed and arn.rsplit("/", 1)[-1] in forbidden:
                yield violation(
                    f"{prop} attaches {arn}, far more than one workload needs; write a policy "
                    "with the exact actions and resources instead"
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
    yield from _attachment_problems(r, config)


FAMILY = Family(
    name="va-iam",
    description=(
        "IAM policies grant named actions on named resources: no '*' or 'service:*' actions, "
        "'*' resources only where AWS supports nothing narrower, no admin-like managed policies."
    ),
    remediation=(
        "List the exact actions and resource ARNs (VA standard: least privilege). Use "
        "Resource '*' only for the actions in the va-iam starResourceActions config."
    ),
    check=check,
    settings=SETTINGS,
    applies_to=frozenset([*DOCUMENT_PROPERTIES, *ATTACHMENT_PROPERTIES, ROLE_TYPE]).__contains__,
)
