"""The example VA function: reads its API key at runtime, writes one item and one object.

The key's ARN arrives in ``OPENAI_API_KEY_SECRET_ARN``; the value is fetched once per container
(module-level cache) and never logged or returned. ``DYNAMODB_TABLE`` and ``S3_BUCKET`` name the
only table and bucket the execution role may write to.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from typing import Any

import boto3

LOG = logging.getLogger()
LOG.setLevel(os.environ.get("LOG_LEVEL", "INFO"))

_api_key: str | None = None


def api_key() -> str:
    """The secret, fetched on first use and kept for the life of the container."""
    global _api_key
    if _api_key is None:
        client = boto3.client("secretsmanager")
        response = client.get_secret_value(SecretId=os.environ["OPENAI_API_KEY_SECRET_ARN"])
        _api_key = response["SecretString"]
    return _api_key


def write_draft(topic: str) -> str:
    """One item in the core table and one object in the content bucket; returns the id."""
    item_id = str(uuid.uuid4())
    body = {"id": item_id, "topic": topic, "draft": f"A short piece about {topic}."}
    boto3.client("dynamodb").put_item(
        TableName=os.environ["DYNAMODB_TABLE"],
        Item={"pk": {"S": f"content#{item_id}"}, "sk": {"S": "draft"}, "topic": {"S": topic}},
    )
    boto3.client("s3").put_object(
        Bucket=os.environ["S3_BUCKET"], Key=f"drafts/{item_id}.json", Body=json.dumps(body)
    )
    LOG.info("stored draft", extra={"id": item_id, "topic": topic})
    return item_id


def handle_batch(records: list[dict[str, Any]]) -> dict[str, Any]:
    """A queue batch (SQS event source, ReportBatchItemFailures): each message is one topic;
    only the messages that failed are reported, so the queue retries those and no others."""
    failures = []
    for record in records:
        try:
            topic = str(json.loads(record["body"])["topic"])
            write_draft(topic)
        except Exception:  # reported per message; the batch goes on
            LOG.exception("draft failed", extra={"messageId": record.get("messageId")})
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """A direct invoke or a schedule ({"topic": ...} or {}), or a queue batch ("Records")."""
    key_present = bool(api_key())  # a real function would call the model API with it
    if "Records" in event:
        return handle_batch(event["Records"])
    item_id = write_draft(str(event.get("topic", "hello")))
    return {"statusCode": 200, "body": {"id": item_id, "key_configured": key_present}}
