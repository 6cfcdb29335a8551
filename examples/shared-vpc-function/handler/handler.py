"""Reads the Stripe key once per execution environment, from Secrets Manager, at run time."""

import os
from functools import cache
from typing import Any

import boto3  # in the Lambda Python runtime


@cache
def stripe_key() -> str:
    secrets = boto3.client("secretsmanager")
    return str(secrets.get_secret_value(SecretId=os.environ["STRIPE_SECRET"])["SecretString"])


def handler(event: dict[str, Any], context: object) -> dict[str, bool]:
    return {"ok": bool(event.get("dryRun")) or bool(stripe_key())}
