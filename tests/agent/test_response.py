"""The response fits Lambda's limit after JSON encoding, with every cut field named."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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


def entry(file: str, stdout: str = "", stderr: str | None = None) -> dict:
    return {"file": file, "stdout": stdout, "stderr": stderr, "return_code": 0,
            "timed_out": False, "truncated": False}  # fmt: skip


def test_long_file_names_are_cut_keeping_their_end_and_named():
    names = [f"{i:03d}/" + "d/" * 2000 + f"script{i}.py" for i in range(100)]
    body = {"claude_output": "", "execution_results": [entry(n) for n in names]}
    fitted = response.fit(body, direct, LIMIT, http=False)["body"]

    assert fitted["execution_results"][7]["file"].endswith("/script7.py")
    assert "execution_results[7].file" in fitted["truncated_fields"]


def test_entries_that_cannot_fit_are_dropped_from_the_end_and_the_list_named():
    body = {"claude_output": "", "execution_results": [entry("a.py") for _ in range(5000)]}
    fitted = response.fit(body, direct, LIMIT, http=False)

    assert response.size(fitted) <= LIMIT
    assert "execution_results" in fitted["body"]["truncated_fields"]


# The agent chooses every string below: NULs and emoji grow the most once JSON-escaped (an HTTP
# body escapes them twice), lone surrogates come from file names that are not UTF-8.
NASTY = st.sampled_from(["\0", "\U0001f600", "\\", '"', "\udcff", "x", "é", "\n"])
TEXT = st.builds(lambda c, n: c * n, NASTY, st.integers(0, 40_000))
NAME = st.builds(lambda c, n, d: "sub/" * d + c * n + ".py", NASTY, st.integers(0, 250),
                 st.integers(0, 1000))  # fmt: skip
ENTRY = st.builds(entry, NAME, TEXT, st.one_of(st.none(), TEXT))
ENTRIES = st.one_of(
    st.lists(ENTRY, max_size=100),
    st.builds(lambda e, n: [dict(e) for _ in range(n)], ENTRY, st.integers(0, 3000)),  # many
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(output=TEXT, results=ENTRIES, http_event=st.booleans())
def test_any_body_fits_as_valid_json_with_every_cut_named(output, results, http_event):
    body = {"claude_output": output, "claude_error": None, "truncated": False,
            "execution_results": results, "truncated_fields": []}  # fmt: skip
    original = json.loads(json.dumps(body))
    fitted = response.fit(body, http if http_event else direct, 65536, http=http_event)
    sent = json.loads(json.dumps(fitted))
    got = json.loads(sent["body"]) if http_event else sent["body"]

    assert response.size(fitted) <= 65536
    assert cut_fields(original, got) <= set(got["truncated_fields"])


def cut_fields(before: dict, after: dict) -> set[str]:
    """The fields of ``before`` that ``after`` no longer holds whole (dropped entries: the list)."""
    cut = {k for k in ("claude_output", "claude_error") if before[k] != after[k]}
    kept = after["execution_results"]
    if len(kept) < len(before["execution_results"]):
        cut.add("execution_results")
    for i, (old, new) in enumerate(zip(before["execution_results"], kept, strict=False)):
        cut |= {f"execution_results[{i}].{k}" for k in ("file", "stdout", "stderr")
                if old[k] != new[k]}  # fmt: skip
    return cut
