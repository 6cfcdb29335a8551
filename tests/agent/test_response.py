"""The response fits Lambda's limit after JSON encoding, with every cut field named."""

from __future__ import annotations

import json

from faalf import response

LIMIT = 200_000


def body_with(stdout: str, output: str = "ok") -> dict:
    return {"claude_output": output, "claude_error": None, "truncated": False,
            "execution_results": [{"file": "a.py", "stdout": stdout, "stderr": None,
                                   "truncated": False}]}  # fmt: skip


def direct(body: dict) -> dict:
    return {"statusCode": 200, "body": body}


def http(body: dict) -> dict:
    return {"statusCode": 200, "headers": {}, "body": json.dumps(body)}


def test_small_response_is_unchanged():
    body = body_with("hello\n")

    assert response.fit(body, direct, LIMIT, http=False) == direct(body_with("hello\n"))


def test_nul_flood_in_an_http_event_fits_after_double_encoding():
    fitted = response.fit(body_with("\0" * 100_000), http, LIMIT, http=True)

    assert response.size(fitted) <= LIMIT


def test_long_fields_are_cut_to_one_level_not_one_emptied():
    body = body_with("x" * 150_000, output="y" * 150_000)
    fitted = response.fit(body, direct, LIMIT, http=False)["body"]

    assert len(fitted["claude_output"]) == len(fitted["execution_results"][0]["stdout"]) > 90_000
    assert fitted["truncated_fields"] == ["claude_output", "execution_results[0].stdout"]
