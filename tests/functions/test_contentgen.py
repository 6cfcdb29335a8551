"""The example function against Secrets Manager, DynamoDB and S3 served by moto on 127.0.0.1."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Iterator
from types import ModuleType

import boto3
import pytest
import requests
from moto.server import ThreadedMotoServer

from tests.paths import PROJECT_ROOT

TABLE, BUCKET, SECRET = "va-dev-core-dynamodb", "va-dev-content-bucket", "va/dev/openai-api-key"
KEY = "sk-proj-test-key-0123456789abcdef"


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws(endpoint, monkeypatch) -> dict[str, str]:
    for key, value in {
        "AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "eu-central-1",
    }.items():  # fmt: skip
        monkeypatch.setenv(key, value)
    boto3.setup_default_session()
    requests.post(f"{endpoint}/moto-api/reset", timeout=5)
    sm = boto3.client("secretsmanager")
    arn = sm.create_secret(Name=SECRET, SecretString=KEY)["ARN"]
    boto3.client("dynamodb").create_table(
        TableName=TABLE, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                   {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "sk", "AttributeType": "S"}],
    )  # fmt: skip
    boto3.client("s3").create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-central-1"}
    )
    env = {"OPENAI_API_KEY_SECRET_ARN": arn, "DYNAMODB_TABLE": TABLE, "S3_BUCKET": BUCKET}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


def load_handler() -> ModuleType:
    """A fresh module per test: the per-container secret cache starts empty, as on a cold start."""
    path = PROJECT_ROOT / "functions/contentgen/handler.py"
    spec = importlib.util.spec_from_file_location("contentgen_handler", path)
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.pop("contentgen_handler", None)
    spec.loader.exec_module(module)
    return module


def count_secret_fetches() -> list[object]:
    calls: list[object] = []
    boto3.DEFAULT_SESSION.events.register(  # type: ignore[union-attr]
        "before-call.secrets-manager.GetSecretValue", lambda **kw: calls.append(kw)
    )
    return calls


def test_handler_writes_one_item_and_one_object(aws):
    result = load_handler().handler({"topic": "lambda"}, None)
    assert result["statusCode"] == 200
    item_id = result["body"]["id"]
    items = boto3.client("dynamodb").scan(TableName=TABLE)["Items"]
    assert [i["pk"]["S"] for i in items] == [f"content#{item_id}"]
    obj = boto3.client("s3").get_object(Bucket=BUCKET, Key=f"drafts/{item_id}.json")
    assert json.loads(obj["Body"].read())["topic"] == "lambda"


def test_secret_is_fetched_once_per_container(aws):
    handler = load_handler()
    calls = count_secret_fetches()
    handler.handler({}, None)
    handler.handler({}, None)
    assert len(calls) == 1


def test_response_never_contains_the_secret(aws):
    result = load_handler().handler({"topic": "x"}, None)
    assert KEY not in json.dumps(result)
    assert result["body"]["key_configured"] is True


def test_queue_batch_reports_only_the_failed_messages(aws):
    records = [
        {"messageId": "m1", "body": json.dumps({"topic": "queues"})},
        {"messageId": "m2", "body": "not json"},
    ]
    result = load_handler().handler({"Records": records}, None)
    assert result == {"batchItemFailures": [{"itemIdentifier": "m2"}]}


def test_queue_batch_stores_a_draft_per_good_message(aws):
    records = [{"messageId": f"m{i}", "body": json.dumps({"topic": f"t{i}"})} for i in range(3)]
    load_handler().handler({"Records": records}, None)
    topics = sorted(
        i["topic"]["S"] for i in boto3.client("dynamodb").scan(TableName=TABLE)["Items"]
    )
    assert topics == ["t0", "t1", "t2"]
