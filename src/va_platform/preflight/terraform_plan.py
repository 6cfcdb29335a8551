"""A stack's resources as a Terraform plan (JSON), so Terraform-plan scanners judge our output.

pulumi-aws is bridged from the Terraform AWS provider: each ``aws:`` type is a Terraform resource
type and its inputs are that resource's arguments, camelCased. Scanners such as Checkov read
``terraform show -json`` plans; this writes the same shape from an offline run (update mode:
every value known), so their rules face what ``pulumi up`` would create, not a hand-written copy:

- ``planned_values.root_module.resources``: one entry per AWS resource, arguments snake_cased
  (map arguments such as ``tags`` and env ``variables`` keep their keys), the few arguments
  pulumi-aws renames given their Terraform names back;
- ``configuration.root_module.resources[].expressions``: an argument's ``references`` are the
  resources its value came from (the engine's ``propertyDependencies``), so graph rules that
  follow connections (a bucket and its public access block) see them.

Secret values are masked. Types without a Terraform twin (components, Docker images, providers)
are left out and listed in ``va_skipped_types`` of the output.

``python -m va_platform.preflight.terraform_plan --stack dev > plan.json`` (``make checkov``
runs it).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import rpc

from .mocks import _sdk_class
from .runner import Program, ProgramError, Run, run_program

# Terraform type of each pulumi-aws type whose name does not follow ``aws_<module>_<name>``
# (pulumi-aws's bridge-metadata.json "renames"). The EC2 module's types are ``aws_<name>``.
TERRAFORM_TYPES = {
    "aws:s3/bucketObjectv2:BucketObjectv2": "aws_s3_object",
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": "aws_iam_openid_connect_provider",
    # Types Checkov 3.3.30 has checks for, whose names the rule above gets wrong.
    "aws:alb/loadBalancer:LoadBalancer": "aws_alb",
    "aws:lb/loadBalancer:LoadBalancer": "aws_lb",
    "aws:elb/loadBalancer:LoadBalancer": "aws_elb",
    "aws:elb/loadBalancerPolicy:LoadBalancerPolicy": "aws_load_balancer_policy",
    "aws:apigateway/restApi:RestApi": "aws_api_gateway_rest_api",
    "aws:apigateway/stage:Stage": "aws_api_gateway_stage",
    "aws:apigateway/method:Method": "aws_api_gateway_method",
    "aws:apigateway/methodSettings:MethodSettings": "aws_api_gateway_method_settings",
    "aws:apigateway/deployment:Deployment": "aws_api_gateway_deployment",
    "aws:apigateway/domainName:DomainName": "aws_api_gateway_domain_name",
    "aws:appsync/graphQLApi:GraphQLApi": "aws_appsync_graphql_api",
    "aws:cloudtrail/trail:Trail": "aws_cloudtrail",
    "aws:rds/instance:Instance": "aws_db_instance",
    "aws:rds/snapshot:Snapshot": "aws_db_snapshot",
    "aws:rds/snapshotCopy:SnapshotCopy": "aws_db_snapshot_copy",
    "aws:rds/clusterSnapshot:ClusterSnapshot": "aws_db_cluster_snapshot",
    "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication":
        "aws_db_instance_automated_backups_replication",
    "aws:codepipeline/pipeline:Pipeline": "aws_codepipeline",
    "aws:cfg/configurationAggregator:ConfigurationAggregator":
        "aws_config_configuration_aggregator",
    "aws:ec2transitgateway/transitGateway:TransitGateway": "aws_ec2_transit_gateway",
    "aws:elasticbeanstalk/environment:Environment": "aws_elastic_beanstalk_environment",
    "aws:fsx/openZfsFileSystem:OpenZfsFileSystem": "aws_fsx_openzfs_file_system",
    "aws:bedrock/agentAgent:AgentAgent": "aws_bedrockagent_agent",
}  # fmt: skip
DROP_MODULE = frozenset({"ec2"})
PROVIDER = "registry.terraform.io/hashicorp/aws"
# Arguments pulumi-aws renames (Terraform name <- engine name), by Terraform type: list blocks
# Pulumi pluralises and the function-name arguments it shortens.
RENAMED = {
    "aws_lambda_function": {"name": "function_name"},
    "aws_lambda_permission": {"function": "function_name"},
    "aws_s3_bucket_server_side_encryption_configuration": {"rules": "rule"},
    "aws_s3_bucket_lifecycle_configuration": {"rules": "rule"},
    "aws_s3_bucket_notification": {
        "lambdaFunctions": "lambda_function", "queues": "queue", "topics": "topic",
    },
    "aws_route_table": {"routes": "route"},
    "aws_dynamodb_table": {
        "attributes": "attribute", "globalSecondaryIndexes": "global_secondary_index",
        "localSecondaryIndexes": "local_secondary_index",
    },
    "aws_iam_role": {"inlinePolicies": "inline_policy"},
    "aws_ecr_repository": {"encryptionConfigurations": "encryption_configuration"},
    "aws_cloudwatch_metric_alarm": {"metricQueries": "metric_query"},
    "aws_iam_openid_connect_provider": {"clientIdLists": "client_id_list"},
    "aws_sns_topic_subscription": {"topic": "topic_arn"},
    # Top-level ones Checkov 3.3.30's checks read (nested blocks' renames are not covered).
    "aws_cloudfront_distribution": {
        "origins": "origin", "originGroups": "origin_group",
        "orderedCacheBehaviors": "ordered_cache_behavior",
        "customErrorResponses": "custom_error_response",
    },
    "aws_lb_listener": {"defaultActions": "default_action"},
    "aws_alb_listener": {"defaultActions": "default_action"},
    "aws_instance": {
        "ebsBlockDevices": "ebs_block_device", "ephemeralBlockDevices": "ephemeral_block_device",
    },
    "aws_launch_configuration": {
        "ebsBlockDevices": "ebs_block_device", "ephemeralBlockDevices": "ephemeral_block_device",
    },
    "aws_ami": {
        "ebsBlockDevices": "ebs_block_device", "ephemeralBlockDevices": "ephemeral_block_device",
    },
    "aws_autoscaling_group": {"tags": "tag"},
    "aws_ecs_task_definition": {"volumes": "volume"},
    "aws_ecs_cluster": {"settings": "setting"},
    "aws_imagebuilder_image_recipe": {"blockDeviceMappings": "block_device_mapping"},
    "aws_docdb_cluster_parameter_group": {"parameters": "parameter"},
    "aws_redshift_parameter_group": {"parameters": "parameter"},
    "aws_waf_web_acl": {"rules": "rule"},
    "aws_wafregional_web_acl": {"rules": "rule"},
    "aws_wafv2_web_acl": {"rules": "rule"},
    "aws_wafv2_rule_group": {"rules": "rule"},
    "aws_waf_rule_group": {"activatedRules": "activated_rule"},
    "aws_wafregional_rule_group": {"activatedRules": "activated_rule"},
}  # fmt: skip
SECRET = "[secret]"
# How the SDK annotates a map argument (``tags``, env ``variables``): its keys are data.
MAP_ANNOTATION = "typing.Union[typing.Mapping["
# An argument pulumi-aws takes as a JSON string or a policy document (a dict): the bridge hands
# Terraform the JSON either way, and scanners parse only JSON strings.
DOCUMENT_ANNOTATION = "ForwardRef('PolicyDocumentArgs')"
_CAMEL = re.compile(r"(?<=[a-z0-9])([A-Z])")


def snake(name: str) -> str:
    """``tracingConfig`` -> ``tracing_config`` (the SDK's Python names are the Terraform ones)."""
    return _CAMEL.sub(r"_\1", name).lower()


def terraform_type(type_: str) -> str | None:
    """``aws:lambda/function:Function`` -> ``aws_lambda_function``; None for non-AWS types."""
    if type_ in TERRAFORM_TYPES:
        return TERRAFORM_TYPES[type_]
    package, _, rest = type_.partition(":")
    if package != "aws" or "/" not in rest:
        return None
    module, _, name = rest.partition("/")
    name = snake(name.split(":")[0])
    return f"aws_{name}" if module in DROP_MODULE else f"aws_{module}_{name}"


def _forward_names(annotation: object) -> list[str]:
    return re.findall(r"ForwardRef\('([A-Za-z0-9_]+Args)'\)", str(annotation))


@cache
def _shape(cls: type | None, module: str) -> tuple[frozenset[str], dict[str, type], frozenset[str]]:
    """Of an SDK args class (or a resource's constructor): the Python names of its map
    arguments, the args class of each nested block, and its JSON-document arguments."""
    if cls is None:
        return frozenset(), {}, frozenset()
    inputs = sys.modules.get(f"pulumi_aws.{module}._inputs")
    hints: dict[str, object] = {}
    init = getattr(cls, "_internal_init", None)
    if init is not None:
        hints = dict(init.__annotations__)
    else:
        for attr, value in vars(cls).items():
            if isinstance(value, property) and value.fget is not None:
                hints[attr] = value.fget.__annotations__.get("return")
    maps = frozenset(name for name, a in hints.items() if str(a).startswith(MAP_ANNOTATION))
    documents = frozenset(name for name, a in hints.items() if DOCUMENT_ANNOTATION in str(a))
    blocks: dict[str, type] = {}
    for name, annotation in hints.items():
        for forward in _forward_names(annotation):
            nested = getattr(inputs, forward, None)
            if isinstance(nested, type):
                blocks[name] = nested
                break
    return maps, blocks, documents


def _secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(rpc._special_sig_key) == rpc._special_secret_sig


def _values(value: Any, cls: type | None, module: str, renames: dict[str, str]) -> Any:
    if isinstance(value, list):
        return [_values(v, cls, module, {}) for v in value]
    if isinstance(value, pulumi.Asset | pulumi.Archive):
        return f"({type(value).__name__})"  # a local file Pulumi uploads; not an argument value
    if isinstance(value, float) and value.is_integer():
        return int(value)  # the engine's numbers are floats; Terraform shows 256, not 256.0
    if not isinstance(value, dict):
        return value
    if _secret(value):
        return SECRET
    maps, blocks, documents = _shape(cls, module)
    out: dict[str, Any] = {}
    for key, item in value.items():
        name = renames.get(key) or snake(key)
        py_name = snake(key)
        if _secret(item):
            out[name] = SECRET  # before the map case: a map holding a secret is wrapped whole
        elif py_name in maps and isinstance(item, dict):
            # A map argument: its keys are data; a secret value in it is masked.
            out[name] = {k: SECRET if _secret(v) else v for k, v in item.items()}
        elif py_name in documents and isinstance(item, dict | list):
            out[name] = json.dumps(item)  # a policy document, as the bridge sends it
        else:
            out[name] = _values(item, blocks.get(py_name), module, {})
    return out


def _module(type_: str) -> str:
    module = type_.split(":")[1].split("/")[0]
    return f"{module}_" if module == "lambda" else module


def _address_names(run: Run) -> dict[str, tuple[str, str]]:
    """URN -> (Terraform type, unique Terraform name) for every resource with a twin."""
    names: dict[str, tuple[str, str]] = {}
    taken: set[tuple[str, str]] = set()
    for r in run.resources:
        tf_type = terraform_type(r.type) if r.custom else None
        if tf_type is None:
            continue
        base = re.sub(r"[^A-Za-z0-9_]", "_", r.name)
        base = base if re.match(r"^[A-Za-z_]", base) else f"r_{base}"
        name, n = base, 1
        while (tf_type, name) in taken:
            n += 1
            name = f"{base}_{n}"
        taken.add((tf_type, name))
        names[r.urn] = (tf_type, name)
    return names


def plan(run: Run) -> dict[str, Any]:
    """The run's AWS resources as ``terraform show -json`` shows a plan that creates them."""
    names = _address_names(run)
    planned: list[dict[str, Any]] = []
    configured: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    for r in run.resources:
        if r.urn not in names:
            continue
        tf_type, name = names[r.urn]
        renames = RENAMED.get(tf_type, {})
        values = _values(r.inputs, _sdk_class(r.type), _module(r.type), renames)
        address = f"{tf_type}.{name}"
        head = {"address": address, "mode": "managed", "type": tf_type, "name": name}
        planned.append(head | {"provider_name": PROVIDER, "values": values})
        expressions: dict[str, Any] = {}
        for key, urns in r.property_dependencies.items():
            refs = [f"{names[u][0]}.{names[u][1]}" for u in urns if u in names]
            if refs:
                expressions[renames.get(key) or snake(key)] = {"references": refs}
        configured.append(head | {"expressions": expressions})
        change = {"actions": ["create"], "before": None, "after": values}
        changes.append(head | {"change": change})
    skipped = sorted({r.type for r in run.resources if r.custom and r.urn not in names})
    return {
        "format_version": "1.2",
        "terraform_version": "1.9.0",
        "planned_values": {"root_module": {"resources": planned}},
        "resource_changes": changes,
        "configuration": {"root_module": {"resources": configured}},
        "va_skipped_types": [t for t in skipped if not t.startswith("pulumi:providers:")],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m va_platform.preflight.terraform_plan", description=__doc__
    )
    parser.add_argument("--stack", default="dev")
    parser.add_argument("--program", default=".", help="program directory (default: here)")
    args = parser.parse_args(argv)
    try:
        run = run_program(args.stack, program=Program.locate(Path(args.program)))
    except (ProgramError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if run.error is not None:
        print(f"error: the program failed: {run.error}", file=sys.stderr)
        return 1
    json.dump(plan(run), sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
