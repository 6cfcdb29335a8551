"""Generated resources of any shape, where the va-guard rules look: for fuzzing and for
comparing the pack's answers. ``resources`` invents them; ``stack_resources`` takes the dev
stack's and makes any part unknown or missing, as a first preview or another tool might."""

from __future__ import annotations

import ast
import re
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

from hypothesis import strategies as st
from pulumi.runtime import rpc
from pulumi.runtime.rpc import UNKNOWN as ENGINE_UNKNOWN

from policies.va_guard import exemptions, naming, tables
from va_platform.preflight.analyzer import Provider, Subject

TYPES = [
    *naming.NAMED_TYPES,
    naming.SECRET_TYPE,
    tables.LOG_GROUP_TYPE,
    "aws:lambda/function:Function",
    "aws:lambda/runtimeManagementConfig:RuntimeManagementConfig",
    "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig",
    "aws:ec2/securityGroupRule:SecurityGroupRule",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    "aws:s3/bucketPolicy:BucketPolicy",
    "aws:s3/bucketAcl:BucketAcl",
    "pulumi:providers:aws",
    "random:index/randomId:RandomId",
    "aws:ec2/vpc:Vpc",
    "aws:eks/cluster:Cluster",
    "aws:kinesis/stream:Stream",
    "aws:ecs/taskDefinition:TaskDefinition",
    "aws:secretsmanager/secretVersion:SecretVersion",
    "aws:ssm/parameter:Parameter",
    "aws:ec2/instance:Instance",
    "aws:ec2/launchTemplate:LaunchTemplate",
    "aws:apigatewayv2/api:Api",
    "aws:apigateway/method:Method",
    "aws:apigateway/integration:Integration",
    "aws:codebuild/project:Project",
]
PACK = Path(__file__).resolve().parents[2] / "policies" / "va_guard"
# A property name as the engine spells it (camelCase, IAM's PascalCase) or a condition key.
NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9]*$|^[a-z0-9]+:[a-z0-9-]+$")


def read_names(source: str) -> set[str]:
    """The names a module may read a value by: the name-shaped strings it passes to a call,
    subscripts with, or lists in a tuple, list or set (``r.get("vpcConfig", "subnetIds")``,
    ``CIDR_PROPERTIES = ("cidrBlocks", ...)``). Words that are no property only dilute."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            places: list[ast.expr] = list(node.args)
        elif isinstance(node, ast.Subscript):
            places = [node.slice]
        elif isinstance(node, ast.Tuple | ast.List | ast.Set):
            places = list(node.elts)
        else:
            continue
        found |= {
            p.value
            for p in places
            if isinstance(p, ast.Constant) and isinstance(p.value, str) and NAME_RE.match(p.value)
        }
    return found


# The property names the rules read, so generated values land where the rules look: derived from
# the pack's source, so a new rule's properties are fuzzed without anyone listing them.
KEYS = sorted(
    {name for module in sorted(PACK.glob("*.py")) for name in read_names(module.read_text())}
    | {exemptions.EXEMPT_TAG}
)
leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.sampled_from(
        [
            "*",
            "s3:*",
            "Allow",
            "0.0.0.0/0",
            "::/0",
            "python3.9",
            "Manual",
            "Image",
            "tcp",
            '{"Statement": [{"Effect": "Allow", "Action": "*"}]}',
            "va-naming: reason given here",
            "EX-12",
            "KMS",
            "required",
            "AWS_PROXY",
            "NONE",
            '[{"name": "w", "environment": [{"name": "DB_PASSWORD", "value": "x1y2z3"}]}]',
            {rpc._special_sig_key: rpc._special_secret_sig, "value": "s3cr3t"},
            ENGINE_UNKNOWN,
        ]
    ),
)
values = st.recursive(
    leaves,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=20,
)
props = st.dictionaries(st.sampled_from(KEYS), values, max_size=8)
resources = st.builds(
    lambda t, name, p, region: Subject(
        t,
        name,
        f"urn:pulumi:dev::p::{t}::{name}",
        p,
        provider=None
        if region == "no provider"
        else Provider("pulumi:providers:aws", "urn:p", "default", {"region": region}),
    ),
    st.sampled_from(TYPES),
    st.text(min_size=1, max_size=20),
    props,
    st.one_of(
        st.none(), st.sampled_from(["eu-central-1", "us-east-1", ENGINE_UNKNOWN, "no provider"])
    ),
)


@cache
def _stack_resources() -> tuple[Subject, ...]:
    """The dev stack's resources, as AnalyzeStack sees them after an update."""
    from va_platform.preflight.engine import subjects
    from va_platform.preflight.runner import run_program

    return tuple(subjects(run_program("dev"))[1])


def _unknowns_anywhere(value: Any, draw: st.DrawFn) -> Any:
    """``value`` with any part of it, at any depth, unknown or missing."""
    if draw(st.integers(0, 9)) == 0:
        return ENGINE_UNKNOWN
    if isinstance(value, dict) and rpc._special_sig_key in value:
        return value  # a secret, asset or archive: the engine never sends half of one
    if isinstance(value, dict):
        return {k: _unknowns_anywhere(v, draw) for k, v in value.items() if draw(st.integers(0, 5))}
    if isinstance(value, list):
        return [_unknowns_anywhere(v, draw) for v in value]
    return value


@st.composite
def stack_resources(draw: st.DrawFn) -> Subject:
    """One of the dev stack's resources with unknowns anywhere in it and optional fields
    missing, and propertyDependencies on other resources of the stack."""
    universe = _stack_resources()
    r = draw(st.sampled_from(universe))
    props = _unknowns_anywhere(dict(r.props), draw)
    props = props if isinstance(props, dict) else {}
    deps = draw(
        st.dictionaries(
            st.sampled_from(sorted(r.props) or ["id"]),
            st.lists(st.sampled_from([u.urn for u in universe]), max_size=3).map(tuple),
            max_size=3,
        )
    )
    return replace(r, props=props, property_dependencies=deps)


any_resources = st.one_of(resources, stack_resources())
