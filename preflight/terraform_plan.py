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

``python -m preflight.terraform_plan --stack dev > plan.json`` (``make checkov`` runs it).
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

from preflight.mocks import _sdk_class
from preflight.runner import PROJECT_ROOT, Program, ProgramError, Run, run_program

# Terraform type of each pulumi-aws type whose name does not follow ``aws_<module>_<name>``
# (pulumi-aws's bridge-metadata.json "renames"). The EC2 module's types are ``aws_<name>``.
TERRAFORM_TYPES = {
    "aws:s3/bucketObjectv2:BucketObjectv2": "aws_s3_object",
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": "aws_iam_openid_connect_provider",
}
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
}  # fmt: skip
SECRET = "[secret]"
# How the SDK annotates a map argument (``tags``, env ``variables``): its keys are data.
MAP_ANNOTATION = "typing.Union[typing.Mapping["
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
def _shape(cls: type | None, module: str) -> tuple[frozenset[str], dict[str, type]]:
    """Of an SDK args class (or a resource's constructor): the Python names of its map
    arguments, and the args class of each nested block."""
    if cls is None:
        return frozenset(), {}
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
    blocks: dict[str, type] = {}
    for name, annotation in hints.items():
        for forward in _forward_names(annotation):
            nested = getattr(inputs, forward, None)
            if isinstance(nested, type):
                blocks[name] = nested
                break
    return maps, blocks


def _values(value: Any, cls: type | None, module: str, renames: dict[str, str]) -> Any:
    if isinstance(value, list):
        return [_values(v, cls, module, {}) for v in value]
    if isinstance(value, pulumi.Asset | pulumi.Archive):
        return f"({type(value).__name__})"  # a local file Pulumi uploads; not an argument value
    if isinstance(value, float) and value.is_integer():
        return int(value)  # the engine's numbers are floats; Terraform shows 256, not 256.0
    if not isinstance(value, dict):
        return value
    if value.get(rpc._special_sig_key) == rpc._special_secret_sig:
        return SECRET
    maps, blocks = _shape(cls, module)
    out: dict[str, Any] = {}
    for key, item in value.items():
        name = renames.get(key) or snake(key)
        py_name = snake(key)
        if py_name in maps and isinstance(item, dict):
            out[name] = item  # a map argument: its keys are data
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
    parser = argparse.ArgumentParser(prog="python -m preflight.terraform_plan", description=__doc__)
    parser.add_argument("--stack", default="dev")
    parser.add_argument("--program", default=str(PROJECT_ROOT), help="program directory")
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
