"""Shared test helpers: build components under the recording mocks and read what they made."""

from __future__ import annotations

import copy
import importlib
import inspect
import json
from functools import cache
from pathlib import Path
from typing import Any

from tests.paths import PROJECT_ROOT
from va_platform.components.artifacts import ZipArtifact
from va_platform.components.context import VaContext
from va_platform.components.lambda_function import (
    FunctionSpec,
    LambdaNetworking,
    VaLambda,
    VaLambdaArgs,
)
from va_platform.packaging import build_zip
from va_platform.preflight.mocks import ACCOUNT, REGION
from va_platform.preflight.runner import Run, run_under_mocks, stack_config

CTX = VaContext(environment="dev", owner="platform-team")
SUBNETS = ["subnet-0a", "subnet-0b"]
SUBNET_ARNS = [f"arn:aws:ec2:{REGION}:{ACCOUNT}:subnet/{s}" for s in SUBNETS]
SG_ARN = f"arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/sg-0l"
TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT}:va-dev-alarms-topic"
SECRET_ARN = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:va/dev/openai-api-key-AbCdEf"
NETWORKING = LambdaNetworking(
    subnet_ids=SUBNETS,
    subnet_arns=SUBNET_ARNS,
    security_group_ids=["sg-0l"],
    security_group_arns=[SG_ARN],
)


def package(tmp_path: Path) -> ZipArtifact:
    return build_zip(
        PROJECT_ROOT / "functions/contentgen",
        runtime="python3.11",
        cache_dir=tmp_path / "build",
    )


def spec(**fields: Any) -> FunctionSpec:
    return FunctionSpec.model_validate(
        {"purpose": "contentgen", "code": {"path": "functions/contentgen"}, **fields}
    )


def build_lambda(artifact: ZipArtifact | None, **arg_fields: Any) -> Run:
    fields: dict[str, Any] = {
        "context": CTX,
        "spec": spec(),
        "networking": NETWORKING,
        "alarm_topic_arn": TOPIC_ARN,
        "package": artifact,
        **arg_fields,
    }
    return run_under_mocks(lambda: VaLambda("fn", VaLambdaArgs(**fields)))


def one(run: Run, type_token: str) -> dict[str, Any]:
    """The inputs of the only resource of a type; fails loudly if there is not exactly one."""
    found = run.of_type(type_token)
    assert len(found) == 1, f"{len(found)} resources of {type_token}: {run.error!r}"
    return found[0].inputs


def policy_statements(run: Run) -> dict[str, dict[str, Any]]:
    doc = json.loads(one(run, "aws:iam/rolePolicy:RolePolicy")["policy"])
    return {st["Sid"]: st for st in doc["Statement"]}


@cache
def is_taggable(type_token: str) -> bool:
    """Whether the pulumi_aws resource class for a type token takes ``tags``."""
    if not type_token.startswith("aws:"):
        return False
    module_part, cls_name = type_token.split(":")[1:]
    module = module_part.split("/")[0]
    module = "lambda_" if module == "lambda" else module
    cls = getattr(importlib.import_module(f"pulumi_aws.{module}"), cls_name)
    return "tags" in inspect.signature(cls._internal_init).parameters


def with_bucket_triggers() -> dict[str, Any]:
    """dev, with a second function; both started by objects of the content bucket."""
    config = stack_config("dev")
    functions = config["va-platform:functions"]
    base = {k: v for k, v in functions[0].items() if k not in ("publish", "triggers")}
    functions[0] = {**functions[0], "triggers": [
        *functions[0].get("triggers", []), {"kind": "bucket", "prefix": "drafts/"},
    ]}  # fmt: skip
    functions.append({**base, "purpose": "reports", "triggers": [
        {"kind": "bucket", "prefix": "reports/", "suffix": ".csv"},
    ]})  # fmt: skip
    return config


EXISTING_QUEUE = f"arn:aws:sqs:{REGION}:{ACCOUNT}:orders"


def every_trigger_config() -> dict[str, Any]:
    """dev, with a published function that has every trigger kind (its own queue and an
    existing one, rules on the default and a custom bus, a schedule, a function URL, objects of
    the content bucket, an HTTP API with a JWT authorizer), provisioned concurrency and a
    layer, and an unpublished one with events, http (a URL and an API), schedule, bucket."""
    config = copy.deepcopy(stack_config("dev"))
    functions = config["va-platform:functions"]
    base = {k: v for k, v in functions[0].items() if k not in ("publish", "triggers")}
    functions[0].update(
        publish=True,
        provisionedConcurrency=1,
        layers=["deps"],
        triggers=[
            {"kind": "schedule", "expression": "rate(1 hour)"},
            {"kind": "queue", "batchSize": 5},
            {"kind": "queue", "queueArn": EXISTING_QUEUE},
            {"kind": "events", "pattern": {"source": ["aws.s3"]}},
            {"kind": "events", "pattern": {"source": ["va.orders"]}, "bus": "orders"},
            {"kind": "http", "allowOrigins": ["https://va.example"]},
            {"kind": "bucket", "prefix": "drafts/"},
            {
                "kind": "http",
                "via": "api",
                "routes": ["POST /drafts", "GET /drafts/{id}"],
                "jwt": {"issuer": "https://idp.va.example", "audiences": ["drafts"]},
            },
        ],
    )
    functions.append(
        {
            **base,
            "purpose": "webhook",
            "triggers": [
                {"kind": "events", "pattern": {"source": ["aws.s3"]}},
                {"kind": "http"},
                {"kind": "schedule", "expression": "rate(1 day)"},
                {"kind": "bucket", "prefix": "hooks/", "suffix": ".json"},
                {"kind": "http", "via": "api", "routes": ["ANY /hooks/{proxy+}"]},
            ],
        }
    )
    config["va-platform:layers"] = [{"purpose": "deps", "path": "functions/contentgen"}]
    return config
