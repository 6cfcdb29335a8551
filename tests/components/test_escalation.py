"""A privilege-escalation search over every principal the stack creates (issue 22, item 6).

For every role of the dev, prod and every-trigger stacks, a breadth-first search over the known
techniques by which one principal gains another's rights, each decided by the evaluator
(tests/iam_eval.py: conditions, explicit Deny, permissions boundaries):

- run code as a role: ``iam:PassRole`` to Lambda plus ``lambda:CreateFunction``, or to the
  Scheduler plus ``scheduler:CreateSchedule`` (a universal target calls any API as the role);
- assume a role: ``sts:AssumeRole`` allowed to the caller and its trust policy naming it;
- rewrite a role: ``iam:PutRolePolicy`` (its rights become anything its boundary allows) or
  ``iam:UpdateAssumeRolePolicy`` (it trusts whoever the writer names).

What a principal reaches must never include administrator (any probe below allowed), and must
be only what the design gives: the deploy role its environment's workload roles (all bounded),
an agent function's role its agent role. cloudsplaining judges one policy at a time and misses
PassRole + CreateFunction split across policies (docs: /work/shared/FACTS.md), hence this search.
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.components.test_deploy_role import stack_run
from tests.iam_eval import Request, allows
from va_platform.preflight.runner import Run

EVERYTHING = {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
# AWS's ReadOnlyAccess, as far as escalation goes: reads only.
READ_ONLY = {
    "Statement": [{"Effect": "Allow", "Action": ["*:Get*", "*:List*", "*:Describe*"], "Resource": "*"}]
}  # fmt: skip
AWS_MANAGED = {"arn:aws:iam::aws:policy/ReadOnlyAccess": READ_ONLY}


@dataclass
class Principal:
    arn: str
    name: str
    policies: list[dict[str, Any]]
    boundary: dict[str, Any] | None
    trust: dict[str, Any]
    boundary_arn: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    reached: dict[str, str] = field(default_factory=dict)

    def may(self, request: Request) -> bool:
        """As AWS decides it for this role: its tags are the request's ``aws:PrincipalTag``s
        (the workload boundary reads ``${aws:PrincipalTag/Owner}``)."""
        own = tuple((f"aws:PrincipalTag/{k}", v) for k, v in sorted(self.tags.items()))
        return allows(self.policies, request.with_context(*own), boundary=self.boundary)

    def rewritten(self) -> Principal:
        """The role after a writer puts ``*`` on it: whatever its boundary allows."""
        return Principal(
            self.arn, self.name, [EVERYTHING], self.boundary, self.trust, self.boundary_arn,
            self.tags,
        )  # fmt: skip


def principals(run: Run) -> dict[str, Principal]:
    documents = {str(p.outputs["arn"]): json.loads(p.inputs["policy"]) for p in run.of_type("aws:iam/policy:Policy")}  # fmt: skip
    found = {}
    for role in run.of_type("aws:iam/role:Role"):
        name, arn = str(role.inputs["name"]), str(role.outputs["arn"])
        inline = [json.loads(p.inputs["policy"]) for p in run.of_type("aws:iam/rolePolicy:RolePolicy") if p.inputs["role"] == name]  # fmt: skip
        attached = [
            documents.get(a.inputs["policyArn"]) or AWS_MANAGED[a.inputs["policyArn"]]
            for a in run.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
            if a.inputs["role"] == name
        ]
        boundary_arn = str(role.inputs.get("permissionsBoundary") or "")
        found[arn] = Principal(
            arn, name, inline + attached, documents.get(boundary_arn) if boundary_arn else None,
            json.loads(role.inputs["assumeRolePolicy"]), boundary_arn,
            dict(role.inputs.get("tags") or {}),
        )  # fmt: skip
    return found


def trusts(role: Principal, caller: Principal) -> bool:
    for st in role.trust["Statement"]:
        aws = st.get("Principal", {}).get("AWS", [])
        if st.get("Effect") == "Allow" and caller.arn in ([aws] if isinstance(aws, str) else aws):
            return True
    return False


def edges(caller: Principal, role: Principal, env: str, region: str, account: str) -> list[tuple[str, Principal]]:  # fmt: skip
    """The ways ``caller`` gains ``role``'s rights, with the rights it gains."""
    found: list[tuple[str, Principal]] = []
    bctx = (("iam:PermissionsBoundary", role.boundary_arn),) if role.boundary_arn else ()
    runs_as = (
        caller.may(Request("iam:PassRole", role.arn, (("iam:PassedToService", "lambda.amazonaws.com"),)))
        and caller.may(Request("lambda:CreateFunction", f"arn:aws:lambda:{region}:{account}:function:va-{env}-x"))
    ) or (
        caller.may(Request("iam:PassRole", role.arn, (("iam:PassedToService", "scheduler.amazonaws.com"),)))
        and caller.may(Request("scheduler:CreateSchedule", f"arn:aws:scheduler:{region}:{account}:schedule/default/va-{env}-x"))
    )  # fmt: skip
    assumes = caller.may(Request("sts:AssumeRole", role.arn)) and trusts(role, caller)
    writes = caller.may(Request("iam:PutRolePolicy", role.arn, bctx))
    retrusts = caller.may(Request("iam:UpdateAssumeRolePolicy", role.arn, bctx)) and caller.may(
        Request("sts:AssumeRole", role.arn)
    )
    target = role.rewritten() if writes else role
    if runs_as:
        found.append(("runs code as", target))
    if assumes or retrusts:
        found.append(("assumes", target))
    return found


def search(run: Run, env: str) -> dict[str, dict[str, Principal]]:
    """For each principal, the principals (as it can make them) it reaches."""
    region = "eu-central-1"
    roles = principals(run)
    account = next(iter(roles)).split(":")[4]
    result = {}
    for start in roles.values():
        reached: dict[str, Principal] = {}
        queue = deque([start])
        while queue:
            current = queue.popleft()
            for role in roles.values():
                if role.arn == start.arn or role.arn in reached:
                    continue
                for _, gained in edges(current, role, env, region, account):
                    reached[role.arn] = gained
                    queue.append(gained)
                    break
        result[start.arn] = reached
    return result


def admin_probes(account: str, env: str) -> list[Request]:
    iam = f"arn:aws:iam::{account}"
    return [
        Request("iam:AttachRolePolicy", f"{iam}:role/va-{env}-ghdeploy-role", (("iam:PolicyARN", "arn:aws:iam::aws:policy/AdministratorAccess"),)),
        Request("iam:PutRolePolicy", f"{iam}:role/va-{env}-ghdeploy-role"),
        Request("iam:CreatePolicyVersion", f"{iam}:policy/va-{env}-ghdeploy-iam-policy"),
        Request("iam:CreatePolicyVersion", f"{iam}:policy/va-{env}-workload-boundary"),
        Request("iam:CreateRole", f"{iam}:role/va-{env}-x-lambda-role"),
        Request("iam:DeleteRolePermissionsBoundary", f"{iam}:role/va-{env}-x-lambda-role", (("iam:PermissionsBoundary", f"{iam}:policy/va-{env}-workload-boundary"),)),
        Request("iam:CreateUser", f"{iam}:user/x"),
        Request("iam:CreateAccessKey", f"{iam}:user/x"),
        Request("sts:AssumeRole", f"{iam}:role/va-{env}-ghdeploy-role"),
        Request("organizations:LeaveOrganization", "*"),
        Request("kms:PutKeyPolicy", f"arn:aws:kms:eu-central-1:{account}:key/k", (("aws:ResourceTag/Environment", env),)),
    ]  # fmt: skip


def ownership_probes(account: str, env: str) -> list[Request]:
    """What would let a role read another owner's secret by its tags (the workload boundary's
    SecretsTaggedForThisEnvironmentAndOwner): reading one, or making a role or a secret match."""
    secret = f"arn:aws:secretsmanager:eu-central-1:{account}:secret:billing/stripe-key-AbCdEf"
    role = f"arn:aws:iam::{account}:role/va-{env}-x-lambda-role"
    boundary = f"arn:aws:iam::{account}:policy/va-{env}-workload-boundary"
    other_env = "prod" if env != "prod" else "dev"
    theirs = (("aws:ResourceTag/Environment", env), ("aws:ResourceTag/Owner", "another-team"))
    other_envs = (("aws:ResourceTag/Environment", other_env), ("aws:ResourceTag/Owner", "platform-team"))  # fmt: skip
    claim = (("aws:RequestTag/Owner", "another-team"), ("aws:TagKeys", "Owner"))
    mine = (("aws:RequestTag/Owner", "platform-team"), ("aws:TagKeys", "Owner"))
    for_env = (("aws:RequestTag/Environment", env), ("aws:TagKeys", "Environment"))
    return [
        Request("secretsmanager:GetSecretValue", secret, theirs),
        Request("secretsmanager:GetSecretValue", secret, other_envs),
        Request("iam:TagRole", role, claim),
        Request("iam:CreateRole", role, (("iam:PermissionsBoundary", boundary), *claim)),
        Request("secretsmanager:TagResource", secret, (*theirs, *mine)),
        Request("secretsmanager:TagResource", secret, for_env),
    ]


STACKS = [("dev", "dev"), ("prod", "prod"), ("every-trigger", "dev")]


@pytest.mark.parametrize(("stack", "env"), STACKS, ids=[s for s, _ in STACKS])
def test_no_principal_the_stack_creates_reaches_administrator(stack, env):
    run = stack_run(stack)
    roles = principals(run)
    account = next(iter(roles)).split(":")[4]
    probes = [*admin_probes(account, env), *ownership_probes(account, env)]
    found = [
        f"{roles[start].name} via {gained.name}: {probe}"
        for start, reached in search(run, env).items()
        for gained in [roles[start], *reached.values()]
        for probe in probes
        if gained.may(probe)
    ]
    assert found == []


@pytest.mark.parametrize(("stack", "env"), STACKS, ids=[s for s, _ in STACKS])
def test_each_principal_reaches_only_what_the_design_gives_it(stack, env):
    """The deploy role: its environment's workload roles, each bounded; a FAALF function role:
    its own agent role; nothing else reaches anyone."""
    run = stack_run(stack)
    roles = principals(run)
    unexpected = []
    for start, reached in search(run, env).items():
        name = roles[start].name
        for arn, gained in reached.items():
            target = roles[arn].name
            deploy_to_workload = name.endswith("-ghdeploy-role") and gained.boundary is not None
            function_to_agent = name.endswith("-lambda-role") and target == name.replace(
                "-lambda-role", "-agent-role"
            )
            if not (deploy_to_workload or function_to_agent):
                unexpected.append(f"{name} -> {target}")
    assert unexpected == []


def test_the_search_finds_the_paths_it_looks_for():
    """Guards the two tests above against a search that finds nothing: the deploy role reaches
    the execution roles, and an agent function role its agent role."""
    run = stack_run("dev")
    roles = {p.name: arn for arn, p in principals(run).items()}
    reached = search(run, "dev")
    deploy = {principals(run)[a].name for a in reached[roles["va-dev-ghdeploy-role"]]}
    agent = {principals(run)[a].name for a in reached[roles["va-dev-costreview-lambda-role"]]}
    assert "va-dev-contentgen-lambda-role" in deploy
    assert "va-dev-contentgen-schedule-role" in deploy
    assert agent == {"va-dev-costreview-agent-role"}
