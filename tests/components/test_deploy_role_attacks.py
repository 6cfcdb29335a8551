"""Attack review of issues 16 and 22: what a GitHub deploy session (``va-<env>-ghdeploy-role``)
can make of the IAM rights `pulumi up` needs, beyond what the program declares.

The evaluator (tests/iam_eval.py) honours conditions, explicit Deny and permissions boundaries.
Each path of issue 22 is a test here; each failed on the code before the boundary, the
administrator-owned identities and the condition-scoped statements (see the commit message).
"""

from __future__ import annotations

import json

import pytest

from tests.components.test_deploy_role import (
    A,
    Request,
    allows,
    custom_resources,
    deploy_policy_of,
    passes,
    stack_run,
)
from va_platform.preflight.mocks import Recorded
from va_platform.preflight.runner import Run

OWN_ROLE = f"arn:aws:iam::{A}:role/va-dev-ghdeploy-role"
OWN_POLICY = f"arn:aws:iam::{A}:policy/va-dev-ghdeploy-iam-policy"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"


def attach(role: str, policy_arn: str) -> Request:
    return Request("iam:AttachRolePolicy", role, (("iam:PolicyARN", policy_arn),))


@pytest.mark.parametrize(
    ("role", "policy_arn"),
    [
        pytest.param(OWN_ROLE, ADMIN, id="admin-to-itself"),
        pytest.param(f"arn:aws:iam::{A}:role/va-dev-contentgen-lambda-role", ADMIN, id="admin"),
        pytest.param(OWN_ROLE, f"arn:aws:iam::{A}:policy/va-dev-anything", id="own-making"),
    ],
)
def test_a_deploy_session_cannot_attach_a_policy_the_program_does_not_attach(role, policy_arn):
    assert not allows(deploy_policy_of(stack_run("dev")), attach(role, policy_arn))


def test_a_deploy_session_cannot_create_managed_policies_beyond_its_own():
    policy = deploy_policy_of(stack_run("dev"))
    assert not allows(
        policy, Request("iam:CreatePolicy", f"arn:aws:iam::{A}:policy/va-dev-anything")
    )


@pytest.mark.parametrize(
    "request_",
    [
        pytest.param(Request("iam:CreatePolicyVersion", OWN_POLICY), id="own-policy-version"),
        pytest.param(Request("iam:PutRolePolicy", OWN_ROLE), id="inline-policy-on-itself"),
        pytest.param(Request("iam:UpdateAssumeRolePolicy", OWN_ROLE), id="own-trust-policy"),
        pytest.param(attach(OWN_ROLE, OWN_POLICY), id="attach-to-itself"),
        pytest.param(Request("iam:SetDefaultPolicyVersion", OWN_POLICY), id="default-version"),
    ],
)
def test_a_deploy_session_cannot_change_its_own_permissions(request_):
    """Even with the actions allowed on the environment's roles and its own policies, an
    explicit Deny on its own role and policies wins (deploy_policy.py NeverItsOwn*)."""
    assert not allows(deploy_policy_of(stack_run("dev")), request_)


def test_a_deploy_session_cannot_write_a_role_policy_without_the_boundary():
    """A PutRolePolicy on an execution role that carries no permissions boundary is refused."""
    role = f"arn:aws:iam::{A}:role/va-dev-contentgen-lambda-role"
    assert not allows(deploy_policy_of(stack_run("dev")), Request("iam:PutRolePolicy", role))


def test_a_deploy_session_cannot_attach_a_policy_named_like_its_own_to_another_role():
    """Its own policies are an administrator's (it may neither create nor attach them): a
    session may not make a ``va-<env>-ghdeploy-x-policy`` and attach it to an execution role."""
    policy = deploy_policy_of(stack_run("dev"))
    made = f"arn:aws:iam::{A}:policy/va-dev-ghdeploy-x-policy"
    role = f"arn:aws:iam::{A}:role/va-dev-contentgen-lambda-role"
    assert (
        allows(policy, Request("iam:CreatePolicy", made)),
        allows(policy, attach(role, made)),
    ) == (
        False,
        False,
    )


# --- issue 22: the permissions boundary ------------------------------------------------------

BOUNDARY = f"arn:aws:iam::{A}:policy/va-dev-workload-boundary"
OTHER_POLICY = f"arn:aws:iam::{A}:policy/va-dev-anything"
EXECUTION_ROLE = f"arn:aws:iam::{A}:role/va-dev-contentgen-lambda-role"
SCHEDULE_ROLE = f"arn:aws:iam::{A}:role/va-dev-contentgen-schedule-role"
AGENT_ROLE = f"arn:aws:iam::{A}:role/va-dev-costreview-agent-role"
PREVIEW_ROLE = f"arn:aws:iam::{A}:role/va-dev-ghpreview-role"
NEW_ROLE = f"arn:aws:iam::{A}:role/va-dev-ops-lambda-role"
EVERYTHING = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}  # fmt: skip


def bounded(action: str, arn: str, boundary: str = BOUNDARY) -> Request:
    return Request(action, arn, (("iam:PermissionsBoundary", boundary),))


def session() -> dict:
    return deploy_policy_of(stack_run("dev"))


def workload_boundary(run: Run) -> dict:
    """The boundary document as registered (va-<env>-workload-boundary)."""
    found = [
        p
        for p in run.of_type("aws:iam/policy:Policy")
        if str(p.inputs["name"]).endswith("-workload-boundary")
    ]
    assert len(found) == 1, "the stack declares one workload boundary"
    return json.loads(found[0].inputs["policy"])


@pytest.mark.parametrize(
    "request_",
    [
        pytest.param(Request("iam:CreateRole", NEW_ROLE), id="create-without"),
        pytest.param(bounded("iam:CreateRole", NEW_ROLE, OTHER_POLICY), id="create-with-another"),
        pytest.param(Request("iam:PutRolePolicy", NEW_ROLE), id="policy-on-unbounded"),
        pytest.param(Request("iam:UpdateAssumeRolePolicy", NEW_ROLE), id="trust-of-unbounded"),
        pytest.param(bounded("iam:DeleteRolePermissionsBoundary", EXECUTION_ROLE), id="remove"),
        pytest.param(
            bounded("iam:PutRolePermissionsBoundary", EXECUTION_ROLE, OTHER_POLICY), id="replace"
        ),
    ],
)
def test_a_deploy_session_cannot_have_a_role_without_the_workload_boundary(request_):
    """Issue 22: `iam:CreateRole va-dev-ops-lambda-role` with an outside trust, then an inline
    `*` policy, was persistent admin in two calls."""
    assert not allows(session(), request_)


@pytest.mark.parametrize(
    "action",
    ["iam:CreateRole", "iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:UpdateAssumeRolePolicy"],
)
def test_a_deploy_session_may_write_roles_that_carry_the_boundary(action):
    """What `pulumi up` does to the workload roles stays possible."""
    assert allows(session(), bounded(action, EXECUTION_ROLE))


@pytest.mark.parametrize(
    "action",
    ["iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:DeletePolicy", "iam:TagPolicy"],
)
def test_a_deploy_session_cannot_change_the_boundary_itself(action):
    assert not allows(session(), Request(action, BOUNDARY))


def test_every_role_the_stack_creates_for_workloads_carries_the_boundary():
    """Execution, schedule and agent roles, in every stack; only the administrator's roles
    carry none: the CI identities and the retention guard's (assumed by Systems Manager)."""
    missing = sorted(
        f"{name}: {r.inputs.get('permissionsBoundary')}"
        for stack in ("dev", "prod", "every-trigger")
        for r in stack_run(stack).of_type("aws:iam/role:Role")
        if not (name := str(r.inputs["name"])).endswith(
            ("-ghdeploy-role", "-ghpreview-role", "-logretention-role")
        )
        and r.inputs.get("permissionsBoundary")
        != f"arn:aws:iam::{str(r.outputs['arn']).split(':')[4]}:policy/"
        f"va-{name.split('-')[1]}-workload-boundary"
    )
    assert missing == []


# What a role with the boundary could do with any policy a session writes on it: nothing of this.
ESCALATIONS = [
    Request("iam:AttachRolePolicy", f"arn:aws:iam::{A}:role/va-dev-ghdeploy-role"),
    Request("iam:PutRolePolicy", f"arn:aws:iam::{A}:role/va-dev-ghdeploy-role"),
    Request("iam:CreateRole", NEW_ROLE),
    Request("iam:UpdateAssumeRolePolicy", PREVIEW_ROLE),
    Request("iam:CreatePolicyVersion", BOUNDARY),
    Request("sts:AssumeRole", f"arn:aws:iam::{A}:role/va-dev-ghdeploy-role"),
    Request("sts:AssumeRole", f"arn:aws:iam::{A}:role/va-prod-costreview-agent-role"),
    Request("kms:PutKeyPolicy", f"arn:aws:kms:eu-central-1:{A}:key/k"),
    Request("kms:CreateGrant", f"arn:aws:kms:eu-central-1:{A}:key/k"),
    Request("kms:ScheduleKeyDeletion", f"arn:aws:kms:eu-central-1:{A}:key/k"),
    Request("lambda:AddPermission", f"arn:aws:lambda:eu-central-1:{A}:function:va-dev-agent-lambda"),
    Request("lambda:CreateFunctionUrlConfig", f"arn:aws:lambda:eu-central-1:{A}:function:va-dev-agent-lambda"),
    Request("lambda:UpdateFunctionCode", f"arn:aws:lambda:eu-central-1:{A}:function:va-dev-agent-lambda"),
    Request("scheduler:CreateSchedule", f"arn:aws:scheduler:eu-central-1:{A}:schedule/default/x"),
    Request("events:PutTargets", f"arn:aws:events:eu-central-1:{A}:rule/x"),
    Request("cloudtrail:StopLogging", f"arn:aws:cloudtrail:eu-central-1:{A}:trail/t"),
    Request("logs:DeleteLogGroup", f"arn:aws:logs:eu-central-1:{A}:log-group:/aws/lambda/va-dev-agent-lambda"),
    Request("dynamodb:Scan", f"arn:aws:dynamodb:eu-central-1:{A}:table/va-prod-core-dynamodb"),
    Request("secretsmanager:GetSecretValue", f"arn:aws:secretsmanager:eu-central-1:{A}:secret:va/prod/openai-api-key-AbCdEf"),
]  # fmt: skip


@pytest.mark.parametrize("request_", ESCALATIONS, ids=lambda q: q.action)
@pytest.mark.parametrize("role", [EXECUTION_ROLE, SCHEDULE_ROLE, AGENT_ROLE], ids=["execution", "schedule", "agent"])  # fmt: skip
def test_a_policy_a_session_writes_on_a_workload_role_is_capped_by_the_boundary(role, request_):
    """The two-hop paths of issue 22: a `*` policy on an execution role passed to Lambda, or on a
    schedule role whose universal target (`aws-sdk:iam:attachRolePolicy`) attaches
    AdministratorAccess to the deploy role. The session may write the policy (the role carries
    the boundary); the role can still do none of this."""
    run = stack_run("dev")
    assert allows(session(), bounded("iam:PutRolePolicy", role))
    assert not allows(EVERYTHING, request_, boundary=workload_boundary(run))


def test_the_boundary_leaves_the_workloads_what_they_use():
    """Guards the test above against a boundary that allows nothing: every statement of every
    workload role of the stacks is allowed by it on its own resources."""
    refused = []
    for stack in ("dev", "prod", "every-trigger"):
        run = stack_run(stack)
        boundary = workload_boundary(run)
        roles = {
            str(r.inputs["name"])
            for r in run.of_type("aws:iam/role:Role")
            if r.inputs.get("permissionsBoundary")
        }
        for p in run.of_type("aws:iam/rolePolicy:RolePolicy"):
            if p.inputs["role"] not in roles:
                continue
            for st in json.loads(p.inputs["policy"])["Statement"]:
                for action in [st["Action"]] if isinstance(st["Action"], str) else st["Action"]:
                    for arn in (
                        [st["Resource"]] if isinstance(st["Resource"], str) else st["Resource"]
                    ):
                        request = Request(
                            action,
                            arn.replace("*", "x"),
                            (
                                (
                                    "aws:ResourceTag/Environment",
                                    stack.replace("every-trigger", "dev"),
                                ),
                            ),
                        )
                        if not allows(EVERYTHING, request, boundary=boundary):
                            refused.append(f"{stack} {p.inputs['role']}: {request}")
    assert refused == []


# --- issue 22: trust and the CI identities are an administrator's -----------------------------


@pytest.mark.parametrize(
    "request_",
    [
        pytest.param(Request("iam:UpdateAssumeRolePolicy", PREVIEW_ROLE), id="preview-trust"),
        pytest.param(Request("iam:DeleteRolePolicy", PREVIEW_ROLE), id="preview-deny-dropped"),
        pytest.param(Request("iam:PutRolePolicy", PREVIEW_ROLE), id="preview-policy"),
        pytest.param(Request("iam:UpdateRole", PREVIEW_ROLE), id="preview-session"),
        pytest.param(
            attach(PREVIEW_ROLE, "arn:aws:iam::aws:policy/ReadOnlyAccess"), id="preview-attach"
        ),
        pytest.param(
            attach(AGENT_ROLE, "arn:aws:iam::aws:policy/ReadOnlyAccess"), id="agent-read-only"
        ),
        pytest.param(
            Request(
                "iam:AddClientIDToOpenIDConnectProvider",
                f"arn:aws:iam::{A}:oidc-provider/token.actions.githubusercontent.com",
            ),
            id="oidc-audience",
        ),
    ],
)
def test_a_deploy_session_cannot_change_the_ci_identities(request_):
    """Widening the preview role's trust to another repository, dropping its NoDataOrSecretReads
    Deny, or giving an agent role ReadOnlyAccess: an administrator's, never CI's."""
    assert not allows(session(), request_)


# --- issue 22: nothing outside its environment ------------------------------------------------

OWN_TAGS = (("aws:ResourceTag/Environment", "dev"), ("aws:ResourceTag/Project", "VirtualAgentics"))
PROD_TAGS = (
    ("aws:ResourceTag/Environment", "prod"),
    ("aws:ResourceTag/Project", "VirtualAgentics"),
)
KEY = f"arn:aws:kms:eu-central-1:{A}:key/another-teams-key"
VPC = f"arn:aws:ec2:eu-central-1:{A}:vpc/vpc-0other"
SG = f"arn:aws:ec2:eu-central-1:{A}:security-group/sg-0other"
RTB = f"arn:aws:ec2:eu-central-1:{A}:route-table/rtb-0other"
FUNCTION = f"arn:aws:lambda:eu-central-1:{A}:function:va-dev-agent-lambda"
ESM = f"arn:aws:lambda:eu-central-1:{A}:event-source-mapping:0000-other"


@pytest.mark.parametrize("tags", [(), PROD_TAGS], ids=["untagged", "prod"])
@pytest.mark.parametrize(
    "action",
    ["kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:Decrypt", "kms:CreateGrant",
     "kms:TagResource"],
)  # fmt: skip
def test_a_deploy_session_cannot_touch_a_key_of_another_environment(action, tags):
    grant = (("kms:GrantIsForAWSResource", "true"),)
    assert not allows(session(), Request(action, KEY, tags + grant))


def test_a_deploy_session_grants_on_its_key_only_to_aws_services():
    key = f"arn:aws:kms:eu-central-1:{A}:key/own"
    assert not allows(session(), Request("kms:CreateGrant", key, OWN_TAGS))
    assert allows(
        session(),
        Request("kms:CreateGrant", key, (*OWN_TAGS, ("kms:GrantIsForAWSResource", "true"))),
    )


def test_a_deploy_session_cannot_bypass_the_key_policy_lockout_check():
    key = f"arn:aws:kms:eu-central-1:{A}:key/own"
    bypass = ("kms:BypassPolicyLockoutSafetyCheck", "true")
    assert not allows(session(), Request("kms:PutKeyPolicy", key, (*OWN_TAGS, bypass)))
    assert not allows(
        session(), Request("kms:CreateKey", "*", (("aws:RequestTag/Environment", "dev"), bypass))
    )


@pytest.mark.parametrize("tags", [(), PROD_TAGS], ids=["untagged", "prod"])
@pytest.mark.parametrize(
    ("action", "arn"),
    [("ec2:DeleteVpc", VPC), ("ec2:AuthorizeSecurityGroupIngress", SG),
     ("ec2:RevokeSecurityGroupEgress", SG), ("ec2:CreateRoute", RTB), ("ec2:ReplaceRoute", RTB)],
)  # fmt: skip
def test_a_deploy_session_cannot_change_network_of_another_environment(action, arn, tags):
    assert not allows(session(), Request(action, arn, tags))


def test_a_deploy_session_cannot_retag_a_resource_of_another_environment():
    """Else it could tag prod's security group `Environment=dev` and open it."""
    retag = Request("ec2:CreateTags", SG, (*PROD_TAGS, ("aws:RequestTag/Environment", "dev")))
    assert not allows(session(), retag)


@pytest.mark.parametrize(
    "action", ["lambda:UpdateEventSourceMapping", "lambda:DeleteEventSourceMapping"]
)
def test_a_deploy_session_cannot_change_a_mapping_of_another_function(action):
    other = f"arn:aws:lambda:eu-central-1:{A}:function:billing-consumer"
    assert not allows(session(), Request(action, ESM, (("lambda:FunctionArn", other),)))


@pytest.mark.parametrize("principal", ["*", "123456789999", "lambda.amazonaws.com"])
def test_a_deploy_session_cannot_let_anyone_else_invoke_a_function(principal):
    assert not allows(
        session(), Request("lambda:AddPermission", FUNCTION, (("lambda:Principal", principal),))
    )


def test_a_deploy_session_may_let_the_stacks_triggers_invoke_a_function():
    assert allows(
        session(),
        Request("lambda:AddPermission", FUNCTION, (("lambda:Principal", "events.amazonaws.com"),)),
    )


@pytest.mark.parametrize(
    "action", ["lambda:CreateFunctionUrlConfig", "lambda:UpdateFunctionUrlConfig"]
)
def test_a_deploy_session_cannot_open_a_function_url_to_the_public(action):
    """The FAALF agent behind a URL with AuthType NONE: anyone's prompts on our bill."""
    assert not allows(
        session(), Request(action, FUNCTION, (("lambda:FunctionUrlAuthType", "NONE"),))
    )


@pytest.mark.parametrize(
    "request_",
    [
        Request("iam:PutRolePolicy", f"arn:aws:iam::{A}:role/va-prod-contentgen-lambda-role"),
        Request("lambda:UpdateFunctionCode", f"arn:aws:lambda:eu-central-1:{A}:function:va-prod-agent-lambda"),
        Request("kms:Decrypt", KEY, PROD_TAGS),
        Request("secretsmanager:GetSecretValue", f"arn:aws:secretsmanager:eu-central-1:{A}:secret:va/prod/openai-api-key-AbCdEf"),
    ],
    ids=lambda q: q.action,
)  # fmt: skip
def test_the_dev_deploy_session_cannot_reach_prod_even_in_a_shared_account(request_):
    """Names and tags keep dev's session off prod's resources, should both share an account."""
    assert not allows(session(), request_)


def test_the_attacks_above_aim_at_the_registered_roles():
    """Guards the role ARNs above against drifting from what the program names."""
    roles = {
        str(r.outputs["arn"])
        for r in custom_resources(stack_run("dev"))
        if r.type == "aws:iam/role:Role"
    }
    assert {EXECUTION_ROLE, SCHEDULE_ROLE, AGENT_ROLE, PREVIEW_ROLE} <= roles
    assert allows(session(), passes(EXECUTION_ROLE, "lambda.amazonaws.com"))


# --- issue 22: hiding its tracks --------------------------------------------------------------

R = "eu-central-1"
LOG_GROUP = f"arn:aws:logs:{R}:{A}:log-group:/aws/lambda/va-dev-agent-lambda"
API_LOG_GROUP = f"arn:aws:logs:{R}:{A}:log-group:va-dev-webhook-api-logs"
ALARM = f"arn:aws:cloudwatch:{R}:{A}:alarm:va-dev-contentgen-errors-alarm"
ALARM_TOPIC = f"arn:aws:sns:{R}:{A}:va-dev-alarms-topic"
OWN_KEY = f"arn:aws:kms:{R}:{A}:key/own"


@pytest.mark.parametrize(
    "request_",
    [
        pytest.param(Request("logs:DeleteLogGroup", LOG_GROUP, OWN_TAGS), id="log-group"),
        pytest.param(Request("logs:DeleteLogGroup", API_LOG_GROUP, OWN_TAGS), id="api-log-group"),
        pytest.param(Request("logs:DeleteLogStream", LOG_GROUP, OWN_TAGS), id="log-stream"),
        pytest.param(Request("cloudwatch:DeleteAlarms", ALARM, OWN_TAGS), id="alarm"),
        pytest.param(Request("cloudwatch:DisableAlarmActions", ALARM, OWN_TAGS), id="alarm-off"),
        pytest.param(Request("sns:DeleteTopic", ALARM_TOPIC, OWN_TAGS), id="alarm-topic"),
        pytest.param(
            Request("sns:SetTopicAttributes", ALARM_TOPIC, OWN_TAGS), id="alarm-topic-policy-or-key"
        ),
        pytest.param(Request("sns:Unsubscribe", "*"), id="alarm-email-unsubscribed"),
        pytest.param(Request("sns:SetSubscriptionAttributes", "*"), id="alarm-email-filtered"),
        pytest.param(Request("kms:ScheduleKeyDeletion", OWN_KEY, OWN_TAGS), id="log-key-deleted"),
    ],
)
def test_a_deploy_session_cannot_remove_or_silence_what_keeps_the_record(request_):
    """Issue 22: delete the stack's log groups, alarms and alarm topic, unsubscribe or filter
    the alarm e-mail, or delete the key the log groups are encrypted with. `pulumi up` that
    removes one of them (a function dropped) needs an administrator (docs/operations.md)."""
    assert not allows(session(), request_)


OWN_NEW_TAGS = (
    ("aws:RequestTag/Environment", "dev"),
    ("aws:RequestTag/Project", "VirtualAgentics"),
)


def put_alarm(*actions: str, tags: tuple[tuple[str, str], ...] = OWN_NEW_TAGS) -> Request:
    """PutMetricAlarm creating ``ALARM`` (request tags only), or overwriting it (``tags`` holds
    its resource tags: AWS puts an existing alarm's tags in the request)."""
    return Request(
        "cloudwatch:PutMetricAlarm",
        ALARM,
        (*tags, *(("cloudwatch:AlarmActions", a) for a in actions)),
    )


@pytest.mark.parametrize(
    "actions",
    [(), (f"arn:aws:sns:{R}:999999999999:elsewhere",), (ALARM_TOPIC, f"arn:aws:sns:{R}:{A}:other")],
    ids=["no-action", "another-accounts-topic", "also-another-topic"],
)
def test_a_deploy_session_cannot_rewrite_an_alarm_to_notify_no_one(actions):
    """PutMetricAlarm overwrites an alarm: only with its actions on this environment's topics."""
    assert not allows(session(), put_alarm(*actions))


def test_a_deploy_session_may_still_create_alarms_that_notify_the_alarm_topic():
    assert allows(session(), put_alarm(ALARM_TOPIC))


def test_a_deploy_session_cannot_create_an_alarm_untagged():
    """An alarm it creates carries the environment's tags, so it is never rewritten after."""
    assert not allows(session(), put_alarm(ALARM_TOPIC, tags=()))


def test_a_deploy_session_cannot_change_the_threshold_of_an_existing_alarm():
    """PutMetricAlarm overwrites an alarm whole, and no condition key bounds its threshold,
    period or metric: an alarm that exists (it carries its tags) is rewritten only by an
    administrator; the session may create alarms, not change them."""
    assert not allows(session(), put_alarm(ALARM_TOPIC, tags=(*OWN_TAGS, *OWN_NEW_TAGS)))


@pytest.mark.parametrize("key", ["Environment", "Project"])
def test_a_deploy_session_cannot_untag_an_alarm_to_rewrite_it(key):
    """Else it would drop the tag that marks the alarm as existing, then overwrite it."""
    untag = Request("cloudwatch:UntagResource", ALARM, (*OWN_TAGS, ("aws:TagKeys", key)))
    assert not allows(session(), untag)


# No condition key bounds logs:PutRetentionPolicy's value (AWS's catalogue: aws:ResourceTag
# only) and `pulumi up` needs the action, so a session may still set one day: what the stack
# makes sure of is that it does not stay so (components/retention_guard.py, docs/adr/0006).
GUARD_ROLE = f"arn:aws:iam::{A}:role/va-dev-logretention-role"
GUARD_RULE = f"arn:aws:config:{R}:{A}:config-rule/config-rule-0guard"
GUARD_REMEDIATION = f"arn:aws:config:{R}:{A}:remediation-configuration/0guard"
GUARD_DOCUMENT = f"arn:aws:ssm:{R}:{A}:document/va-dev-logretention-document"
RECORDER = f"arn:aws:config:{R}:{A}:configuration-recorder/default/0recorder"


def the_guard(run: Run) -> dict[str, Recorded]:
    """The retention guard's resources as registered, by type token."""
    return {r.type: r for r in run.resources if "va:logs:VaRetentionGuard$" in r.urn and r.custom}


def test_a_deploy_session_cannot_keep_a_log_groups_retention_short():
    """Issue 22: a session sets a log group's retention to one day. An administrator's AWS
    Config rule finds, every hour, every log group kept shorter than the shortest retention the
    stack declares, and its automatic remediation runs a document that puts that retention back,
    as a role that may do so on every log group of the stack (CloudWatch deletes expired events
    only some time after, and keeps them if the retention grows back first)."""
    run = stack_run("dev")
    guard = the_guard(run)
    rule, remediation = guard["aws:cfg/rule:Rule"], guard["aws:cfg/remediationConfiguration:RemediationConfiguration"]  # fmt: skip
    role = guard["aws:iam/role:Role"]
    document = json.loads(guard["aws:ssm/document:Document"].inputs["content"])
    policy = json.loads(guard["aws:iam/rolePolicy:RolePolicy"].inputs["policy"])
    declared = {int(g.inputs["retentionInDays"]) for g in run.of_type("aws:cloudwatch/logGroup:LogGroup")}  # fmt: skip
    params = {p["name"]: p.get("staticValue") or p.get("resourceValue") for p in remediation.inputs["parameters"]}  # fmt: skip
    groups = [str(g.outputs["arn"]) for g in run.of_type("aws:cloudwatch/logGroup:LogGroup")]
    assert (rule.inputs["source"], rule.inputs["maximumExecutionFrequency"]) == (
        {"owner": "AWS", "sourceIdentifier": "CW_LOGGROUP_RETENTION_PERIOD_CHECK"}, "One_Hour"
    )  # fmt: skip
    assert json.loads(rule.inputs["inputParameters"]) == {"MinRetentionTime": str(min(declared))}
    assert (remediation.inputs["automatic"], remediation.inputs["configRuleName"]) == (True, rule.inputs["name"])  # fmt: skip
    assert params == {"AutomationAssumeRole": role.outputs["arn"], "LogGroupName": "RESOURCE_ID", "RetentionInDays": str(min(declared))}  # fmt: skip
    assert document["mainSteps"][0]["inputs"]["Api"] == "PutRetentionPolicy"
    assert len(groups) >= 3
    assert all(allows(policy, Request("logs:PutRetentionPolicy", g)) for g in groups)


@pytest.mark.parametrize(
    "request_",
    [
        pytest.param(Request("config:DeleteConfigRule", GUARD_RULE, OWN_TAGS), id="delete-rule"),
        pytest.param(Request("config:PutConfigRule", GUARD_RULE, OWN_TAGS), id="rewrite-rule"),
        pytest.param(Request("config:DeleteEvaluationResults", GUARD_RULE), id="forget-results"),
        pytest.param(Request("config:DeleteRemediationConfiguration", GUARD_REMEDIATION), id="delete-remediation"),
        pytest.param(Request("config:PutRemediationConfigurations", GUARD_REMEDIATION), id="rewrite-remediation"),
        pytest.param(Request("config:PutRemediationExceptions", "*"), id="exempt-a-log-group"),
        pytest.param(Request("config:StopConfigurationRecorder", RECORDER), id="stop-recorder"),
        pytest.param(Request("config:DeleteConfigurationRecorder", RECORDER), id="delete-recorder"),
        pytest.param(Request("config:PutConfigurationRecorder", RECORDER), id="stop-recording-log-groups"),
        pytest.param(Request("ssm:UpdateDocument", GUARD_DOCUMENT, OWN_TAGS), id="rewrite-document"),
        pytest.param(Request("ssm:UpdateDocumentDefaultVersion", GUARD_DOCUMENT, OWN_TAGS), id="document-version"),
        pytest.param(Request("ssm:DeleteDocument", GUARD_DOCUMENT, OWN_TAGS), id="delete-document"),
        pytest.param(Request("iam:PutRolePolicy", GUARD_ROLE), id="rewrite-role-policy"),
        pytest.param(Request("iam:DeleteRolePolicy", GUARD_ROLE), id="drop-role-policy"),
        pytest.param(Request("iam:UpdateAssumeRolePolicy", GUARD_ROLE), id="role-trust"),
        pytest.param(Request("iam:DeleteRole", GUARD_ROLE), id="delete-role"),
        pytest.param(Request("iam:TagRole", GUARD_ROLE), id="tag-role"),
    ],
)  # fmt: skip
def test_a_deploy_session_cannot_disarm_the_retention_guard(request_):
    """Else it would stop the rule, the recorder or the remediation first, then shorten."""
    assert not allows(session(), request_)


# --- issue 22: HTTP APIs of another environment -------------------------------------------------

API = f"arn:aws:apigateway:{R}::/apis/0other"
ROUTE = f"{API}/routes/r0other"
INTEGRATION = f"{API}/integrations/i0other"


@pytest.mark.parametrize("tags", [(), PROD_TAGS], ids=["untagged", "prod"])
@pytest.mark.parametrize("action", ["apigateway:PATCH", "apigateway:DELETE", "apigateway:PUT"])
def test_a_deploy_session_cannot_change_or_delete_an_api_of_another_environment(action, tags):
    assert not allows(session(), Request(action, API, tags))


@pytest.mark.parametrize("arn", [ROUTE, INTEGRATION], ids=["route", "integration"])
@pytest.mark.parametrize("action", ["apigateway:PATCH", "apigateway:DELETE", "apigateway:POST"])
def test_a_deploy_session_cannot_change_what_an_api_of_another_environment_holds(action, arn):
    """Where AWS puts the API's tags in the request (its catalogue lists aws:ResourceTag for
    routes and integrations; its guide documents tag inheritance for REST APIs only)."""
    assert not allows(session(), Request(action, arn, PROD_TAGS))


# AWS's API Gateway guide lists what an HTTP API can tag (the API, stages, domain names, VPC
# links) and documents tag inheritance for REST APIs only: a route or integration request may
# carry no aws:ResourceTag at all, whatever API it belongs to (docs/adr/0006).
ROUTES = f"{API}/routes"


def route(action: str, arn: str, authorization: str | None) -> Request:
    context = () if authorization is None else (("apigateway:Request/RouteAuthorizationType", authorization),)  # fmt: skip
    return Request(action, arn, context)


@pytest.mark.parametrize(
    ("action", "arn", "authorization"),
    [("apigateway:POST", ROUTES, "NONE"), ("apigateway:POST", ROUTES, None),
     ("apigateway:POST", ROUTES, "CUSTOM"), ("apigateway:PATCH", ROUTE, "NONE"),
     ("apigateway:PATCH", ROUTE, "CUSTOM")],
    ids=["create-open", "create-unstated", "create-custom", "patch-open", "patch-custom"],
)  # fmt: skip
def test_a_deploy_session_cannot_open_a_route_of_an_api_whose_tags_it_cannot_see(
    action, arn, authorization
):
    """Where AWS puts no tags in a route's request, the session could reach any HTTP API of the
    account by id: its routes are still never opened to anyone (AuthorizationType NONE) or to
    a Lambda authorizer of its choosing (CUSTOM); only AWS_IAM and JWT, as the program uses."""
    assert not allows(session(), route(action, arn, authorization))


@pytest.mark.parametrize("authorization", ["AWS_IAM", "JWT"])
def test_a_deploy_session_may_create_routes_with_iam_or_jwt_where_no_tags_are_seen(authorization):
    assert allows(session(), route("apigateway:POST", ROUTES, authorization))


def test_a_deploy_session_may_change_its_own_api():
    assert allows(session(), Request("apigateway:PATCH", API, OWN_TAGS))


@pytest.mark.parametrize(
    "tags",
    [(), (("aws:RequestTag/Environment", "prod"), ("aws:RequestTag/Project", "VirtualAgentics"))],
    ids=["untagged", "prod"],
)
def test_a_deploy_session_creates_apis_only_tagged_for_its_environment(tags):
    assert not allows(session(), Request("apigateway:POST", f"arn:aws:apigateway:{R}::/apis", tags))


@pytest.mark.parametrize("key", ["Environment", "Project"])
@pytest.mark.parametrize("action", ["apigateway:POST", "apigateway:DELETE"])
def test_a_deploy_session_cannot_retag_an_api_into_its_environment(action, key):
    """Else it could tag prod's API `Environment=dev`, then change it."""
    tags = f"arn:aws:apigateway:{R}::/tags/arn%3Aaws%3Aapigateway%3A{R}%3A%3A%2Fapis%2F0other"
    request = Request(action, tags, (("aws:TagKeys", key), ("aws:RequestTag/" + key, "dev")))
    assert not allows(session(), request)


# --- issue 22: EC2 created only for its environment, in its environment -------------------------

SUBNET = f"arn:aws:ec2:{R}:{A}:subnet/subnet-0other"
EIP = f"arn:aws:ec2:{R}:{A}:elastic-ip/eipalloc-0other"
IGW = f"arn:aws:ec2:{R}:{A}:internet-gateway/igw-0other"
NEW = {
    "ec2:CreateVpc": "vpc",
    "ec2:CreateSubnet": "subnet",
    "ec2:CreateRouteTable": "route-table",
    "ec2:CreateInternetGateway": "internet-gateway",
    "ec2:AllocateAddress": "elastic-ip",
    "ec2:CreateNatGateway": "natgateway",
    "ec2:CreateSecurityGroup": "security-group",
    "ec2:CreateVpcEndpoint": "vpc-endpoint",
}
PROD_REQUEST_TAGS = (
    ("aws:RequestTag/Environment", "prod"),
    ("aws:RequestTag/Project", "VirtualAgentics"),
)


@pytest.mark.parametrize("tags", [(), PROD_REQUEST_TAGS], ids=["untagged", "tagged-prod"])
@pytest.mark.parametrize("action", NEW)
def test_a_deploy_session_creates_ec2_resources_only_tagged_for_its_environment(action, tags):
    new = f"arn:aws:ec2:{R}:{A}:{NEW[action]}/new"
    assert not allows(session(), Request(action, new, tags))


OWN_REQUEST_TAGS = (("aws:RequestTag/Environment", "dev"), ("aws:RequestTag/Project", "VirtualAgentics"))  # fmt: skip


@pytest.mark.parametrize("tags", [(), PROD_TAGS], ids=["untagged", "prod"])
@pytest.mark.parametrize(
    ("action", "arn"),
    [("ec2:CreateSubnet", VPC), ("ec2:CreateSecurityGroup", VPC), ("ec2:CreateRouteTable", VPC),
     ("ec2:CreateVpcEndpoint", VPC), ("ec2:CreateVpcEndpoint", SUBNET), ("ec2:CreateVpcEndpoint", RTB),
     ("ec2:CreateVpcEndpoint", SG), ("ec2:CreateNatGateway", SUBNET), ("ec2:CreateNatGateway", EIP),
     ("ec2:AttachInternetGateway", VPC), ("ec2:AttachInternetGateway", IGW)],
)  # fmt: skip
def test_a_deploy_session_creates_nothing_in_a_network_of_another_environment(action, arn, tags):
    """A security group, subnet, endpoint or NAT gateway in prod's or another team's VPC, even
    tagged for dev: the VPC, subnet, route table or address it names must be dev's."""
    assert not allows(session(), Request(action, arn, tags + OWN_REQUEST_TAGS))


def test_each_ec2_creation_statement_lists_no_type_its_creations_only_name():
    """Guards CreateEc2TaggedForThisEnvironment*: AWS's catalogue lists aws:RequestTag on the
    VPC a subnet names too, so a statement that listed vpc/* beside CreateSubnet would let a
    dev-tagged subnet into prod's VPC. Of the types a statement lists, each of its actions is
    authorized on the one it creates only."""
    from va_platform import catalogue
    from va_platform.components.github.deploy_policy import EC2_CREATE_GROUPS, EC2_CREATED

    def kinds(action: str) -> set[str]:
        found = catalogue.action(action)
        assert found is not None, action
        return {fmt.rsplit(":", 1)[-1].split("/")[0] for fmt in found.arn_formats}

    assert sorted(a for group in EC2_CREATE_GROUPS for a in group) == sorted(EC2_CREATED)
    crossed = [
        f"{action} names {kinds(action) & listed - {EC2_CREATED[action]}}"
        for group in EC2_CREATE_GROUPS
        for listed in [{EC2_CREATED[a] for a in group}]
        for action in group
        if kinds(action) & listed != {EC2_CREATED[action]}
    ]
    assert crossed == []


# --- issue 22, residuals: key policies and role sessions are an administrator's -----------------


def stack_keys() -> list[tuple[str, tuple[tuple[str, str], ...]]]:
    """The keys the dev stack creates (the stack key, the alarm topic's), with their tags."""
    return [
        (str(k.outputs["arn"]), tuple((f"aws:ResourceTag/{t}", str(v)) for t, v in sorted((k.inputs.get("tags") or {}).items())))
        for k in stack_run("dev").of_type("aws:kms/key:Key")
    ]  # fmt: skip


def test_the_key_attacks_aim_at_the_stacks_keys():
    """Guards the test below against passing on nothing: the stack key and the alarm key."""
    assert len(stack_keys()) == 2
    assert all(("aws:ResourceTag/Environment", "dev") in tags for _, tags in stack_keys())


@pytest.mark.parametrize("which", [0, 1], ids=["stack-key", "alarm-key"])
def test_a_deploy_session_cannot_rewrite_a_key_policy_to_grant_decrypt(which):
    """A new key policy could grant the deploy role itself, or an outside account, kms:Decrypt
    on what the key protects (the functions' environment, the secrets, the logs, the alarm
    topic), or lock CloudWatch out of the alarm key. No condition key inspects the policy
    document, so the call itself is refused: a key gets its policy at CreateKey, and a change
    to it is applied by an administrator."""
    key, tags = stack_keys()[which]
    assert not allows(session(), Request("kms:PutKeyPolicy", key, tags))


@pytest.mark.parametrize(
    "role", [AGENT_ROLE, EXECUTION_ROLE, SCHEDULE_ROLE], ids=["agent", "execution", "schedule"]
)
def test_a_deploy_session_cannot_lengthen_a_roles_session(role):
    """UpdateRole sets MaxSessionDuration (up to 12 h on an agent role) and no condition key
    bounds it; the role's boundary (iam:PermissionsBoundary) says nothing about it. The
    program sets it at CreateRole; a change is an administrator's."""
    assert not allows(session(), bounded("iam:UpdateRole", role))
