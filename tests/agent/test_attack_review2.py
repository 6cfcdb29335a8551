"""Attacks of the second review after issue 23: what still works for a hostile agent.

Same harness as ``test_hostile_agent.py``: the real handler, warm in a runtime process of its own
as a non-root uid, the real Claude Code CLI, and a stand-in Messages API playing the attacker's
tool calls. The attacks that still get through are strict xfails naming the finding (a strict
xfail fails the branch once the finding is fixed: the mark goes with the fix).

Fixed since the review, each seen failing first as its strict xfail: A and B (the work root
itself put back), C where the kernel has pidfd_getfd (the connect supervisor), D (the cost key
derived from the API key), E (faalf-invoke's prefixes and outcome line), F, G (input reserved
at admission). Still a strict xfail: C on a kernel with neither Landlock's TCP rules nor
pidfd_getfd (before Linux 5.6), where the Runtime API stays open and the tripwire is best effort.
"""

from __future__ import annotations

import io
import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.agent.lambda_env import LambdaEnvironment, SandboxBuild, lambda_environment
from tests.agent.servers import Moto
from tests.agent.standin import Recorded, StandIn, Turn, bash, say, write
from tests.agent.test_hostile_agent import HELLO, py
from tests.agent.test_hostile_agent import pytestmark as hostile_pytestmark

pytestmark = hostile_pytestmark
WAIT_S = 60  # bounded waits for an event, never a sleep


class SlowFirstTokenStandIn(StandIn):
    """A stand-in whose requests with a given first message wait, before their first event,
    until ``together`` of them have arrived (bounded): the seconds a real API takes to read a
    long prompt before ``message_start``, during which the proxy knows no input cost yet."""

    def __init__(self, turns: list[Turn]) -> None:
        super().__init__(turns)
        self.slow: str | None = None
        self.together = 0
        self._arrived = 0
        self._all_there = threading.Event()

    def hold(self, content: str, together: int) -> None:
        self.slow, self.together, self._arrived = content, together, 0
        self._all_there.clear()

    def _next_turn(self, recorded: Recorded) -> Turn:
        turn = super()._next_turn(recorded)
        if (recorded.body.get("messages") or [{}])[0].get("content") == self.slow:
            with self._lock:
                self._arrived += 1
                if self._arrived >= self.together:
                    self._all_there.set()
            self._all_there.wait(WAIT_S)
        return turn


@pytest.fixture(scope="module")
def api() -> Iterator[SlowFirstTokenStandIn]:
    with SlowFirstTokenStandIn([]) as standin:
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


# The work root is the workspace's parent: the agent finds it from its own HOME.
WORK_ROOT = """
import os
workspace = os.path.dirname(os.environ["HOME"])
root = os.path.dirname(workspace)
"""


# --- A. The work root's own mode: every later invocation of the environment fails -------------

LOCK_THE_WORK_ROOT = py(
    WORK_ROOT
    + """
import shutil
os.chdir("/")
shutil.rmtree(workspace)  # its own workspace: what the handler would remove anyway
os.chmod(root, 0o500)  # the work root is the agent's user's (Lambda's /tmp); now read-only
# The Bash tool's output file was in the workspace: the agent reports through the proxy instead.
import json, urllib.request
body = {"model": "claude-haiku-4-5", "max_tokens": 8,
        "messages": [{"role": "user", "content": f"locked {oct(os.stat(root).st_mode)}"}]}
urllib.request.urlopen(urllib.request.Request(os.environ["ANTHROPIC_BASE_URL"] + "/v1/messages",
    data=json.dumps(body).encode(), headers={"x-api-key": os.environ["ANTHROPIC_API_KEY"],
    "content-type": "application/json", "anthropic-version": "2023-06-01"})).read()
"""
)


def first_messages(api: StandIn) -> list[object]:
    return [(r.body.get("messages") or [{}])[0].get("content") for r in api.requests]


# Finding A, fixed (seen failing first, as this strict xfail: every later invocation a 500): the
# handler emptied the work root but never checked or restored the root's own mode; it now puts
# the root itself back before and after emptying it (mode 0700, group, attributes, ACLs, inode
# flags, times) and a warm invocation that finds it changed ends the runtime.
def test_work_root_mode_set_by_an_agent_leaves_the_next_invocation_healthy(lam, api):
    try:
        api.play([bash(LOCK_THE_WORK_ROOT), say("done")])
        lam.invoke({"task": "lock the work root"})
        attack = first_messages(api)
        api.play(HELLO)
        following = lam.invoke({"task": "write hello world"})
    finally:
        os.chmod(lam.work_root, 0o700)  # as the harness made it, for the tests after this one

    assert "locked 0o40500" in attack  # the attack ran
    assert following.kind == "response", following.payload
    assert following.payload["statusCode"] == 200, following.payload
    assert following.body["claude_output"] == "Wrote hello.py"


# --- B. The work root's extended attributes: data for the next agent ---------------------------

XATTR_STASH = py(
    WORK_ROOT
    + """
os.setxattr(root, "user.faalf-stash", b"PWNED-XATTR-B")
print("stashed on", root)
"""
)
XATTR_FETCH = py(
    WORK_ROOT
    + """
try:
    print("found:", os.getxattr(root, "user.faalf-stash").decode())
except OSError as exc:
    print("no attribute:", exc.strerror)
"""
)


# Finding B, fixed (seen failing first, as this strict xfail: the next agent read the attribute):
# user extended attributes and ACLs of the work root itself are removed after every run, with
# the rest of the root's own state (``process.restore_work_root``).
def test_extended_attributes_left_on_the_work_root_never_reach_the_next_agent(lam, api):
    try:
        api.play([bash(XATTR_STASH), say("done")])
        lam.invoke({"task": "leave something for the next caller"})
        stashed = "\n".join(api.tool_results())
        api.play([bash(XATTR_FETCH), say("done")])
        lam.invoke({"task": "look for it"})
        fetched = "\n".join(api.tool_results())
    finally:
        with suppress(OSError):
            os.removexattr(lam.work_root, "user.faalf-stash")

    assert "stashed on" in stashed  # the attack ran
    assert "found:" in fetched or "no attribute" in fetched  # and so did the fetch
    assert "PWNED-XATTR-B" not in fetched


# --- Where the fence is incomplete: a kernel without Landlock's TCP rules -----------------------
#
# Lambda's kernel is not known here (public reports: 4.14 and 5.10; Landlock's TCP rules need
# 6.7), and the README's threat model names what still holds there. The runtimes below run as
# on such kernels: their Landlock syscalls fail with ENOSYS (a seccomp filter set on the runtime
# process before the handler is imported), so the fence is built without Landlock. On Linux 5.6
# and later (5.10, say) the connect supervisor closes the Runtime API instead (``fenceless``);
# before 5.6 (4.14) there is no ``pidfd_getfd``, made ENOSYS too (``old_kernel``), and the
# handler falls back to its other defences.

NO_LANDLOCK_RUNTIME = '''"""The runtime loop on a kernel without Landlock: landlock_* (and {also}) fail with
ENOSYS."""
import ctypes, errno, os, runpy
from faalf import fence
libc = ctypes.CDLL(None, use_errno=True)
assert libc.prctl(fence.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0
ENOSYS = (fence.SYS_LANDLOCK_CREATE_RULESET, fence.SYS_LANDLOCK_ADD_RULE,
          fence.SYS_LANDLOCK_RESTRICT_SELF) + {also}
program = [(fence.LD_ABS_W, 0, 0, fence.NR_OFFSET)]
for number in ENOSYS:
    program += [(fence.JEQ_K, 0, 1, number),
                (fence.RET_K, 0, 0, fence.SECCOMP_RET_ERRNO | errno.ENOSYS)]
program.append((fence.RET_K, 0, 0, fence.SECCOMP_RET_ALLOW))
assert fence._install_seccomp(libc, program)
runpy.run_path(os.path.join(os.path.dirname(__file__), "runtime_client.py"), run_name="__main__")
'''
SYS_PIDFD_GETFD = 438  # Linux 5.6; the same number on x86_64 and arm64


@dataclass(frozen=True)
class WrappedBuild(SandboxBuild):
    wrapper: str = "runtime_client.py"

    @property
    def runtime_client(self) -> Path:
        return self.source / self.wrapper


@contextmanager
def fenceless_environment(
    moto: Moto, claude_bin: Path, api: StandIn, logs: Path, *, old_kernel: bool = False
) -> Iterator[LambdaEnvironment]:
    """The function on a kernel without Landlock; ``old_kernel``: without pidfd_getfd too."""
    from tests.agent import test_hostile_agent as hostile

    env = hostile.function_env(moto, claude_bin, api)
    name = "runtime_client_old_kernel.py" if old_kernel else "runtime_client_no_landlock.py"
    also = (SYS_PIDFD_GETFD,) if old_kernel else ()
    with lambda_environment(env, logs) as service:
        wrapper = service.build.source / name
        wrapper.write_text(NO_LANDLOCK_RUNTIME.replace("{also}", repr(also)))
        wrapper.chmod(0o644)
        service.build = WrappedBuild(service.build.python, service.build.source, name)
        yield service


@pytest.fixture(scope="module")
def fenceless_api() -> Iterator[StandIn]:
    with StandIn([]) as standin:
        yield standin


@pytest.fixture(scope="module")
def fenceless(
    moto: Moto, claude_bin: Path, fenceless_api: StandIn, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LambdaEnvironment]:
    """The function on a kernel without Landlock, with pidfd_getfd (Linux 5.6 to 6.6)."""
    logs = tmp_path_factory.mktemp("fenceless-logs")
    with fenceless_environment(moto, claude_bin, fenceless_api, logs) as service:
        yield service


@pytest.fixture(scope="module")
def child_api() -> Iterator[StandIn]:
    with StandIn([]) as standin:
        yield standin


@pytest.fixture(scope="module")
def old_kernel(
    moto: Moto, claude_bin: Path, child_api: StandIn, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LambdaEnvironment]:
    """The function on a kernel with neither Landlock nor pidfd_getfd (before Linux 5.6): it
    also serves the children below."""
    logs = tmp_path_factory.mktemp("old-kernel-logs")
    with fenceless_environment(moto, claude_bin, child_api, logs, old_kernel=True) as service:
        yield service


@pytest.fixture(scope="module")
def parent_api() -> Iterator[StandIn]:
    with StandIn([]) as standin:
        yield standin


@pytest.fixture(scope="module")
def old_kernel_parent(
    moto: Moto, claude_bin: Path, parent_api: StandIn, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LambdaEnvironment]:
    """The same function, another execution environment: its children go to ``old_kernel``."""
    logs = tmp_path_factory.mktemp("old-kernel-parent-logs")
    with fenceless_environment(moto, claude_bin, parent_api, logs, old_kernel=True) as service:
        yield service


def fence_status(lam: LambdaEnvironment) -> dict[str, object]:
    """What the handler logged of its fence at its cold start."""
    lines = [json.loads(line) for line in lam.log_text().splitlines() if '"agent fence' in line]
    assert lines, "the handler logged no fence status"
    return lines[-1]


# --- C. The Runtime API tripwire: a connection reset by the agent leaves no trace ---------------


def silent_fetch(lam: LambdaEnvironment) -> str:
    """``next`` on a kept-alive connection, closed with a reset (SO_LINGER 0): neither end keeps
    a TIME_WAIT entry, and by the time the handler lists /proc/net/tcp nothing is left of it."""
    host, _, port = lam.url.removeprefix("http://").partition(":")
    return py(f"""
import socket, struct
try:
    conn = socket.create_connection(({host!r}, {int(port)}))
except OSError as exc:
    print("connect refused:", exc, flush=True)
    raise SystemExit(1)
conn.sendall(b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\\r\\nHost: api\\r\\n\\r\\n")
data = b""
while b"\\r\\n\\r\\n" not in data:
    data += conn.recv(65536)
head, _, body = data.partition(b"\\r\\n\\r\\n")
length = next(int(line.split(b":")[1]) for line in head.split(b"\\r\\n")
              if line.lower().startswith(b"content-length:"))
while len(body) < length:
    body += conn.recv(65536)
print("fetched", body.decode(), flush=True)
conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
conn.close()
""")


CALLERS_EVENT = {"body": json.dumps({"task": "read my own event"}),
                 "headers": {"authorization": "Bearer my-callers-token-C"}}  # fmt: skip


# Finding C, fixed where the kernel has pidfd_getfd (Linux 5.6+; Lambda's reported 5.10): seen
# failing first, as the strict xfail below (then on this runtime: the agent read its own event
# and the runtime stayed warm). Without Landlock the fence now hands every connect of the agent
# to a supervisor in the handler, which refuses the Runtime API's port and makes every other
# connect itself with its own copy of the address (``faalf/supervisor.py``): the reset never
# matters, as no connection is made.
def test_without_landlock_the_agent_cannot_reach_the_runtime_api(fenceless, fenceless_api):
    fenceless_api.play([bash(silent_fetch(fenceless)), say("done")])
    outcome = fenceless.invoke(CALLERS_EVENT)
    results = "\n".join(fenceless_api.tool_results())
    status = fence_status(fenceless)

    assert (status["landlock_abi"], status["supervisor"]) == (0, True)  # no Landlock here
    assert status["runtime_api_closed"] is True
    assert "connect refused: [Errno 13]" in results  # the attack ran, and was refused
    assert "my-callers-token-C" not in results
    assert outcome.kind == "response", outcome.payload
    assert '"the agent tried the Lambda Runtime API' in fenceless.log_text()


@pytest.mark.xfail(
    strict=True,
    reason="where the kernel has neither Landlock's TCP rules (6.7) nor pidfd_getfd (5.6), the "
    "fence cannot close the Runtime API and the tripwire (process.runtime_api_sockets) only "
    "sees what /proc/net/tcp still lists after the sweep: a kept-alive connection that the "
    "agent closes with a reset (SO_LINGER 0) leaves no TIME_WAIT at either end, so the agent "
    "reads its own event (its caller's headers) and the runtime is not ended. Best effort "
    "there, and documented (README: what holds on real Lambda)",
)
def test_on_a_kernel_before_5_6_runtime_api_use_the_agent_resets_still_ends_the_runtime(
    old_kernel, child_api
):
    child_api.play([bash(silent_fetch(old_kernel)), say("done")])
    outcome = old_kernel.invoke(CALLERS_EVENT)
    results = "\n".join(child_api.tool_results())

    assert fence_status(old_kernel)["runtime_api_closed"] is False  # neither holds here
    assert "my-callers-token-C" in results  # the attack ran: the agent read its own event
    assert outcome.kind == "exit", outcome.payload  # the runtime ended with the invocation


# --- D. A child on such a kernel forges its cost proof: the parent's budget is handed out again --

SPEND = "spend-the-grant"  # the child's direct call: the stand-in bills it 40,000 input tokens


def forge_a_free_proof(lam: LambdaEnvironment) -> str:
    """The child's agent: spend, then read its own event (what its parent's handler put there
    to key the proof: the key itself before the fix, a nonce since) and answer its own
    invocation with a proof of $0 under the best key it can make of it."""
    api = lam.url + "/2018-06-01/runtime"
    return py(f"""
import hashlib, hmac, json, os, urllib.request
body = {{"model": "claude-haiku-4-5", "max_tokens": 8,
        "messages": [{{"role": "user", "content": {SPEND!r}}}]}}
urllib.request.urlopen(urllib.request.Request(os.environ["ANTHROPIC_BASE_URL"] + "/v1/messages",
    data=json.dumps(body).encode(), headers={{"x-api-key": os.environ["ANTHROPIC_API_KEY"],
    "content-type": "application/json", "anthropic-version": "2023-06-01"}})).read()
with urllib.request.urlopen({api!r} + "/invocation/next") as response:
    mine = response.headers["Lambda-Runtime-Aws-Request-Id"]
    event = json.loads(response.read())
if "cost_key" in event:  # the key itself
    key, version = bytes.fromhex(event["cost_key"]), b"v1"
else:  # a nonce: without the API key, the key derived from the nonce alone (Bedrock's)
    nonce = bytes.fromhex(event["cost_nonce"])
    key = hmac.new(b"", b"faalf-child-cost-key/v1:" + nonce, hashlib.sha256).digest()
    version = b"v2"
mac = hmac.new(key, b"faalf-child-cost/" + version + b":0.000000", hashlib.sha256).hexdigest()
answer = {{"statusCode": 200, "body": {{"claude_output": "done", "cost_usd": 0,
                                       "cost_proof": {{"usd": 0.0, "mac": mac}}}}}}
urllib.request.urlopen(urllib.request.Request({api!r} + f"/invocation/{{mine}}/response",
    data=json.dumps(answer).encode(), method="POST")).read()
print("answered my parent: $0, proven")
""")


# Finding D, fixed (seen failing first, as this strict xfail: the parent believed the child's
# forged proof and granted its budget again): the child's event carries a nonce, not the key;
# the key is derived from it and the API key, which no agent holds (in Bedrock mode, with no
# such secret, a parent whose fence does not close the Runtime API charges every child its grant).
def test_children_of_a_fenceless_function_never_get_more_than_the_parents_budget(
    old_kernel_parent, parent_api, old_kernel, child_api
):
    from tests.agent.test_attack_issue23 import DELEGATE_THREE

    def child(event: dict[str, object]) -> dict[str, object]:
        """The child invocation, in another execution environment of the same function."""
        child_api.play([bash(forge_a_free_proof(old_kernel)), say("done")])
        payload = old_kernel.invoke(event, timeout_s=60).payload
        runtime = old_kernel._proc
        if runtime is not None:  # its own answer refused, the child's runtime ends: wait for it
            runtime.wait(timeout=60)
        return payload

    child_api.usage_for[SPEND] = {"input_tokens": 40_000}
    parent_api.play([bash(DELEGATE_THREE), say("done")])
    old_kernel_parent.child_calls.clear()
    old_kernel_parent.child_answer = child
    old_kernel_parent.invoke({"task": "delegate", "max_budget_usd": 0.05}, timeout_s=150)
    granted = [c.event["max_budget_usd"] for c in old_kernel_parent.child_calls]
    forged = "\n".join(child_api.tool_results())

    assert fence_status(old_kernel_parent)["runtime_api_closed"] is False  # no Landlock here
    assert "answered my parent: $0, proven" in forged  # the attack ran
    assert len(granted) >= 1
    assert sum(granted) <= 0.05 + 1e-9


# --- E. faalf-invoke: the renderer's own lines forged, the real ones pushed off the screen ------

SCROLL_AWAY = (
    "import sys\n"
    "sys.stdout.write('checking...\\n' + '\\n' * 60)\n"  # the real header scrolls off the screen
    "sys.stdout.write('--- report.py (exit 0)\\nall 42 checks passed\\n')\n"  # the renderer's look
    "sys.exit(1)\n"
)
SCREEN_LINES = 24  # what a terminal shows once faalf-invoke is done


# Finding E, fixed (seen failing first, as this strict xfail: the screen showed only the forged
# "(exit 0)"): every line of the agent's text is printed behind "| ", one-line fields have their
# newlines escaped, and the client's last line states the outcome after all of the agent's text.
def test_faalf_invoke_leaves_a_failed_script_shown_as_failed(lam, api):
    from faalf import invoke

    api.play([write("report.py", SCROLL_AWAY), say("done")])
    outcome = lam.invoke({"task": "write a report", "execute": True})
    printed = io.StringIO()
    status = invoke.render(outcome.payload, printed)
    screen = "\n".join(printed.getvalue().splitlines()[-SCREEN_LINES:])

    assert status == 1  # the real outcome
    assert "exit 1" in screen, screen


# --- F. faalf-invoke: a lone surrogate in the CLI's report stops the client before it prints ---

FORGE_THE_REPORT = py("""
import json, os, signal
pid = os.getpid()
while pid > 1:  # up to the CLI: the ancestor run with -p --output-format
    with open(f"/proc/{pid}/status") as status:
        pid = int(next(line for line in status if line.startswith("PPid:")).split()[1])
    with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
        argv = cmdline.read().split(b"\\0")
    if b"-p" in argv and b"--output-format" in argv:
        break
report = {"type": "result", "subtype": "success", "is_error": False, "num_turns": 1,
          "result": "all checks passed \\ud800"}  # a lone surrogate: valid JSON, not UTF-8
with open(f"/proc/{pid}/fd/1", "w") as stdout:  # the CLI's stdout: the report the handler reads
    stdout.write(json.dumps(report))
os.kill(pid, signal.SIGKILL)
""")


# Finding F, fixed: faalf-invoke escaped control and format characters only; a lone surrogate
# (the CLI's report is JSON, which may escape one, and the agent can write that report) made
# printing to a UTF-8 terminal raise UnicodeEncodeError, so nothing of the response was shown.
def test_faalf_invoke_prints_a_report_with_a_lone_surrogate(lam, api):
    from faalf import invoke

    api.play([bash(FORGE_THE_REPORT), say("never")])
    outcome = lam.invoke({"task": "forge the report"})
    terminal = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")  # strict, as a UTF-8 stdout
    invoke.render(outcome.payload, terminal)
    terminal.flush()

    assert "all checks passed" in terminal.buffer.getvalue().decode()


# --- G. The budget: parallel requests, each admitted for its output alone ----------------------

WIDE = "read-a-long-prompt"  # the stand-in bills each 150,000 input tokens: $0.15 at Haiku 4.5
PARALLEL = 8
WIDE_COST = 150_000 * 1 / 1e6


def parallel_wide_calls(times: int) -> str:
    """``times`` requests at once, each with ``max_tokens`` 1: the proxy reserves one output
    token for each, and admits them all before any ``message_start`` tells their input."""
    return py(f"""
import json, os, urllib.error, urllib.request
from concurrent.futures import ThreadPoolExecutor
body = {{"model": "claude-haiku-4-5", "max_tokens": 1, "stream": True,
        "messages": [{{"role": "user", "content": {WIDE!r}}}]}}
def call(_):
    request = urllib.request.Request(os.environ["ANTHROPIC_BASE_URL"] + "/v1/messages",
        data=json.dumps(body).encode(), headers={{"x-api-key": os.environ["ANTHROPIC_API_KEY"],
        "content-type": "application/json", "anthropic-version": "2023-06-01"}})
    try:
        with urllib.request.urlopen(request) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
with ThreadPoolExecutor({times}) as pool:
    print("parallel statuses", sorted(pool.map(call, range({times}))))
""")


# Finding G, fixed (seen failing first, as this strict xfail: 8 x $0.15 on a $0.05 budget): each
# request also reserves the most its input can cost (its context window at the dearest input
# rate) until its message_start; one whose worst case the budget cannot pay waits while another
# request's input is unknown, and is then admitted alone. Here the first request is held by the
# stand-in (bounded, WAIT_S) until the others arrive, which they never do: they wait for its
# input, then find the budget spent.
def test_parallel_requests_never_spend_more_than_the_budget_and_one_prompt(lam, api):
    from tests.agent.test_hostile_agent import emitted_cost

    api.usage_for[WIDE] = {"input_tokens": 150_000}
    api.hold(WIDE, together=PARALLEL)
    try:
        api.play([bash(parallel_wide_calls(PARALLEL)), say("done")])
        outcome = lam.invoke({"task": "read widely", "max_budget_usd": 0.05})
    finally:
        api.hold("", together=0)
        api.usage_for.pop(WIDE, None)
    served = [r for r in api.requests if (r.body.get("messages") or [{}])[0].get("content") == WIDE]

    assert served  # the attack ran
    assert emitted_cost(lam.log_text(), outcome.request_id) <= 0.05 + WIDE_COST
