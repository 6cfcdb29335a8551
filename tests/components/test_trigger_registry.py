"""Each trigger kind is one unit: a module of its own under lambda_function/triggers/ with its
model, its role statements' Sids, its resources and its plan lines, listed once in
``TRIGGER_KINDS``; FunctionSpec's union, VaLambda, the reserved Sids, the workload boundary, the
plan review and the configuration reference iterate that list.

A new kind touches its module, its line in ``TRIGGER_KINDS`` and its model's export in
``va_platform.components`` (docs/development.md, "Adding a trigger kind"); the last tests keep
kind-specific code from growing anywhere else.
"""

from __future__ import annotations

import ast
import json
import typing
from collections import defaultdict
from pathlib import Path

import pytest

from tests.paths import PROJECT_ROOT
from tests.support import (
    CTX,
    EXISTING_QUEUE,
    NETWORKING,
    SECRET_ARN,
    TOPIC_ARN,
    build_lambda,
    every_trigger_config,
    policy_statements,
    spec,
)
from va_platform.components import BucketRef, TableRef
from va_platform.components.lambda_function import VaLambda, VaLambdaArgs
from va_platform.components.lambda_function.spec import RESERVED_SIDS, FunctionSpec
from va_platform.components.lambda_function.triggers import TRIGGER_KINDS, Trigger
from va_platform.preflight.mocks import ACCOUNT, REGION
from va_platform.preflight.review import SETTINGS
from va_platform.preflight.runner import run_under_mocks

TRIGGERS_PACKAGE = PROJECT_ROOT / "src/va_platform/components/lambda_function/triggers"
CONTENT_BUCKET = "arn:aws:s3:::va-dev-content-bucket"
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def role_sids(run) -> set[str]:
    """The Sids of the function's execution role (a schedule has a role of its own too)."""
    return {
        st["Sid"] for st in json.loads(run.named("fn-role-policy").inputs["policy"])["Statement"]
    }


def every_kind() -> list[dict[str, typing.Any]]:
    """The triggers of the test stack's function with every kind."""
    return every_trigger_config()["va-platform:functions"][0]["triggers"]


def built(artifact, triggers: list[dict[str, typing.Any]]) -> VaLambda:
    made: list[VaLambda] = []

    def program() -> None:
        args = VaLambdaArgs(
            context=CTX,
            spec=spec(publish=True, triggers=triggers),
            networking=NETWORKING,
            alarm_topic_arn=TOPIC_ARN,
            package=artifact,
            bucket_arns={"content": CONTENT_BUCKET},
        )
        made.append(VaLambda("fn", args))

    run = run_under_mocks(program)
    assert run.error is None, run.error
    return made[0]


def test_the_union_is_the_kinds_models_in_registry_order_selected_by_their_names():
    (union, *_) = typing.get_args(Trigger)
    assert typing.get_args(union) == tuple(kind.model for kind in TRIGGER_KINDS)
    names = [kind.name for kind in TRIGGER_KINDS]
    assert len(set(names)) == len(names)
    assert {t["kind"] for t in every_kind()} == set(names), "every_trigger_config misses a kind"
    for kind in TRIGGER_KINDS:
        assert type(kind).__doc__, f"{kind.name}: the reference shows its docstring"
        assert f"`{kind.name}`" in (FunctionSpec.model_fields["triggers"].description or "")


def test_each_kind_sets_its_attributes_with_or_without_triggers(artifact):
    attributes = [a for kind in TRIGGER_KINDS for a in kind.attributes]
    assert len(set(attributes)) == len(attributes)
    # What VaLambda types for callers comes from a kind, and every kind's is typed there (the
    # library reference lists VaLambda's attributes from its annotations).
    assert set(VaLambda.__annotations__) == set(attributes)
    bare, full = built(artifact, []), built(artifact, every_kind())
    for attribute in attributes:
        assert not getattr(bare, attribute), attribute
        assert getattr(full, attribute), attribute


def test_plan_lines_are_each_claimed_by_one_kind_and_not_by_the_review():
    types = [t for kind in TRIGGER_KINDS for t in kind.plan]
    assert len(set(types)) == len(types)
    assert not set(types) & set(SETTINGS)


@pytest.mark.parametrize("kind", TRIGGER_KINDS, ids=lambda k: k.name)
def test_a_kinds_role_statements_are_the_sids_it_reserves(artifact, kind):
    triggers = [t for t in every_kind() if t["kind"] == kind.name]
    without = build_lambda(artifact, spec=spec(publish=True))
    run = build_lambda(
        artifact,
        spec=spec(publish=True, triggers=triggers),
        bucket_arns={"content": CONTENT_BUCKET},
    )
    assert run.error is None, run.error
    assert role_sids(run) - role_sids(without) == kind.sids


def test_reserved_sids_are_the_sids_of_a_role_with_every_statement_the_library_writes(artifact):
    run = build_lambda(
        artifact,
        spec=spec(
            secrets=["openai-api-key"],
            destinations={
                "onSuccess": f"arn:aws:sns:{REGION}:{ACCOUNT}:va-dev-results-topic",
                "onFailure": f"arn:aws:sqs:{REGION}:{ACCOUNT}:va-dev-failures-queue",
            },
            kms_key_arn=KEY,
            table_actions=["dynamodb:GetItem"],
            bucket_actions=["s3:GetObject"],
            triggers=[{"kind": "queue"}, {"kind": "queue", "queueArn": EXISTING_QUEUE}],
            existing_secrets=[
                {"env": "STRIPE_SECRET_ARN", "name": "billing/stripe", "kmsKeyArn": KEY}
            ],
        ),
        secret_arns={"openai-api-key": SECRET_ARN},
        table=TableRef(arn=f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/va-dev-core", name="t"),
        bucket=BucketRef(arn=CONTENT_BUCKET, name="va-dev-content-bucket"),
    )
    assert run.error is None, run.error
    assert set(policy_statements(run)) == RESERVED_SIDS


# --- kind-specific code stays in the kind's module ---------------------------------------------
# Outside triggers/, only these name a kind's model: the public exports, and the bucket kind's
# stack-level companions (S3 keeps one notification per bucket, for every function's triggers).
NAMED_ELSEWHERE = {
    "src/va_platform/components/__init__.py": {
        m.__name__ for m in (k.model for k in TRIGGER_KINDS)
    },
    "src/va_platform/components/bucket.py": {"BucketTrigger"},
    "stack/config.py": {"BucketTrigger"},
    "__main__.py": {"BucketTrigger"},
}


def code_files() -> list[Path]:
    return sorted(
        [*(PROJECT_ROOT / "src").rglob("*.py"), *(PROJECT_ROOT / "stack").rglob("*.py"),
         PROJECT_ROOT / "__main__.py"]
    )  # fmt: skip


def names_in(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Name):
            found.add(node.id)
        elif isinstance(node, ast.Attribute):
            found.add(node.attr)
        elif isinstance(node, ast.alias):
            found.add(node.asname or node.name)
    return found


def test_no_code_outside_a_kinds_module_names_its_model():
    models = {kind.model.__name__: kind.model.__module__ for kind in TRIGGER_KINDS}
    naming: dict[str, set[str]] = defaultdict(set)
    for path in code_files():
        where = path.relative_to(PROJECT_ROOT).as_posix()
        module = (
            ".".join(path.relative_to(PROJECT_ROOT / "src").with_suffix("").parts)
            if (where.startswith("src/"))
            else ""
        )
        for name in names_in(path) & set(models):
            if module == models[name] or path == TRIGGERS_PACKAGE / "__init__.py":
                continue  # the kind's own module, and the registry
            naming[where].add(name)
    assert {where: names - NAMED_ELSEWHERE.get(where, set()) for where, names in naming.items()
            if names - NAMED_ELSEWHERE.get(where, set())} == {}  # fmt: skip


def test_the_check_sees_a_kind_named_outside_its_module(tmp_path):
    stray = tmp_path / "stray.py"
    stray.write_text("from x import QueueTrigger\nisinstance(t, QueueTrigger)\n", encoding="utf-8")
    assert "QueueTrigger" in names_in(stray)
