"""A Lambda execution environment for the hostile-agent tests: a warm handler, as a non-root user.

What Lambda does, played on loopback: the handler runs in a runtime process of its own
(``runtime_client.py``, the image's interpreter, a uid of its own) that pulls events from a
Runtime API served here, stays warm across invocations, and, when it exits, is replaced by a
fresh one for the next invocation after every process of its user has been killed (Lambda
resets the environment; ``/tmp`` is left as it is, as Lambda may). The same server answers the
Lambda Invoke API for the handler's child invocations, recording them.

The agent runs as that uid too, so what it can reach here is what it can reach in Lambda: its
own user's processes and files, loopback, and nothing of the test process (root).
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import json
import os
import queue
import random
import re
import select
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from faalf.loopback import LoopbackServer
from tests.agent.servers import ROOT, build_dir, build_lock, readable_by_all

SYSTEM_PYTHON = Path("/usr/bin/python3.11")
REQUIREMENTS = ROOT / "agent_image" / "requirements.txt"
LAMBDA_MAX_RESPONSE = 6 * 1024 * 1024  # a synchronous invocation's response, as Lambda counts it
CHILD_RESPONSE = {"statusCode": 200, "body": {"claude_output": "child done", "cost_usd": 0.05}}


@dataclass(frozen=True)
class SandboxBuild:
    """What the function's uid executes, where it can reach it (see ``servers.build_dir``).

    ``python``: the handler's interpreter with the image's requirements (the test interpreter
    lives under /root, which other users cannot read; Debian's python3.11 can be run by
    anyone, so the requirements go into a venv made from it). ``source``: this session's copy of
    ``agent_image`` and of the runtime loop, since the clone itself may be private.
    """

    python: Path
    source: Path

    @property
    def runtime_client(self) -> Path:
        return self.source / "runtime_client.py"


@functools.cache
def sandbox_build() -> SandboxBuild:
    """Built once per session; the source copy is removed when the session ends."""
    return SandboxBuild(image_python(), _source_copy())


def image_python() -> Path:
    """The venv, rebuilt when ``agent_image/requirements.txt`` changes (keyed by its hash)."""
    digest = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()[:16]
    venv = build_dir() / f"agent-venv-{digest}"
    python = venv / "bin" / "python"
    with build_lock("agent-venv"):
        if (venv / ".installed").exists():
            return python
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([str(SYSTEM_PYTHON), "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
             "-r", str(REQUIREMENTS)],
            check=True,
        )  # fmt: skip
        readable_by_all(venv)
        (venv / ".installed").touch()
    return python


def _source_copy() -> Path:
    sources = build_dir() / "sources"
    sources.mkdir(mode=0o755, exist_ok=True)
    copy = Path(tempfile.mkdtemp(prefix="session-", dir=sources))
    shutil.copytree(
        ROOT / "agent_image", copy, dirs_exist_ok=True,
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )  # fmt: skip
    shutil.copyfile(Path(__file__).with_name("runtime_client.py"), copy / "runtime_client.py")
    readable_by_all(copy)
    atexit.register(shutil.rmtree, copy, ignore_errors=True)
    return copy


def free_uid() -> int:
    """A uid no process uses: the test's agent user, so killing its processes hits nothing else."""
    used = set()
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                used.add(entry.stat().st_uid)
            except OSError:
                continue
    while (uid := random.randrange(200_000, 300_000)) in used:
        pass
    return uid


def kill_user(uid: int) -> None:
    """Every process of ``uid``, at once: ``kill -9 -1`` run as that user spares only itself."""
    subprocess.run(
        ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "kill", "-9", "-1"],
        check=False,
        capture_output=True,
    )


def user_pids(uid: int, *, zombies: bool = False) -> set[int]:
    """Live processes (or, with ``zombies``, dead unreaped ones) whose real or effective uid is
    ``uid``."""
    found = set()
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            status = Path(f"/proc/{entry.name}/status").read_text()
        except OSError:
            continue
        uids = re.search(r"^Uid:\s+(\d+)\s+(\d+)", status, re.M)
        state = re.search(r"^State:\s+(\S)", status, re.M)
        if uids and uid in (int(uids[1]), int(uids[2])) and state and (state[1] == "Z") == zombies:
            found.add(int(entry.name))
    return found


def has_live_thread(pid: int) -> bool:
    try:
        stats = [p.read_text() for p in Path(f"/proc/{pid}/task").glob("*/stat")]
    except OSError:
        return False
    return any(stat.rsplit(")", 1)[1].split()[0] != "Z" for stat in stats)


class RuntimeLog:
    """A runtime's stdout and stderr, as Lambda takes them: one pipe, copied to ``path``.

    The pipe is owned by the agent's user: the worst case for the log stream (whether Lambda's
    is, is not known here), so that only the handler's own defences keep the agent from
    writing to it. Everything is read under a lock, so ``text()`` holds all that was written
    to the pipe before it was called.
    """

    def __init__(self, path: Path, uid: int) -> None:
        self.path = path
        self._read_end, self.write_end = os.pipe()
        os.fchown(self.write_end, uid, uid)
        os.set_blocking(self._read_end, False)
        self._lock = threading.Lock()
        self._eof = False
        self._copy = path.open("wb")

    def started(self) -> None:
        """The runtime holds the write end now: ours is closed, so its exit ends the stream."""
        os.close(self.write_end)
        threading.Thread(target=self._follow, daemon=True).start()

    def text(self) -> str:
        with self._lock:
            self._drain()
        return self.path.read_text(errors="replace")

    def _follow(self) -> None:
        while not self._eof:
            select.select([self._read_end], [], [])
            with self._lock:
                self._drain()
        os.close(self._read_end)

    def _drain(self) -> None:
        while not self._eof:
            try:
                data = os.read(self._read_end, 1 << 16)
            except BlockingIOError:
                return
            if not data:
                self._eof = True
                self._copy.close()
                return
            self._copy.write(data)
            self._copy.flush()


@dataclass
class Invocation:
    request_id: str
    event: object
    deadline_ms: int
    done: threading.Event = field(default_factory=threading.Event)
    outcome: str = ""  # "response", "error" or "exit" (the runtime died during it)
    payload: Any = None


@dataclass(frozen=True)
class Outcome:
    kind: str
    payload: Any
    runtime_pid: int
    request_id: str

    @property
    def body(self) -> dict[str, Any]:
        assert self.kind == "response", (self.kind, self.payload)
        return self.payload["body"]


@dataclass
class ChildCall:
    function: str
    event: dict[str, Any]
    authorization: str


class LambdaEnvironment:
    """``invoke(event)`` runs the event in the warm runtime, starting a fresh one if needed."""

    def __init__(self, env: Mapping[str, str], uid: int, work_root: Path, logs: Path) -> None:
        self.uid = uid
        self.work_root = work_root
        self.logs = logs
        self.env = dict(env)
        self.starts = 0
        self.child_calls: list[ChildCall] = []
        self.child_response: dict[str, Any] = dict(CHILD_RESPONSE)
        # Set: children answer as an honest child handler does, proving this cost with the key
        # derived from the nonce their event carries and the API key (``children.cost_proof``).
        self.child_proven_cost: float | None = None
        self._pending: queue.Queue[Invocation] = queue.Queue()
        self._inflight: dict[str, Invocation] = {}
        # What the Runtime API handed out last, and whether it was answered (see ``_handler``).
        self._current: Invocation | None = None
        self._answered = True
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._http = LoopbackServer(self._handler())
        # Lambda's Invoke API is not the Runtime API: another port, as in Lambda another host
        # (the handler's own child invocations must not look like a use of the Runtime API).
        self._invoke_http = LoopbackServer(self._handler())
        self.build = sandbox_build()
        self._runtime_logs: list[RuntimeLog] = []

    @property
    def url(self) -> str:
        return self._http.url

    @property
    def runtime_pid(self) -> int | None:
        return self._proc.pid if self._proc is not None and self._proc.poll() is None else None

    def log_text(self) -> str:
        """Everything the runtimes wrote to their log streams so far, in start order."""
        return "".join(log.text() for log in self._runtime_logs)

    def invoke(self, event: object, *, timeout_s: float = 90) -> Outcome:
        proc = self._ensure_runtime()
        inv = Invocation(
            f"req-{uuid.uuid4().hex[:12]}", event, int((time.time() + timeout_s) * 1000)
        )
        with self._lock:
            self._inflight[inv.request_id] = inv
        self._pending.put(inv)
        if not inv.done.wait(timeout_s + 30):
            raise TimeoutError(f"invocation {inv.request_id} got no answer")
        return Outcome(inv.outcome, inv.payload, proc.pid, inv.request_id)

    def _ensure_runtime(self) -> subprocess.Popen[bytes]:
        if self._proc is not None and self._proc.poll() is None:
            return self._proc
        kill_user(self.uid)  # Lambda's reset: nothing of the old environment keeps running
        self.starts += 1
        # A fresh queue: a dead runtime's pending "next" request must not take the next event.
        self._pending = queue.Queue()
        self._current, self._answered = None, True
        env = self.env | {
            "AWS_LAMBDA_RUNTIME_API": self.url.removeprefix("http://"),
            "AWS_ENDPOINT_URL_LAMBDA": self._invoke_http.url,
        }
        log = RuntimeLog(self.logs / f"runtime-{self.starts:03d}.log", self.uid)
        proc = subprocess.Popen(
            [str(self.build.python), str(self.build.runtime_client)],
            env=env,
            cwd="/",
            stdin=subprocess.DEVNULL,
            stdout=log.write_end,
            stderr=log.write_end,
            user=self.uid,
            group=self.uid,
            extra_groups=[],
        )
        log.started()
        self._runtime_logs.append(log)
        self._proc = proc
        threading.Thread(target=self._watch, args=(proc,), daemon=True).start()
        return proc

    def _watch(self, proc: subprocess.Popen[bytes]) -> None:
        """When the runtime dies, the invocation it held ends as Lambda's Runtime.ExitError."""
        proc.wait()
        with self._lock:
            held = list(self._inflight.values())
            self._inflight.clear()
        for inv in held:
            inv.outcome, inv.payload = "exit", {"errorType": "Runtime.ExitError"}
            inv.done.set()

    def _finish(self, request_id: str, outcome: str, payload: Any) -> None:
        with self._lock:
            inv = self._inflight.pop(request_id, None)
        if inv is not None:
            inv.outcome, inv.payload = outcome, payload
            inv.done.set()

    def child_answer(self, event: dict[str, Any]) -> dict[str, Any]:
        """What the child function answers its parent's handler."""
        if self.child_proven_cost is None:
            return self.child_response
        from faalf import children
        from tests.agent.conftest import API_KEY

        key = children.cost_key(bytes.fromhex(event["cost_nonce"]), API_KEY)
        proof = children.cost_proof(key, self.child_proven_cost)
        return {"statusCode": 200, "body": {"claude_output": "child done",
                                            "cost_usd": self.child_proven_cost,
                                            "cost_proof": proof}}  # fmt: skip

    def strangers(self) -> set[int]:
        """The agent user's live processes other than the runtime itself, including those /proc
        shows as zombies while some of their threads still run."""
        hidden = {pid for pid in user_pids(self.uid, zombies=True) if has_live_thread(pid)}
        return (user_pids(self.uid) | hidden) - {self.runtime_pid or 0}

    def zombies(self) -> set[int]:
        """Unreaped dead processes of the agent user that the runtime (their parent) owes a wait."""
        ppid = re.compile(r"^PPid:\s+(\d+)", re.M)
        found = set()
        for pid in user_pids(self.uid, zombies=True):
            try:
                match = ppid.search(Path(f"/proc/{pid}/status").read_text())
            except OSError:
                continue
            if match and int(match[1]) == self.runtime_pid:
                found.add(pid)
        return found

    def plant_file(self, name: str, text: str = "left behind") -> Path:
        """What a survivor the cleanup missed would leave: a file of the agent user's."""
        path = self.work_root / name
        path.write_text(text)
        os.chown(path, self.uid, self.uid)
        return path

    def plant_process(self) -> None:
        """What the cleanup might miss: a background process of the agent user, orphaned."""
        subprocess.run(
            ["setpriv", f"--reuid={self.uid}", f"--regid={self.uid}", "--clear-groups",
             "sh", "-c", "sleep 300 >/dev/null 2>&1 &"],
            check=True,
        )  # fmt: skip

    def reconfigure(self, **changes: str | None) -> None:
        """A configuration change: Lambda starts new environments with the new variables."""
        for name, value in changes.items():
            if value is None:
                self.env.pop(name, None)
            else:
                self.env[name] = value
        self.stop()

    def stop(self) -> None:
        if self._proc is not None:
            kill_user(self.uid)
            self._proc.wait()

    def close(self) -> None:
        self.stop()
        self._http.close()
        self._invoke_http.close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        service = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                """Quiet."""

            def _send(self, status: int, payload: object, headers: dict[str, str]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                """As Lambda's Runtime API (rapid, which the runtime interface emulator is built
                from) serves it: while an invocation is unanswered, ``next`` hands out its event
                again, to whoever asks; once answered, it waits for the next one."""
                if self.path != "/2018-06-01/runtime/invocation/next":
                    self._send(404, {}, {})
                    return
                with service._lock:
                    inv = None if service._answered else service._current
                if inv is None:
                    inv = service._pending.get()  # the queue of the runtime that asked
                    with service._lock:
                        service._current, service._answered = inv, False
                self._send(200, inv.event, {
                    "Lambda-Runtime-Aws-Request-Id": inv.request_id,
                    "Lambda-Runtime-Deadline-Ms": str(inv.deadline_ms),
                })  # fmt: skip

            def _accept(self, request_id: str) -> bool:
                """As rapid: a result for another id is a 400, a second result a 403."""
                with service._lock:
                    current, answered = service._current, service._answered
                    if current is not None and current.request_id == request_id and not answered:
                        service._answered = True
                        return True
                if current is None or current.request_id != request_id:
                    self._send(400, {"errorType": "InvalidRequestID",
                                     "errorMessage": "Invalid request ID"}, {})  # fmt: skip
                else:
                    self._send(403, {"errorType": "InvalidStateTransition",
                                     "errorMessage": "the invocation was answered already"}, {})  # fmt: skip
                return False

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                result = re.fullmatch(r"/2018-06-01/runtime/invocation/([^/]+)/(response|error)",
                                      self.path)  # fmt: skip
                invoke = re.fullmatch(r"/2015-03-31/functions/([^/]+)/invocations", self.path)
                if result and not self._accept(result[1]):
                    return
                if result and len(body) > LAMBDA_MAX_RESPONSE:
                    # What Lambda does with it: the caller gets an error, not the response.
                    service._finish(result[1], "error", {"errorType": "ResponseSizeTooLarge",
                                                         "size": len(body)})  # fmt: skip
                    self._send(202, {}, {})
                elif result:
                    service._finish(result[1], result[2], json.loads(body))
                    self._send(202, {}, {})
                elif invoke:
                    event = json.loads(body)
                    service.child_calls.append(ChildCall(
                        invoke[1], event, self.headers.get("authorization", "")))  # fmt: skip
                    self._send(200, service.child_answer(event), {})
                else:
                    self._send(404, {}, {})

        return Handler

    def __enter__(self) -> LambdaEnvironment:
        self._http.start()
        self._invoke_http.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextmanager
def lambda_environment(env: Mapping[str, str], logs: Path) -> Iterator[LambdaEnvironment]:
    """A work root that plays Lambda's ``/tmp`` (owned by the agent's uid), and the service."""
    uid = free_uid()
    work_root = Path(tempfile.mkdtemp(prefix="faalf-lambda-tmp-"))
    os.chown(work_root, uid, uid)
    try:
        with LambdaEnvironment(dict(env) | {"FAALF_WORK_ROOT": str(work_root)}, uid, work_root,
                               logs) as service:  # fmt: skip
            yield service
    finally:
        kill_user(uid)
        subprocess.run(["rm", "-rf", str(work_root)], check=False)
