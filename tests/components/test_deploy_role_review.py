"""A fresh attack review of issue 22's close: what a compromised deploy job
(``va-dev-ghdeploy-role``, one hour) or any pull request (``va-dev-ghpreview-role``) still
reaches, beyond the paths tests/components/test_deploy_role_attacks.py already refuses.

Each test states one path. Fixed ones failed before their change (deploy_policy.py,
org/trust.py); the rest are strict xfails naming the gap no condition key closes.
The evaluator (tests/iam_eval.py) judges identity policies, boundaries and, for the
organisation's RCP, a Deny-only resource policy; it does not model resource policies (bucket,
queue, key, repository, function), which is where several of these paths live.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from org.trust import trust_perimeter_policy
from tests.components.test_deploy_role import A, Request, allows, deploy_policy_of, stack_run
from tests.components.test_deploy_role_attacks import EVERYTHING, workload_boundary
from tests.iam_eval import effects
from tests.org.test_org import REPO
from va_platform import standard
from va_platform.components.github import deploy_policy
from va_platform.preflight.runner import run_program, stack_config

R = "eu-central-1"
OUTSIDE = "999999999999"
ORG_ID = "o-abcdefghij"
SUB = "token.actions.githubusercontent.com:sub"
ROLES = f"arn:aws:iam::{A}:role"
BOUNDARY = f"arn:aws:iam::{A}:policy/va-dev-workload-boundary"
EXECUTION_ROLE = f"{ROLES}/va-dev-contentgen-lambda-role"
AGENT_FUNCTION = f"arn:aws:lambda:{R}:{A}:function:va-dev-agent-lambda"
TOPIC = f"arn:aws:sns:{R}:{A}:va-dev-alarms-topic"
RULE = f"arn:aws:events:{R}:{A}:rule/va-dev-contentgen-rule"
APIS = f"arn:aws:apigateway:{R}::/apis"
DEV_TAGS = (("aws:ResourceTag/Environment", "dev"), ("aws:ResourceTag/Project", standard.PROJECT))
FOR_DEV = (("aws:RequestTag/Environment", "dev"), ("aws:RequestTag/Project", standard.PROJECT))
OUTSIDER = (("aws:PrincipalOrgID", "o-outsider00"), ("aws:PrincipalIsAWSService", "false"))
DEPLOY_WORKFLOW = Path(__file__).parents[2] / ".github" / "workflows" / "deploy.yml"


def session() -> dict:
    return deploy_policy_of(stack_run("dev"))


def bounded(action: str, arn: str) -> Request:
    return Request(action, arn, (("iam:PermissionsBoundary", BOUNDARY),))


def refused_by_the_organisation(request: Request) -> bool:
    return "Deny" in effects([trust_perimeter_policy(ORG_ID, REPO)], request)


# --- EventBridge: a rule's targets ------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        pytest.param(f"arn:aws:events:{R}:{OUTSIDE}:event-bus/default", id="outside-bus"),
        pytest.param(f"arn:aws:sns:{R}:{OUTSIDE}:collect", id="outside-topic"),
        pytest.param(f"arn:aws:sqs:{R}:{A}:billing-intake", id="another-teams-queue"),
        pytest.param(f"arn:aws:lambda:{R}:{A}:function:billing-export", id="another-function"),
    ],
)
def test_a_deploy_session_cannot_forward_a_rules_events_outside_its_environment(target):
    """A rule of its own on the default bus, matching every event (CloudTrail's API calls
    included), with another account's bus as target (no role needed when that bus's policy
    admits this account) keeps forwarding the account's events long after the hour. Fixed:
    PutTargets only with events:TargetArn on this environment's functions."""
    put = Request("events:PutTargets", RULE, (("events:TargetArn", target),))
    assert not allows(session(), put)


def test_a_deploy_session_cannot_put_targets_it_does_not_name():
    assert not allows(session(), Request("events:PutTargets", RULE))


@pytest.mark.parametrize("target", ["va-dev-contentgen-lambda", "va-dev-contentgen-lambda:live"])
def test_a_deploy_session_may_still_target_its_own_functions(target):
    own = f"arn:aws:lambda:{R}:{A}:function:{target}"
    assert allows(session(), Request("events:PutTargets", RULE, (("events:TargetArn", own),)))


# --- SNS: the alarm topic's subscribers -------------------------------------------------------


@pytest.mark.parametrize(
    ("protocol", "endpoint"),
    [
        ("https", "https://collector.example/alarms"),
        ("sqs", f"arn:aws:sqs:{R}:{OUTSIDE}:alarms"),
        ("lambda", f"arn:aws:lambda:{R}:{OUTSIDE}:function:alarms"),
    ],
)
def test_a_deploy_session_cannot_subscribe_an_endpoint_of_its_choosing_to_the_alarms(
    protocol, endpoint
):
    """Every alarm (what is watched, when it fires) copied to the attacker after the hour.
    Fixed: Subscribe only with sns:Protocol email (what alarm_topic.py subscribes)."""
    subscribe = Request(
        "sns:Subscribe", TOPIC, (("sns:Protocol", protocol), ("sns:Endpoint", endpoint))
    )
    assert not allows(session(), subscribe)


def test_a_deploy_session_may_still_subscribe_the_alarm_email():
    email = (("sns:Protocol", "email"), ("sns:Endpoint", "platform-alerts@example.org"))
    assert allows(session(), Request("sns:Subscribe", TOPIC, email))


# --- EC2: untagged resources ------------------------------------------------------------------


@pytest.mark.parametrize(
    "arn",
    [
        pytest.param(f"arn:aws:ec2:{R}:{A}:vpc/vpc-0default", id="default-vpc"),
        pytest.param(f"arn:aws:ec2:{R}:{A}:subnet/subnet-0other", id="subnet"),
        pytest.param(f"arn:aws:ec2:{R}:{A}:route-table/rtb-0other", id="route-table"),
        pytest.param(f"arn:aws:ec2:{R}:{A}:internet-gateway/igw-0other", id="internet-gateway"),
    ],
)
def test_a_deploy_session_cannot_claim_an_untagged_network_resource(arn):
    """TagUntaggedEc2ForThisEnvironment let a session tag any resource without an Environment
    tag (the default VPC, another team's untagged subnets and routes) Environment=dev and
    Project=VirtualAgentics in one call; ChangeEc2OfThisEnvironment then let it change and
    delete them. Fixed: only security groups (the VPC's default one is what needs it)."""
    assert not allows(session(), Request("ec2:CreateTags", arn, FOR_DEV))


def test_a_deploy_session_may_still_tag_the_default_security_group():
    sg = f"arn:aws:ec2:{R}:{A}:security-group/sg-0default"
    assert allows(session(), Request("ec2:CreateTags", sg, FOR_DEV))


# --- trust: who may assume what a deploy session writes a trust for --------------------------


def test_a_deploy_session_may_write_a_workload_roles_trust():
    """The path's first step, by design (no condition key inspects a trust policy)."""
    assert allows(session(), bounded("iam:UpdateAssumeRolePolicy", EXECUTION_ROLE))


def test_no_pull_request_chains_into_a_workload_role_whose_trust_names_the_preview_role():
    """In one account a trust policy naming a role's ARN suffices for sts:AssumeRole (IAM's
    evaluation: either the identity or the resource policy may allow), and the RCP admits the
    organisation's principals: every later pull request would assume the workload role and
    read what the boundary allows (tables, objects, queues, the anthropic-api-key secret).
    tests/components/test_escalation.py requires the caller's own Allow, so it never saw this.
    Fixed: the preview role's own policy denies role chaining (NoRoleChaining)."""
    chained = Request("sts:AssumeRole", EXECUTION_ROLE)
    assert "Deny" in effects([deploy_policy.preview_deny_policy()], chained)


@pytest.mark.parametrize("subject", ["pull_request", "ref:refs/heads/any-branch", "ref:refs/heads/main"])  # fmt: skip
@pytest.mark.parametrize(
    "role",
    [
        pytest.param(EXECUTION_ROLE, id="execution-role"),
        pytest.param(f"{ROLES}/va-dev-costreview-agent-role", id="agent-role"),
        pytest.param(f"{ROLES}/va-dev-x-ghdeploy-role", id="named-like-a-ci-role"),
    ],
)
def test_no_github_token_of_this_repository_assumes_a_workload_role(role, subject):
    """A session makes a workload role trust GitHub's provider for this repository (any branch,
    any pull request); the RCP admitted `repo:<repository>:*` into any role, so the role
    outlived the hour for everyone who can open a pull request. Fixed: the RCP admits web
    identities only into the CI roles, by exact name."""
    token = Request("sts:AssumeRoleWithWebIdentity", role, ((SUB, f"repo:{REPO}:{subject}"),))
    assert refused_by_the_organisation(token)


@pytest.mark.parametrize("env", ["dev", "prod"])
@pytest.mark.parametrize("purpose", ["ghdeploy", "ghpreview"])
def test_github_tokens_of_this_repository_still_assume_the_ci_roles(env, purpose):
    role = f"{ROLES}/va-{env}-{purpose}-role"
    token = Request("sts:AssumeRoleWithWebIdentity", role, ((SUB, f"repo:{REPO}:pull_request"),))
    assert not refused_by_the_organisation(token)


# --- resource policies: data for another account ----------------------------------------------


@pytest.mark.parametrize(
    "request_",
    [
        pytest.param(Request("s3:PutBucketPolicy", "arn:aws:s3:::va-dev-content-bucket"), id="bucket-policy"),
        pytest.param(Request("s3:PutBucketPublicAccessBlock", "arn:aws:s3:::va-dev-content-bucket"), id="public-access-block"),
        pytest.param(Request("sqs:SetQueueAttributes", f"arn:aws:sqs:{R}:{A}:va-dev-contentgen-queue"), id="queue-policy"),
        pytest.param(Request("kms:CreateKey", "*", (("aws:RequestTag/Environment", "dev"),)), id="key-with-any-policy"),
    ],
)  # fmt: skip
def test_a_deploy_session_may_write_resource_policies_of_its_environment(request_):
    """The path's first step, which `pulumi up` needs: no condition key inspects a bucket,
    queue or key policy, so one naming another account (or `*`) is the session's to write."""
    assert allows(session(), request_)


@pytest.mark.parametrize("context", [OUTSIDER, ()], ids=["other-org", "anonymous"])
@pytest.mark.parametrize(
    "request_",
    [
        pytest.param(Request("s3:GetObject", "arn:aws:s3:::va-dev-content-bucket/a"), id="objects"),
        pytest.param(Request("sqs:ReceiveMessage", f"arn:aws:sqs:{R}:{A}:va-dev-contentgen-queue"), id="messages"),
        pytest.param(Request("kms:Decrypt", f"arn:aws:kms:{R}:{A}:key/k"), id="decrypt"),
        pytest.param(Request("secretsmanager:GetSecretValue", f"arn:aws:secretsmanager:{R}:{A}:secret:va/dev/anthropic-api-key-AbCdEf"), id="anthropic-key"),
    ],
)  # fmt: skip
def test_a_resource_policy_a_session_writes_grants_nothing_outside_the_organisation(
    request_, context
):
    """...and that grant outlives the hour (the next `pulumi up` does not refresh). Fixed: the
    RCP's data perimeter (DataOnlyInsideThisOrganization) for the services RCPs govern."""
    assert refused_by_the_organisation(request_.with_context(*context))


@pytest.mark.parametrize(
    "context",
    [(("aws:PrincipalOrgID", ORG_ID), ("aws:PrincipalIsAWSService", "false")),
     (("aws:PrincipalIsAWSService", "true"),)],
    ids=["organisation", "aws-service"],
)  # fmt: skip
def test_the_organisation_and_aws_services_keep_the_data(context):
    for request_ in (
        Request("s3:GetObject", "arn:aws:s3:::va-dev-content-bucket/a", context),
        Request("kms:Decrypt", f"arn:aws:kms:{R}:{A}:key/k", context),
    ):
        assert not refused_by_the_organisation(request_)


@pytest.mark.xfail(
    strict=True,
    reason="ecr:SetRepositoryPolicy has no condition key on the policy (catalogue: repository "
    "resource, no keys) and `pulumi up` needs it (Lambda adds its pull statement as the "
    "caller); AWS documents RCPs for S3, STS, KMS, SQS and Secrets Manager, not ECR, so a "
    "repository policy admitting another account (push to the agent image's repository, "
    "pulled by the next image function) is not refused by the organisation either",
)
def test_a_deploy_session_cannot_open_the_agent_images_repository_to_another_account():
    repo = f"arn:aws:ecr:{R}:{A}:repository/va-dev-agent-ecr"
    assert not allows(session(), Request("ecr:SetRepositoryPolicy", repo))


# --- who may invoke the FAALF agent -----------------------------------------------------------


@pytest.mark.xfail(
    strict=True,
    reason="lambda:AddPermission's only condition keys are lambda:Principal and "
    "lambda:FunctionUrlAuthType: a permission for apigateway.amazonaws.com (or s3, events) "
    "with no SourceArn/SourceAccount is indistinguishable from the program's own, and lets "
    "an API Gateway of any account invoke the agent (anyone's prompts on the Anthropic "
    "bill), a classic confused deputy; needs an administrator-applied permission or a "
    "detective control (Access Analyzer on function policies)",
)
@pytest.mark.parametrize("service", deploy_policy.INVOKING_SERVICES)
def test_a_deploy_session_cannot_let_another_accounts_service_invoke_the_agent(service):
    no_source = Request("lambda:AddPermission", AGENT_FUNCTION, (("lambda:Principal", service),))
    assert not allows(session(), no_source)


@pytest.mark.xfail(
    strict=True,
    reason="a JWT authorizer's issuer and audience have no condition key (catalogue: "
    "apigateway:Request/AuthorizerType, AuthorizerUri, aws:ResourceTag only): a session "
    "creates or PATCHes an authorizer on its own API with an issuer it controls, and the "
    "JWT routes RoutesOnlyWithIamOrJwt admits accept any token it mints",
)
def test_a_deploy_session_cannot_make_a_jwt_route_accept_its_own_tokens():
    authorizer = f"{APIS}/a1b2c3/authorizers/auth1"
    patch = Request("apigateway:PATCH", authorizer, (*DEV_TAGS, ("apigateway:Request/AuthorizerType", "JWT")))  # fmt: skip
    assert not allows(session(), patch)


@pytest.mark.xfail(
    strict=True,
    reason="CreateApi's quick create (Target: a function ARN) makes a $default route with no "
    "authorization, authorized only as POST /apis (tags of this environment); whether AWS "
    "puts apigateway:Request/RouteAuthorizationType in that request is undocumented, and a "
    "Deny on it when absent would refuse every legitimate CreateApi",
)
def test_a_deploy_session_cannot_quick_create_an_open_api_for_the_agent():
    assert not allows(session(), Request("apigateway:POST", APIS, FOR_DEV))


# --- what stays after the hour ---------------------------------------------------------------


@pytest.mark.xfail(
    strict=True,
    reason="logs:AssociateKmsKey has no condition key naming the key (catalogue: log-group, "
    "no keys) and kms:CreateKey none for the key policy: a session points its log groups at a "
    "key of its making whose policy lets CloudWatch Logs use it only until a date "
    "(aws:CurrentTime), and the record becomes unreadable after the hour",
)
def test_a_deploy_session_cannot_point_a_log_group_at_a_key_of_its_making():
    group = f"arn:aws:logs:{R}:{A}:log-group:/aws/lambda/va-dev-agent-lambda"
    assert not allows(session(), Request("logs:AssociateKmsKey", group))


def test_the_next_deploy_puts_back_what_a_session_changed_out_of_band():
    """Pulumi diffs the program against its state, not AWS: without a refresh, code a session
    uploads out of band (UpdateFunctionCode on the agent function), a retention it shortens to
    the guard's floor or a role policy it rewrites stays until that resource's inputs change.
    Every `pulumi up` of the deploy workflow refreshes first."""
    workflow = yaml.safe_load(DEPLOY_WORKFLOW.read_text(encoding="utf-8"))
    ups = [
        step.get("with", {})
        for job in workflow["jobs"].values()
        for step in job.get("steps", [])
        if step.get("with", {}).get("command") == "up"
    ]
    assert ups, "the deploy workflow runs `pulumi up`"
    assert all(str(up.get("refresh")).lower() == "true" for up in ups)


def _config_rule_minimum(run) -> int:
    (rule,) = [r for r in run.of_type("aws:cfg/rule:Rule")]
    return int(yaml.safe_load(rule.inputs["inputParameters"])["MinRetentionTime"])


@pytest.mark.xfail(
    strict=True,
    reason="the retention guard holds every log group to one floor, the stack's shortest "
    "declared retention (retention_guard.rule_period): a session sets a 90-day group to that "
    "floor, the rule finds it COMPLIANT, and only the next deploy (which refreshes) puts it "
    "back; a per-group floor needs a rule per retention naming its log groups (LogGroupNames), "
    "and the deploy role may not write Config rules, so every new function would need an "
    "administrator's run",
)
def test_the_guard_keeps_each_log_group_to_its_own_retention():
    config = copy.deepcopy(stack_config("prod"))
    functions = config["va-platform:functions"]
    functions[0] = {**functions[0], "logRetentionDays": 7}
    run = run_program("prod", config=config)
    assert run.error is None, run.error
    floor = _config_rule_minimum(run)
    retentions = [int(g.inputs["retentionInDays"]) for g in run.of_type("aws:cloudwatch/logGroup:LogGroup")]  # fmt: skip
    assert max(retentions) > 7, "the stack declares a longer retention than the override"
    assert floor >= max(retentions)


# --- a workload's network ---------------------------------------------------------------------


@pytest.mark.parametrize("tags", [(), (("aws:ResourceTag/Environment", "prod"),)], ids=["another-team", "prod"])  # fmt: skip
@pytest.mark.parametrize("kind", ["subnet/subnet-0other", "security-group/sg-0other"])
def test_a_workload_gets_no_network_interface_in_another_network(kind, tags):
    """UpdateFunctionConfiguration's lambda:VpcIds/SubnetIds/SecurityGroupIds are unused (the
    ids are the program's outputs), so a session may attach the agent function to any VPC of
    the account: Lambda creates the interfaces as the execution role, which the boundary
    allowed in every subnet and security group of the account (another team's databases).
    Fixed: the boundary allows them only in subnets and security groups tagged for the
    environment (and a session can no longer tag another's subnet so, see above)."""
    run = stack_run("dev")
    eni = Request("ec2:CreateNetworkInterface", f"arn:aws:ec2:{R}:{A}:{kind}", tags)
    assert not allows(EVERYTHING, eni, boundary=workload_boundary(run))


@pytest.mark.xfail(
    strict=True,
    reason="lambda:CreateEventSourceMapping's keys are lambda:FunctionArn and tags only: a "
    "mapping from a self-managed Kafka cluster (SelfManagedEventSource, reached over the "
    "internet, no IAM on the source) onto the agent function feeds it the attacker's prompts, "
    "as Lambda's pollers, after the hour (the boundary cannot see it: no role call is made)",
)
def test_a_deploy_session_cannot_feed_the_agent_from_a_cluster_of_its_own():
    mapping = Request(
        "lambda:CreateEventSourceMapping", "*", (("lambda:FunctionArn", AGENT_FUNCTION),)
    )
    assert not allows(session(), mapping)


# --- Pulumi Cloud: what a pull request's preview decrypts ------------------------------------


def test_no_pull_request_decrypts_a_stack_secret_value():
    """A pull request's job runs the pull request's own program with a Pulumi team token that
    may read dev and prod (org/access.py: READ, Pulumi Cloud's "Stack Read", which includes
    stack:decrypt so that previews run). The CLI decrypts every secure config value and hands
    it to the program (PULUMI_CONFIG) whether the program reads it or not, so the program took
    each VaSecret's value from stack config and any pull request could print anthropic-api-key.
    Fixed: the stacks hold no secure value; a config that holds one stops the program, and the
    program creates the secrets' containers without a value (put out of band)."""
    from org.access import READ, team_grants

    (preview,) = [g for g in team_grants(REPO) if g.subject.endswith(":pull_request")]
    readable = sorted(stack for stack, level in preview.permissions.items() if level == READ)
    assert readable == ["dev", "prod"]
    for stack in readable:
        declared = stack_config(stack)["va-platform:secrets"]
        with_values = run_program(
            stack, secrets={f"va-platform:{leaf}": f"sk-{leaf}-value" for leaf in declared}
        )
        assert (with_values.error is not None, with_values.resources) == (True, [])
        run = run_program(stack)
        assert run.error is None, run.error
        assert run.of_type("aws:secretsmanager/secretVersion:SecretVersion") == []


SECRET_SIG = "4dabf18193072939515e22adb298388d"  # Pulumi's marker of a secret value


def _secret_inputs(value: object, path: str = "") -> list[str]:
    if isinstance(value, dict):
        if value.get(SECRET_SIG) == "1b47061264138c4ac30d75fd1eb44270":
            return [path]
        return [p for k, v in value.items() for p in _secret_inputs(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _secret_inputs(v, f"{path}[{i}]")]
    return []


@pytest.mark.xfail(
    strict=True,
    reason="the same Stack Read token decrypts the state's secrets (`pulumi stack export "
    "--show-secrets`), and VaAgentImage records the ECR authorization token of the last "
    "deploy (the deploy role's, valid 12 h) as the docker Image's registry.password: a pull "
    "request opened within 12 h of a deploy may push to va-<env>-agent-ecr with the deploy "
    "role's ECR rights (new tags only: tags are immutable, functions run by digest); needs "
    "the image pushed without a credential in the state (a build step outside Pulumi, or a "
    "credential helper) or a preview token without stack:decrypt",
)
def test_no_pull_request_decrypts_a_credential_from_the_stacks_state():
    run = stack_run("dev")
    assert [f"{r.name}{p}" for r in run.resources for p in _secret_inputs(r.inputs)] == []


# --- another team in the same account ---------------------------------------------------------

BILLING_TAGS = (*DEV_TAGS, ("aws:ResourceTag/Owner", "billing-team"))


@pytest.mark.parametrize(
    "request_",
    [
        pytest.param(Request("lambda:UpdateFunctionCode", f"arn:aws:lambda:{R}:{A}:function:va-dev-billing-lambda", BILLING_TAGS), id="code"),
        pytest.param(Request("lambda:TagResource", f"arn:aws:lambda:{R}:{A}:function:va-dev-billing-lambda", BILLING_TAGS), id="retag-function"),
        pytest.param(Request("lambda:AddPermission", f"arn:aws:lambda:{R}:{A}:function:va-dev-billing-lambda:live", (*BILLING_TAGS, ("lambda:Principal", "s3.amazonaws.com"))), id="permission"),
        pytest.param(Request("ec2:CreateTags", f"arn:aws:ec2:{R}:{A}:security-group/sg-0billing", (*BILLING_TAGS, *FOR_DEV)), id="retag-security-group"),
        pytest.param(Request("ec2:AuthorizeSecurityGroupIngress", f"arn:aws:ec2:{R}:{A}:security-group/sg-0billing", BILLING_TAGS), id="security-group"),
        pytest.param(Request("secretsmanager:GetSecretValue", f"arn:aws:secretsmanager:{R}:{A}:secret:va/dev/stripe-key-AbCdEf", BILLING_TAGS), id="secret-value"),
        pytest.param(Request("kms:Decrypt", f"arn:aws:kms:{R}:{A}:key/billing-key", BILLING_TAGS), id="key"),
        pytest.param(Request("logs:PutRetentionPolicy", f"arn:aws:logs:{R}:{A}:log-group:/aws/lambda/va-dev-billing-lambda", BILLING_TAGS), id="log-retention"),
        pytest.param(Request("sqs:SetQueueAttributes", f"arn:aws:sqs:{R}:{A}:va-dev-billing-dlq", BILLING_TAGS), id="queue-policy"),
        pytest.param(Request("dynamodb:DeleteTable", f"arn:aws:dynamodb:{R}:{A}:table/va-dev-billing-dynamodb", BILLING_TAGS), id="table"),
        pytest.param(Request("iam:PutRolePolicy", f"{ROLES}/va-dev-billing-lambda-role", (("iam:PermissionsBoundary", BOUNDARY), ("aws:ResourceTag/Owner", "billing-team"))), id="role-policy"),
        pytest.param(Request("iam:UpdateAssumeRolePolicy", f"{ROLES}/va-dev-billing-lambda-role", (("iam:PermissionsBoundary", BOUNDARY), ("aws:ResourceTag/Owner", "billing-team"))), id="role-trust"),
    ],
)  # fmt: skip
def test_a_deploy_session_cannot_change_another_teams_resources_in_its_account(request_):
    """The environment's names and tags are every library user's, not the platform's:
    another team's stack in the account (examples/shared-vpc-function: va-dev-billing-lambda,
    its role va-dev-billing-lambda-role with the workload boundary, tags Environment=dev,
    Project=VirtualAgentics, Owner=billing-team) matched function:va-dev-*, role/va-dev-* and
    the tag conditions, so the platform's deploy session could update its code (running as its
    role: the team's Stripe key), rewrite its role, open its security groups, read its va/dev/*
    secrets, decrypt with its key, cut its log retention. Fixed: never what carries another
    Owner tag (NeverAnotherOwners*; S3 buckets take no resource tag condition and stay open)."""
    assert not allows(session(), request_)


@pytest.mark.parametrize(
    "request_",
    [
        pytest.param(Request("lambda:UpdateFunctionCode", f"arn:aws:lambda:{R}:{A}:function:va-dev-contentgen-lambda", (*DEV_TAGS, ("aws:ResourceTag/Owner", "platform-team"))), id="own-function"),
        pytest.param(Request("iam:PutRolePolicy", EXECUTION_ROLE, (("iam:PermissionsBoundary", BOUNDARY), ("aws:ResourceTag/Owner", "platform-team"))), id="own-role"),
        pytest.param(Request("lambda:CreateFunction", f"arn:aws:lambda:{R}:{A}:function:va-dev-new-lambda"), id="new-function"),
    ],
)  # fmt: skip
def test_a_deploy_session_still_changes_what_its_own_stack_owns(request_):
    assert allows(session(), request_)


def _service(source_account: str, source_org: str | None) -> tuple[tuple[str, str], ...]:
    org = (("aws:SourceOrgID", source_org),) if source_org else ()
    return (("aws:PrincipalIsAWSService", "true"), ("aws:SourceAccount", source_account), *org)


@pytest.mark.parametrize(
    "context",
    [_service(OUTSIDE, None), _service(OUTSIDE, "o-outsider00")],
    ids=["no-org", "other-org"],
)
def test_no_other_accounts_topic_feeds_the_platforms_queues(context):
    """A session writes a trigger queue's policy admitting sns.amazonaws.com (or
    events.amazonaws.com) with no source: another account's topic then feeds the function
    (the agent: prompts of the attacker's choosing) after the hour, as an AWS service, which
    the organisation perimeter exempted. Fixed: ServicesOnlyOnBehalfOfThisOrganization."""
    send = Request("sqs:SendMessage", f"arn:aws:sqs:{R}:{A}:va-dev-contentgen-queue", context)
    assert refused_by_the_organisation(send)


@pytest.mark.parametrize(
    "context",
    [_service(A, ORG_ID), (("aws:PrincipalIsAWSService", "true"),)],
    ids=["this-organisation", "no-source"],
)
def test_aws_services_still_act_for_the_organisation(context):
    send = Request("sqs:SendMessage", f"arn:aws:sqs:{R}:{A}:va-dev-contentgen-dlq", context)
    assert not refused_by_the_organisation(send)
