"""faalf-invoke: send a task to a FAALF function and print the result.

Two users: people at a terminal (``faalf-invoke --function va-dev-agent-lambda "task"``), and the
agent itself, which delegates a subtask to a child FAALF. Inside a function the agent has no
credentials to invoke Lambda: the client posts the request to the handler's loopback endpoint
(``FAALF_INVOKE_URL``, with the invocation's ``FAALF_TOKEN``), and the handler sets the child's
depth, checks the recursion limit and the budget, and invokes the child itself.

``--endpoint`` talks to anything serving the Lambda Invoke API path, as the runtime interface
emulator does (``docker compose up`` serves it on http://localhost:9000).

Everything in a response may be the agent's choice (its answer, its scripts' output and file
names, an error it provoked), and a terminal obeys control sequences: an OSC 52 writes the
user's clipboard, cursor moves and erasures rewrite what was printed above (a failed script
shown as ``exit 0``). So every control or format character (C0 but newline and tab, DEL, C1,
bidirectional overrides, zero-width marks, line and paragraph separators) is printed escaped
(``\x1b``, ``\u202e``), and so is a lone surrogate (``\ud800``: valid in JSON, unprintable in
UTF-8); ``--raw`` prints the text as it is (lone surrogates still escaped), to a pipe or file
only. ``--json`` escapes them as JSON does. The client writes no file at all: only stdout and
stderr.

Newlines are the agent's too: enough of them push the client's own lines off the screen, and a
copy of those lines (``--- report.py (exit 0)``) then looks like the real thing. So every line of
the agent's text is printed behind ``| `` (never at the start of a line of the client's own),
fields that are one line (a script's file name, the model) have their newlines escaped too, and
the last line printed is the client's own statement of the outcome, after all of the agent's
text: ``faalf-invoke: ok ...`` or ``faalf-invoke: FAILED: report.py (exit 1)``, which agrees with
the exit status.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import unicodedata
import urllib.error
import urllib.request
from typing import Any, TextIO

INVOKE_PATH = "/2015-03-31/functions/function/invocations"
ESCAPED = ("Cc", "Cf", "Cs", "Zl", "Zp")  # control, format, lone surrogate, line/paragraph sep.
AGENT_LINE = "| "  # before every line of the agent's text; no line of the client's starts so
OUTCOME = "faalf-invoke: "  # the last line: the client's own statement of the outcome
MAX_NAMED_FAILURES = 5
TIMEOUT_S = 900


class ClientError(Exception):
    """A usage problem, reported on stderr with exit code 2."""


def _escape(char: str) -> str:
    if char in "\n\t":
        return "\\n" if char == "\n" else "\\t"
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe(text: object, raw: bool = False, *, oneline: bool = False) -> str:
    """``text`` with every control and format character escaped, unless ``raw``; a lone
    surrogate (JSON can carry one, UTF-8 cannot) is escaped even then: printed, it would
    raise before anything of the response is shown. ``oneline``: newlines and tabs too (a field
    printed inside one of the client's own lines), raw or not."""
    text = str(text)
    if raw and not oneline:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    kept = "" if oneline else "\n\t"
    return "".join(
        _escape(c) if c not in kept and unicodedata.category(c) in ESCAPED else c for c in text
    )


def field(value: object) -> str:
    """A value shown inside one of the client's own lines: escaped, newlines included."""
    return safe(value, oneline=True)


def agent_text(text: object, out: TextIO, *, raw: bool = False) -> None:
    """The agent's text, each line behind ``AGENT_LINE`` (as it is with ``raw``: for pipes)."""
    text = safe(text, raw)
    if not text:
        return
    if raw:
        print(text, end="" if text.endswith("\n") else "\n", file=out)
        return
    for line in text.removesuffix("\n").split("\n"):
        print(AGENT_LINE + line, file=out)


def build_request(args: argparse.Namespace, env: dict[str, str]) -> dict[str, Any]:
    if args.file:
        with open(args.file, encoding="utf-8") as handle:
            task = handle.read()
    elif args.task:
        task = " ".join(args.task)
    else:
        task = sys.stdin.read()
    if not task.strip():
        raise ClientError("no task: give it as arguments, with --file, or on stdin")
    request: dict[str, Any] = {"task": task, "execute": args.execute}
    if args.model:
        request["model"] = args.model
    if args.budget is not None:
        request["max_budget_usd"] = args.budget
    if args.max_turns is not None:
        request["max_turns"] = args.max_turns
    if "FAALF_DEPTH" in env:
        depth = int(env["FAALF_DEPTH"]) + 1
        limit = int(env.get("FAALF_MAX_DEPTH", "2"))
        if depth > limit:
            raise ClientError(
                f"recursion limit reached: a child at depth {depth} would exceed {limit}; "
                "do the subtask yourself"
            )
        request["depth"] = depth
    return request


def target_function(args: argparse.Namespace, env: dict[str, str]) -> str:
    name = args.function or env.get("FAALF_FUNCTION") or env.get("AWS_LAMBDA_FUNCTION_NAME")
    if not name:
        raise ClientError("which function? give --function NAME (or --endpoint URL)")
    return name


def invoke_endpoint(endpoint: str, request: dict[str, Any]) -> dict[str, Any]:
    return post_json(endpoint.rstrip("/") + INVOKE_PATH, request, {})


def invoke_through_handler(url: str, token: str, request: dict[str, Any]) -> dict[str, Any]:
    """Inside an agent: the handler decides on and invokes the child."""
    return post_json(url, request, {"x-api-key": token})


def post_json(url: str, request: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    http = urllib.request.Request(
        url,
        data=json.dumps(request).encode(),
        headers={"content-type": "application/json"} | headers,
        method="POST",
    )
    try:
        with urllib.request.urlopen(http, timeout=TIMEOUT_S) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        try:
            error = json.loads(exc.read()).get("error", {}).get("message", str(exc))
        except (ValueError, AttributeError):
            error = str(exc)
        return {"statusCode": exc.code, "body": {"error": error}}
    except (urllib.error.URLError, TimeoutError) as exc:
        raise ClientError(f"could not reach {url}: {exc}") from None


def invoke_lambda(function: str, request: dict[str, Any]) -> dict[str, Any]:
    import boto3  # only here: the endpoint mode works without it
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, NoCredentialsError, NoRegionError
    from botocore.exceptions import ClientError as AwsError

    try:
        client = boto3.client(
            "lambda", config=Config(read_timeout=TIMEOUT_S, retries={"mode": "standard"})
        )
        response = client.invoke(FunctionName=function, Payload=json.dumps(request).encode())
    except NoRegionError:
        raise ClientError(
            "no AWS region: set AWS_REGION (e.g. AWS_REGION=eu-central-1) or a region in "
            "your AWS profile"
        ) from None
    except NoCredentialsError:
        raise ClientError(
            "no AWS credentials: sign in (aws sso login / AWS_PROFILE) or use --endpoint"
        ) from None
    except AwsError as exc:
        error = exc.response.get("Error", {})
        raise ClientError(
            f"{function}: {error.get('Code', 'error')}: {error.get('Message', exc)}"
        ) from None
    except BotoCoreError as exc:
        raise ClientError(f"{function}: {exc}") from None
    payload = json.loads(response["Payload"].read())
    if "FunctionError" in response:
        raise ClientError(f"{function} failed: {payload.get('errorMessage', payload)}")
    return payload


def render(response: dict[str, Any], out: TextIO, *, raw: bool = False) -> int:
    """The result for a person; the exit code is 0 only if everything succeeded. Every text of
    the response is escaped (``safe``), unless ``raw``; the agent's lines come behind
    ``AGENT_LINE``, and the last line is the client's own statement of the outcome."""
    status = response.get("statusCode")
    body = response.get("body")
    if isinstance(body, str):
        with contextlib.suppress(ValueError):  # not JSON: shown as text, escaped
            body = json.loads(body)
    if status != 200 or not isinstance(body, dict):
        error = body.get("error") if isinstance(body, dict) else body
        print(f"error ({field(status)}):", file=out)
        agent_text(error, out, raw=raw)
        print(f"{OUTCOME}FAILED: the function answered {field(status)}", file=out)
        return 1
    agent_text(body.get("claude_output") or "", out, raw=raw)
    if body.get("claude_error"):
        print("\n[claude error]", file=out)
        agent_text(body["claude_error"], out, raw=raw)
    runs = [r for r in body.get("execution_results") or [] if isinstance(r, dict)]
    for run in runs:
        print(f"\n--- {field(run.get('file'))} ({_run_status(run)})", file=out)
        agent_text(run.get("stdout") or "", out, raw=raw)
        if run.get("stderr"):
            print("[stderr]", file=out)
            agent_text(run["stderr"], out, raw=raw)
    cost = body.get("cost_usd")
    print(
        f"\nmodel {field(body.get('model'))} · turns {field(body.get('num_turns'))} · "
        f"cost ${field(cost) if cost is not None else '?'} · {field(body.get('duration_ms'))} ms",
        file=out,
    )
    failed = [f"the agent ({_run_status(body)})"] if body.get("return_code") != 0 else []
    failed += [
        f"{field(r.get('file'))} ({_run_status(r)})" for r in runs if r.get("return_code") != 0
    ]
    if not failed:
        print(f"{OUTCOME}ok: the agent and {len(runs)} script(s) exited 0", file=out)
        return 0
    more = len(failed) - MAX_NAMED_FAILURES
    named = ", ".join(failed[:MAX_NAMED_FAILURES]) + (f" and {more} more" if more > 0 else "")
    print(f"{OUTCOME}FAILED: {named}", file=out)
    return 1


def _run_status(run: dict[str, Any]) -> str:
    if run.get("timed_out") is True:
        return "timed out"
    code = run.get("return_code")
    return "not run" if code is None else f"exit {field(code)}"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="faalf-invoke", description=__doc__.split("\n\n")[0])
    p.add_argument("task", nargs="*", help="the task (default: --file, else stdin)")
    p.add_argument("-f", "--file", help="read the task from this file")
    p.add_argument("--execute", action="store_true", help="run the .py files the agent writes")
    p.add_argument("--model", help="a model from the function's allow-list")
    p.add_argument("--budget", type=float, help="max USD for this request (≤ the function's)")
    p.add_argument("--max-turns", type=int, help="max agent turns (≤ the function's)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--function", help="Lambda function name or ARN (boto3, your AWS config)")
    where.add_argument("--endpoint", help="base URL serving the Lambda Invoke API (the RIE)")
    p.add_argument("--json", action="store_true", help="print the raw response as JSON")
    p.add_argument(
        "--raw",
        action="store_true",
        help="print the agent's text unescaped, control characters included (not to a terminal)",
    )
    return p


def main(argv: list[str] | None = None, env: dict[str, str] | None = None) -> int:
    args = parser().parse_args(argv)
    env = dict(os.environ) if env is None else env
    if args.raw and sys.stdout.isatty():
        print("faalf-invoke: --raw writes the agent's control characters as they are: only to "
              "a pipe or a file, never to a terminal", file=sys.stderr)  # fmt: skip
        return 2
    try:
        request = build_request(args, env)
        if args.endpoint:
            response = invoke_endpoint(args.endpoint, request)
        elif not args.function and env.get("FAALF_INVOKE_URL"):
            request.pop("depth", None)  # the handler sets it
            token = env.get("FAALF_TOKEN", "")
            response = invoke_through_handler(env["FAALF_INVOKE_URL"], token, request)
        else:
            response = invoke_lambda(target_function(args, env), request)
    except ClientError as exc:
        print(f"faalf-invoke: {safe(exc)}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(response, indent=2))  # ensure_ascii: every control character escaped
        return 0 if response.get("statusCode") == 200 else 1
    return render(response, sys.stdout, raw=args.raw)


if __name__ == "__main__":
    sys.exit(main())
