"""`egress:` on a function: ways out besides HTTPS, to named targets only, and the security group
of its own that VaLambda builds for them."""

from __future__ import annotations

import json

import pytest
import yaml
from pydantic import ValidationError

from stack.config import ConfigError, load_stack_config
from tests.paths import PROJECT_ROOT
from tests.support import NETWORKING, build_lambda, one, policy_statements, spec
from va_platform.components.lambda_function import FunctionSpec, LambdaNetworking

SG = "aws:ec2/securityGroup:SecurityGroup"
FN = "aws:lambda/function:Function"
DB_SG = "sg-0123456789abcdef0"
CACHE_SG = "sg-0fedcba9876543210"
PREFIX_LIST = "pl-6ea54007"
DATABASE = {"securityGroupId": DB_SG, "port": 5432, "description": "orders database"}
CACHE = {"securityGroupId": CACHE_SG, "port": 6379, "description": "session cache"}
PARTNER = {"prefixListId": PREFIX_LIST, "port": 8443, "description": "partner API"}
VPC_ID = "vpc-0a1b2c3d4e5f60718"
NETWORKING_WITH_VPC = LambdaNetworking(
    subnet_ids=NETWORKING.subnet_ids,
    subnet_arns=NETWORKING.subnet_arns,
    security_group_ids=NETWORKING.security_group_ids,
    security_group_arns=NETWORKING.security_group_arns,
    vpc_id=VPC_ID,
)


def refused(*egress: dict) -> str:
    """The one error a function with this ``egress`` gets."""
    with pytest.raises(ValidationError) as info:
        spec(egress=list(egress))
    (error,) = info.value.errors()
    return str(error["msg"]).removeprefix("Value error, ")


# --- the spec: each bad entry refused with one message that names it ---


def test_a_cidr_is_refused_with_the_way_to_name_a_target():
    message = refused({"cidrBlocks": ["0.0.0.0/0"], "port": 5432, "description": "db"})
    assert "cidrBlocks" in message
    assert "name a security group (securityGroupId) or a prefix list (prefixListId)" in message


def test_a_cidr_in_place_of_a_group_id_is_refused():
    message = refused({**DATABASE, "securityGroupId": "0.0.0.0/0"})
    assert "'0.0.0.0/0' is not a security group id" in message
    assert "never a CIDR" in message


def test_a_malformed_prefix_list_id_is_refused():
    message = refused({**PARTNER, "prefixListId": "pl-xyz"})
    assert "'pl-xyz' is not a prefix list id (pl- and 8 or 17 hex digits)" in message


def test_an_entry_naming_no_target_is_refused():
    message = refused({"port": 5432, "description": "db"})
    assert "names no target: name a security group (securityGroupId) or a prefix list" in message


def test_an_entry_naming_two_targets_is_refused():
    message = refused({**DATABASE, "prefixListId": PREFIX_LIST})
    assert "names both securityGroupId and prefixListId; give one per entry" in message


@pytest.mark.parametrize("port", [0, 65536])
def test_a_port_out_of_range_is_refused(port):
    assert refused({**DATABASE, "port": port}) == "must be within 1-65535 TCP port"


def test_an_entry_without_description_is_refused():
    with pytest.raises(ValidationError, match="description"):
        spec(egress=[{"securityGroupId": DB_SG, "port": 5432}])


def test_a_description_aws_would_refuse_is_refused():
    message = refused({**DATABASE, "description": "orders <db>"})
    assert "description 'orders <db>'" in message
    assert "letters, digits, spaces and ._-:/()#,@[]+=&;{}!$*" in message


def test_the_same_target_and_port_twice_is_refused():
    message = refused(DATABASE, {**DATABASE, "description": "again"})
    assert f"egress to {DB_SG} port 5432 is listed twice" in message


def test_an_unknown_key_is_refused():
    message = refused({**DATABASE, "protocol": "udp"})
    assert message == "Extra inputs are not permitted"


def test_the_config_error_names_the_key_the_value_and_what_is_allowed():
    raw = {"environment": "dev", "owner": "platform-team", "vpcCidr": "10.20.0.0/16",
           "functions": [{"purpose": "contentgen", "code": {"path": "src"},
                          "egress": [{**DATABASE, "securityGroupId": "10.0.0.0/16"}]}]}  # fmt: skip
    text = {k: v if isinstance(v, str) else json.dumps(v) for k, v in raw.items()}
    with pytest.raises(ConfigError) as info:
        load_stack_config(text.get, "eu-central-1")
    assert (
        "va-platform:functions[0].egress[0].securityGroupId = '10.0.0.0/16': '10.0.0.0/16' is "
        "not a security group id" in str(info.value)
    )


def test_a_group_a_prefix_list_and_https_to_a_prefix_list_are_accepted():
    https = {**PARTNER, "port": 443, "description": "partner HTTPS"}
    assert len(spec(egress=[DATABASE, CACHE, PARTNER, https]).egress) == 4


# --- the component: a group of the function's own, attached beside the stack's ---


@pytest.fixture(scope="module")
def run(artifact):
    return build_lambda(
        artifact, spec=spec(egress=[DATABASE, CACHE, PARTNER]), networking=NETWORKING_WITH_VPC
    )


def test_function_without_egress_gets_no_group_of_its_own(artifact):
    assert build_lambda(artifact).of_type(SG) == []


def test_egress_group_is_named_for_the_function_in_its_vpc_with_no_ingress(run):
    group = one(run, SG)
    assert (group["name"], group["vpcId"], group["ingress"]) == (
        "va-dev-contentgen-lambda-sg", VPC_ID, []
    )  # fmt: skip


def test_egress_group_lets_out_only_the_named_targets_and_ports(run):
    rules = [
        (r["protocol"], r["fromPort"], r["toPort"], r.get("securityGroups"),
         r.get("prefixListIds"), r["description"])
        for r in one(run, SG)["egress"]
    ]  # fmt: skip
    assert rules == [
        ("tcp", 5432, 5432, [DB_SG], None, "orders database"),
        ("tcp", 6379, 6379, [CACHE_SG], None, "session cache"),
        ("tcp", 8443, 8443, None, [PREFIX_LIST], "partner API"),
    ]


def test_egress_group_carries_the_five_tags(run):
    tags = one(run, SG)["tags"]
    assert (tags["Name"], tags["Purpose"]) == ("va-dev-contentgen-lambda-sg", "contentgen")


def test_function_is_attached_to_the_stacks_group_and_its_own(run):
    own = run.named("fn-sg").id
    assert one(run, FN)["vpcConfig"]["securityGroupIds"] == ["sg-0l", own]


def test_component_registers_its_group_for_the_targets_owner(run):
    outputs = run.registered_outputs[run.named("fn").urn]
    assert outputs["securityGroupId"] == run.named("fn-sg").id


def test_role_may_create_enis_with_its_own_group_too(run):
    resources = policy_statements(run)["CreateEniInOwnSubnets"]["Resource"]
    assert f"arn:aws:ec2:eu-central-1:123456789012:security-group/{run.named('fn-sg').id}" in (
        resources
    )


def test_egress_without_the_vpc_is_refused_before_any_resource(artifact):
    result = build_lambda(artifact, spec=spec(egress=[DATABASE]))
    assert "egress needs the VPC" in str(result.error)
    assert result.resources == []


def test_the_configuration_guides_egress_example_is_accepted():
    guide = (PROJECT_ROOT / "docs/configuration-guide.md").read_text(encoding="utf-8")
    section = guide.split("## Egress beyond HTTPS")[1].split("\n## ")[0]
    example = yaml.safe_load(section.split("```yaml")[1].split("```")[0])
    (fn,) = example["va-platform:functions"]
    assert [(e.target, e.port) for e in FunctionSpec.model_validate(fn).egress] == [
        ("sg-0123456789abcdef0", 5432), ("sg-0fedcba9876543210", 6379),
        ("pl-0a1b2c3d4e5f60718", 8443),
    ]  # fmt: skip
