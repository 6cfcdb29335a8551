"""Attacks on FAALF's claims from the attack review: the ones fixed are plain tests, the ones
that still get through are strict xfails naming the finding.

Same harness as ``test_hostile_agent.py``: the real handler, warm in a runtime process of its own
as a non-root uid, the real Claude Code CLI, and a stand-in Messages API playing the attacker's
tool calls. Each test passes once its finding is fixed (``strict=True``: it fails the branch
then, so the xfail is removed with the fix).
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from tests.agent.lambda_env import LambdaEnvironment, lambda_environment
from tests.agent.servers import ROOT, Moto
from tests.agent.standin import Recorded, StandIn, Turn, bash, say
from tests.agent.test_hostile_agent import (
    FUNCTION_NAME,
    STANDIN_COST,
    cost_lines,
    direct_calls,
    emitted_cost,
    py,
)
from tests.agent.test_hostile_agent import pytestmark as hostile_pytestmark

pytestmark = hostile_pytestmark
LATE = "late"  # the message of the agent's request that is still upstream when the CLI ends
WAIT_S = 60  # bounded waits for an event, never a sleep


class HoldingStandIn(StandIn):
    """A stand-in that can keep one request (message ``late``) upstream until released, and
    answers the CLI's next main turn only once that request has arrived: the order of events
    is fixed by the test, not by timing."""

    def __init__(self, turns: list[Turn]) -> None:
        self.raw_bodies: list[bytes] = []  # before super().__init__, which builds the handler
        super().__init__(turns)
        self.arrived = threading.Event()
        self.release = threading.Event()
        self.holding = False

    def play(self, turns: list[Turn], *, holding: bool = False) -> StandIn:
        self.raw_bodies = []
        self.arrived.clear()
        self.release.clear()
        self.holding = holding
        return super().play(turns)

    def _next_turn(self, recorded: Recorded) -> Turn:
        turn = super()._next_turn(recorded)
        if not self.holding:
            return turn
        messages = recorded.body.get("messages") or [{}]
        if messages[0].get("content") == LATE:
            self.arrived.set()
            self.release.wait(WAIT_S)  # the upstream is still generating
        elif recorded.is_main and len(self.main_requests) > 1:
            self.arrived.wait(WAIT_S)
        return turn

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        super().__exit__(*exc)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        """The stand-in's handler, also keeping each request body as the bytes it came in."""
        base = super()._handler()
        standin = self

        class RawRecording(base):  # type: ignore[misc, valid-type]
            rfile: io.BufferedIOBase

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                raw = self.rfile.read(int(self.headers.get("content-length") or 0))
                standin.raw_bodies.append(raw)
                stream, self.rfile = self.rfile, io.BufferedReader(io.BytesIO(raw))
                try:
                    super().do_POST()
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the proxy cut a stream of an ended invocation
                finally:
                    self.rfile = stream

        return RawRecording


@pytest.fixture(scope="module")
def api() -> Iterator[HoldingStandIn]:
    with HoldingStandIn([]) as standin:
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


# --- A. A request still upstream when the CLI ends is never reported ---------------------------

LATE_REQUEST = py(f"""
import os, subprocess, sys
code = '''
import json, os, urllib.request
body = {{"model": "claude-haiku-4-5", "max_tokens": 32000, "stream": True,
        "messages": [{{"role": "user", "content": {LATE!r}}}]}}
request = urllib.request.Request(os.environ["ANTHROPIC_BASE_URL"] + "/v1/messages",
    data=json.dumps(body).encode(), headers={{"x-api-key": os.environ["ANTHROPIC_API_KEY"],
    "content-type": "application/json", "anthropic-version": "2023-06-01"}})
urllib.request.urlopen(request).read()
'''
subprocess.Popen([sys.executable, "-c", code], start_new_session=True,
                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print("late request sent")
""")


def test_request_in_flight_when_the_cli_ends_is_in_the_reported_cost(lam, api):
    api.play([bash(LATE_REQUEST), say("done")], holding=True)
    try:
        body = lam.invoke({"task": "spend after the end"}).body
        late = [r for r in api.requests if r.body.get("messages", [{}])[0].get("content") == LATE]
        served = len(api.requests)
    finally:
        api.release.set()  # the upstream answers only now, after the response is out

    assert late  # the request reached the upstream during the invocation
    # Every request the upstream served for this invocation, at least at the stand-in's usage.
    assert body["cost_usd"] >= STANDIN_COST * served - 1e-9


# --- B. A child that fails is charged nothing: the parent's budget is spent again and again ----

CHILD_DIED = {
    "errorType": "Runtime.ExitError",
    "errorMessage": "RequestId: 0 Error: Runtime exited with error: signal: killed",
}


def test_children_never_get_more_than_the_parents_budget_in_total(lam, api):
    three = "; ".join(["faalf-invoke 'spend all you get, then kill -9 your handler'"] * 3)
    api.play([bash(three), say("done")])
    lam.child_calls.clear()
    lam.child_response = dict(CHILD_DIED)  # what Lambda returns for a child whose runtime died
    try:
        lam.invoke({"task": "delegate", "max_budget_usd": 0.5})
    finally:
        lam.child_response = {
            "statusCode": 200, "body": {"claude_output": "child done", "cost_usd": 0.05},
        }  # fmt: skip

    granted = [c.event["max_budget_usd"] for c in lam.child_calls]
    assert len(granted) >= 1
    assert sum(granted) <= 0.5


# --- C. The agent kills the handler: what it spent is never emitted -----------------------------

FIND_THE_HANDLER = """
import os
def parent_and_uid(pid):
    with open(f"/proc/{pid}/status") as status:
        fields = dict(line.split(":", 1) for line in status if ":" in line)
    return int(fields["PPid"]), int(fields["Uid"].split()[0])
me, uid = os.getpid(), os.getuid()
handler = me
for _ in range(20):  # up the tree to the topmost process of our own user: the handler
    parent, parent_uid = parent_and_uid(handler)
    if parent <= 1 or parent_and_uid(parent)[1] != uid:
        break
    handler = parent
"""
KILL_THE_HANDLER = py(
    FIND_THE_HANDLER
    + """
import signal
print("killing", handler, flush=True)
os.kill(handler, signal.SIGKILL)
"""
)


# Finding C, fixed: the cost metric was emitted once, by the handler at the end of the
# invocation; an agent that SIGKILLs its handler (same user) ended the runtime before it. The
# proxy now emits each metered cost as it learns it, before the response reaches the agent.
def test_spend_before_the_agent_kills_its_handler_is_still_emitted(lam, api):
    api.play([bash(direct_calls(times=3) + "\n" + KILL_THE_HANDLER), say("never")])
    outcome = lam.invoke({"task": "spend, then hide it"})

    assert outcome.kind == "exit"  # the attack ran: the runtime died with the invocation
    assert len(api.requests) >= 4  # the CLI's turn and the three direct calls were served
    assert emitted_cost(lam.log_text(), outcome.request_id) >= (
        STANDIN_COST * len(api.requests) - 1e-9
    )


FORGED = "forged-by-the-agent"
FORGE_A_COST_LINE = py(
    FIND_THE_HANDLER
    + f"""
import json
line = json.dumps({{"_aws": {{"Timestamp": 0, "CloudWatchMetrics": [{{"Namespace": "VA/FAALF",
    "Dimensions": [["service"]], "Metrics": [{{"Name": "AgentCostUSD", "Unit": "None"}}]}}]}},
    "service": {FUNCTION_NAME!r}, "AgentCostUSD": [-1000.0], "function_request_id": {FORGED!r}}})
for fd in (1, 2):  # the handler's stdout and stderr: the function's log stream
    try:
        with open(f"/proc/{{handler}}/fd/{{fd}}", "w") as stream:
            stream.write(line + "\\n")
        print("wrote to fd", fd)
    except OSError as exc:
        print("fd", fd, "refused:", type(exc).__name__)
print(line)  # and to its own output, which is the CLI's tool result, not the log stream
"""
)


def test_agent_cannot_write_a_cost_line_into_the_handlers_log_stream(lam, api):
    api.play([bash(FORGE_A_COST_LINE), say("done")])
    lam.invoke({"task": "subtract the spend"})

    assert any("fd 1" in r for r in api.tool_results())  # the attack ran
    assert cost_lines(lam.log_text(), FORGED) == []


def test_cost_metric_is_the_one_the_cost_alarm_reads(lam, api):
    from va_platform.components.agent.profile import AgentProfile

    alarm = next(a for a in AgentProfile(purpose="agent").alarms() if a.type_ == "cost-alarm")
    api.play([bash(direct_calls()), say("done")])
    outcome = lam.invoke({"task": "spend a little"})
    lines = cost_lines(lam.log_text(), outcome.request_id)

    assert lines
    assert {
        (json.dumps(line["_aws"]["CloudWatchMetrics"]), line[alarm.dimension]) for line in lines
    } == {(json.dumps([{"Namespace": alarm.namespace, "Dimensions": [[alarm.dimension]],
                        "Metrics": [{"Name": alarm.metric, "Unit": "None"}]}]),
           FUNCTION_NAME)}  # fmt: skip


# --- D. Thousands of script files: the response outgrows Lambda's 6 MB -------------------------

MANY_SCRIPTS = py("""
name = "\\U0001F600" * 60  # 240 bytes of UTF-8, 720 bytes once JSON-escaped
for i in range(9000):
    open(f"{i:05d}{name}.py", "w").close()
print("scripts made")
""")


# Finding D, fixed: every .py file the agent left got an execution_results entry (skipped ones
# too) whose 'file' name was never cut: 9,000 files with long non-ASCII names made a response
# over 6 MB. Scripts not run are now listed up to a cap, and names are cut like any text.
def test_thousands_of_script_files_still_get_a_response_within_lambdas_6_mb(lam, api):
    api.play([bash(MANY_SCRIPTS), say("done")])
    try:
        outcome = lam.invoke({"task": "flood the results", "execute": True}, timeout_s=45)
    except TimeoutError:
        lam.stop()  # what Lambda does at the function's timeout: the runtime is spinning
        outcome = None

    assert any("scripts made" in r for r in api.tool_results())
    assert outcome is not None, "no answer: the handler never returned"
    assert outcome.kind == "response", str(outcome.payload)[:300]


LONG_NAME = "\U0001f600" * 63  # 252 bytes of UTF-8 (a name is at most 255), 756 JSON-escaped
NASTY_WORKSPACE = py(f"""
import os
name = {LONG_NAME!r}
huge = ("import sys\\nsys.stdout.write('\\\\0' * 2_000_000)\\n"
        "sys.stderr.write('\\\\U0001F600' * 600_000)\\n")
deep = "!" + name[:-1]  # '!' sorts first: the deep and huge ones are among those run
path = deep
while len(os.path.abspath(os.path.join(path, deep)).encode()) < 4096 - 300:
    path = os.path.join(path, deep)  # as deep as a path can be opened
os.makedirs(path)
with open(os.path.join(path, name[:-1] + ".py"), "w") as script:
    script.write(huge)
for i in range(3):  # a few huge outputs: NULs (6 bytes of JSON each), emoji (12 bytes each)
    with open(f"!{{i}}{{name[:-1]}}.py", "w") as script:
        script.write(huge)
for i in range(9000):  # many small files with long names
    open(f"{{i:05d}}{{name[:-2]}}.py", "w").close()
print("nasty workspace made")
""")


@pytest.fixture(params=[None, "65536"], ids=["6MiB", "64KiB"])
def response_limit(lam: LambdaEnvironment, request: pytest.FixtureRequest) -> Iterator[int]:
    """Each stream of a script kept up to its ceiling, 2 MiB (the most a function may set), and
    the response at Lambda's limit or at the smallest a function may set."""
    lam.reconfigure(
        FAALF_OUTPUT_CAP_BYTES=str(2 * 1024 * 1024), FAALF_MAX_RESPONSE_BYTES=request.param
    )
    yield int(request.param or 6 * 1024 * 1024)
    lam.reconfigure(FAALF_OUTPUT_CAP_BYTES=None, FAALF_MAX_RESPONSE_BYTES=None)


@pytest.mark.parametrize("http", [False, True], ids=["direct", "http"])
def test_nastiest_workspace_still_gets_a_json_response_within_the_limit(
    lam, api, response_limit, http
):
    api.play([bash(NASTY_WORKSPACE), say("done")])
    request = {"task": "flood the response in every way", "execute": True}
    event = {"body": json.dumps(request)} if http else request
    outcome = lam.invoke(event, timeout_s=80)

    assert any("nasty workspace made" in r for r in api.tool_results())
    assert outcome.kind == "response", str(outcome.payload)[:300]
    assert len(json.dumps(outcome.payload).encode()) <= response_limit
    if http:
        assert isinstance(json.loads(outcome.payload["body"]), dict)


FIT_UNCUTTABLE = """
import sys
from faalf import response
body = {"claude_output": "", "execution_results": [
    {"file": "x" * 1000, "stdout": "", "stderr": "not run", "truncated": False}
    for _ in range(100)]}
out = response.fit(body, lambda b: {"statusCode": 200, "body": b}, 65536, http=False)
print("returned", response.size(out))
"""


# Finding D, fixed: an emptied field still cost its quotes, so "nothing left to cut" was never
# true and the handler spun until the function's timeout (no response, no AgentCostUSD).
def test_response_fit_returns_when_nothing_is_left_to_cut():
    try:
        done = subprocess.run(
            [sys.executable, "-c", FIT_UNCUTTABLE], cwd=ROOT / "agent_image",
            capture_output=True, text=True, timeout=20,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        pytest.fail("response.fit was still cutting after 20 s")
    assert "returned" in done.stdout, done.stderr[-500:]


# --- E. A System V shared-memory segment outlives its invocation --------------------------------

SHM_KEY = 0x7A7A0E14  # the agents' rendezvous: any key works, each of them knows it
SHM_C = """
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
libc.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
"""
STASH = py(
    SHM_C
    + f"""
shmid = libc.shmget({SHM_KEY}, 4096, 0o1000 | 0o600)  # IPC_CREAT
address = libc.shmat(shmid, None, 0)
ctypes.memmove(address, ("PWNED" + "-SHM-7").encode() + bytes(1), 12)
print("stashed in segment", shmid)
"""
)
FETCH = py(
    SHM_C
    + f"""
shmid = libc.shmget({SHM_KEY}, 0, 0)
if shmid < 0:
    print("no segment")
else:
    print("found:", ctypes.string_at(libc.shmat(shmid, None, 0o10000)).decode())  # SHM_RDONLY
"""
)


def remove_segment() -> None:
    subprocess.run(["ipcrm", "-M", str(SHM_KEY)], check=False, capture_output=True)


def test_shared_memory_left_by_an_agent_never_reaches_the_next_agent(lam, api):
    remove_segment()
    try:
        api.play([bash(STASH), say("done")])
        lam.invoke({"task": "stash something"})
        assert any("stashed in segment" in r for r in api.tool_results())
        api.play([bash(FETCH), say("done")])
        lam.invoke({"task": "look for it"})
        results = "\n".join(api.tool_results())
    finally:
        remove_segment()

    assert "no segment" in results or "found:" in results  # the fetch ran
    assert "PWNED-SHM-7" not in results


# --- F. Duplicate keys: the proxy checks one value, the upstream may read the other ------------

DUPLICATE_KEYS = py("""
import os, urllib.error, urllib.request
body = ('{"model": "claude-opus-4-1", "model": "claude-haiku-4-5", "max_tokens": 64000, '
        '"max_tokens": 10, "stream": true, "messages": [{"role": "user", "content": "dup"}]}')
request = urllib.request.Request(os.environ["ANTHROPIC_BASE_URL"] + "/v1/messages",
    data=body.encode(), headers={"x-api-key": os.environ["ANTHROPIC_API_KEY"],
    "content-type": "application/json", "anthropic-version": "2023-06-01"})
try:
    print("duplicate keys status", urllib.request.urlopen(request).status)
except urllib.error.HTTPError as exc:
    print("duplicate keys status", exc.code)
""")


def duplicated_keys(raw: bytes) -> list[str]:
    found: list[str] = []

    def pairs(items: list[tuple[str, object]]) -> dict[str, object]:
        names = [name for name, _ in items]
        found.extend(sorted({name for name in names if names.count(name) > 1}))
        return dict(items)

    json.loads(raw, object_pairs_hook=pairs)
    return found


def test_upstream_gets_only_the_model_and_max_tokens_the_proxy_checked(lam, api):
    api.play([bash(DUPLICATE_KEYS), say("done")])
    lam.invoke({"task": "smuggle a model"})

    assert any("duplicate keys status" in r for r in api.tool_results())
    assert [duplicated_keys(raw) for raw in api.raw_bodies if b'"dup"' in raw] in ([], [[]])


# --- G. A fragment in the request target: checked without it, forwarded with it ----------------

FRAGMENT_TARGET = py("""
import json, os, socket, urllib.parse
proxy = urllib.parse.urlsplit(os.environ["ANTHROPIC_BASE_URL"])
body = json.dumps({"model": "claude-haiku-4-5", "max_tokens": 10,
                   "messages": [{"role": "user", "content": "fragment"}]}).encode()
target = "/v1/messages#/../messages/batches"  # dot segments resolved upstream: the batches API
head = (f"POST {target} HTTP/1.1\\r\\nHost: api\\r\\nx-api-key: {os.environ['ANTHROPIC_API_KEY']}"
        f"\\r\\ncontent-type: application/json\\r\\nContent-Length: {len(body)}"
        "\\r\\nConnection: close\\r\\n\\r\\n")
with socket.create_connection((proxy.hostname, proxy.port)) as conn:
    conn.sendall(head.encode() + body)
    print("fragment target status", conn.recv(100).split(b"\\r\\n")[0].decode())
""")


# Finding G, fixed: the proxy checked urlsplit(path).path, which drops a '#fragment', but
# forwarded the raw target: '/v1/messages#/../messages/batches' passed as /v1/messages and
# reached the upstream, where dot-segment normalisation would make it the batches API.
def test_upstream_gets_only_the_path_the_proxy_checked(lam, api):
    api.play([bash(FRAGMENT_TARGET), say("done")])
    lam.invoke({"task": "smuggle a path"})

    assert any("fragment target status" in r for r in api.tool_results())
    assert [r.path for r in api.requests if "#" in r.path or ".." in r.path] == []
