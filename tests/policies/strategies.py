"""Generated resources of any shape, where the va-guard rules look: for fuzzing and for
comparing the pack's answers."""

from __future__ import annotations

from hypothesis import strategies as st
from pulumi.runtime.rpc import UNKNOWN as ENGINE_UNKNOWN

from policies.va_guard import naming, tables
from preflight.analyzer import Provider, Subject

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
]
# The property names the rules read, so generated values land where the rules look.
KEYS = [
    "name", "bucket", "tags", "region", "runtime", "memorySize", "timeout", "vpcConfig",
    "subnetIds", "securityGroupIds", "environment", "variables", "deadLetterConfig", "targetArn",
    "packageType", "policy", "inlinePolicies", "assumeRolePolicy", "managedPolicyArns",
    "policyArn", "ingress", "egress", "cidrBlocks", "ipv6CidrBlocks", "cidrIpv4", "protocol",
    "fromPort", "toPort", "type", "acl", "grants", "kmsMasterKeyId", "sqsManagedSseEnabled",
    "serverSideEncryption", "enabled", "retentionInDays", "updateRuntimeOn", "Statement",
    "Effect", "Action", "Resource", "Principal", "defaultTags", "va:policy-exempt",
    "namePrefix", "functionName", "dimensions", "metricName", "namespace", "role", "id",
]  # fmt: skip
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
        provider=Provider("pulumi:providers:aws", "urn:p", "default", {"region": region}),
    ),
    st.sampled_from(TYPES),
    st.text(min_size=1, max_size=20),
    props,
    st.one_of(st.none(), st.sampled_from(["eu-central-1", "us-east-1", ENGINE_UNKNOWN])),
)
