"""The connect supervisor (``faalf/supervisor.py``): the Runtime API closed without Landlock.

Each test runs a fence in a process of its own whose Landlock calls fail (ENOSYS, as on a kernel
without them), so the fence falls back to the supervisor; a stand-in Runtime API counts the
connections it accepts, and a process started inside the fence tries to reach it.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.agent.servers import ROOT

AGENT_IMAGE = ROOT / "agent_image"

# Landlock's calls fail (ENOSYS), as on Lambda's older kernels, then the fence is built and
# ``AGENT`` runs inside it; what it prints, and the fence's status, come back as JSON lines.
FENCED = """
import ctypes, errno, json, subprocess, sys
from faalf import fence
libc = ctypes.CDLL(None, use_errno=True)
assert libc.prctl(fence.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0
program = [(fence.LD_ABS_W, 0, 0, fence.NR_OFFSET)]
for number in (fence.SYS_LANDLOCK_CREATE_RULESET, fence.SYS_LANDLOCK_ADD_RULE,
               fence.SYS_LANDLOCK_RESTRICT_SELF) + tuple(int(n) for n in sys.argv[3:]):
    program += [(fence.JEQ_K, 0, 1, number),
                (fence.RET_K, 0, 0, fence.SECCOMP_RET_ERRNO | errno.ENOSYS)]
program.append((fence.RET_K, 0, 0, fence.SECCOMP_RET_ALLOW))
assert fence._install_seccomp(libc, program)
the_fence = fence.Fence(sys.argv[1])
print(json.dumps(the_fence.status().as_log()), flush=True)
agent = the_fence.spawn(lambda: subprocess.Popen([sys.executable, "-c", sys.argv[2]]))
agent.wait(timeout=60)
print(json.dumps({"refused": the_fence.refused_connects()}), flush=True)
"""


class CountingServer:
    """A TCP listener on loopback that accepts, counts and closes every connection."""

    def __init__(self, family: socket.AddressFamily = socket.AF_INET) -> None:
        self.sock = socket.create_server(("::" if family == socket.AF_INET6 else "127.0.0.1", 0),
                                         family=family, dualstack_ipv6=family == socket.AF_INET6)  # fmt: skip
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            conn.sendall(b"hello")
            conn.close()

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def runtime_api() -> Iterator[CountingServer]:
    server = CountingServer(socket.AF_INET6)  # both ::1 and 127.0.0.1
    yield server
    server.close()


@pytest.fixture
def other() -> Iterator[CountingServer]:
    server = CountingServer()
    yield server
    server.close()


def fenced(api: CountingServer, agent: str, *enosys: int) -> tuple[dict[str, object], list[str]]:
    """Run ``agent`` inside a supervised fence; (the fence's status, the agent's lines)."""
    done = subprocess.run(
        [sys.executable, "-c", FENCED, f"127.0.0.1:{api.port}", textwrap.dedent(agent),
         *map(str, enosys)],
        env={"PYTHONPATH": str(AGENT_IMAGE), "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    status, *lines = done.stdout.splitlines()
    return json.loads(status), lines


def test_without_landlock_the_supervisor_closes_the_runtime_api(runtime_api, other):
    agent = f"""
    import socket
    for host in ("127.0.0.1", "::1", "::ffff:127.0.0.1", "0.0.0.0"):
        try:
            socket.create_connection((host, {runtime_api.port}), timeout=5).close()
            print("reached the api via", host)
        except OSError as exc:
            print("refused", host, exc.errno)
    with socket.create_connection(("127.0.0.1", {other.port}), timeout=5) as conn:
        print("other says", conn.recv(5).decode())
    """
    status, lines = fenced(runtime_api, agent)

    assert status["supervisor"] is True
    assert status["runtime_api_closed"] is True
    assert [line for line in lines if "reached" in line] == []
    assert runtime_api.accepted == 0
    assert "other says hello" in lines
    assert json.loads(lines[-1]) == {"refused": 4}


def test_a_thread_that_rewrites_the_address_during_the_check_never_reaches_the_api(
    runtime_api, other
):
    """The classic race of a seccomp supervisor: the address is checked, then changed by
    another thread before the kernel reads it again. The supervisor connects with its own copy,
    so the change never counts."""
    agent = f"""
    import ctypes, socket, struct, threading, time
    libc = ctypes.CDLL(None, use_errno=True)
    address = ctypes.create_string_buffer(16)
    allowed = struct.pack("!HH4s8x", 0, {other.port}, socket.inet_aton("127.0.0.1"))
    allowed = struct.pack("=H", socket.AF_INET) + allowed[2:]
    api = allowed[:2] + struct.pack("!H", {runtime_api.port}) + allowed[4:]
    stop = time.monotonic() + 3
    def flip():
        while time.monotonic() < stop:
            ctypes.memmove(address, allowed, 16)
            ctypes.memmove(address, api, 16)
    threading.Thread(target=flip).start()
    tries = 0
    while time.monotonic() < stop:
        sock = socket.socket()
        libc.connect(sock.fileno(), address, 16)
        sock.close()
        tries += 1
    print("tries", tries)
    """
    _, lines = fenced(runtime_api, agent)

    assert int(lines[0].split()[1]) > 10  # the race ran
    assert runtime_api.accepted == 0
    assert other.accepted > 0  # connects to elsewhere went through meanwhile


def test_connects_that_are_not_to_the_api_behave_as_without_the_supervisor(
    runtime_api, other, tmp_path: Path
):
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(tmp_path / "unix.sock"))
    server.listen()
    agent = f"""
    import errno, os, select, socket
    os.chdir({str(tmp_path)!r})
    unix = socket.socket(socket.AF_UNIX)
    unix.connect("unix.sock")  # relative: from the agent's directory, not the handler's
    print("unix connected")
    quick = socket.socket()
    quick.setblocking(False)
    print("nonblocking", quick.connect_ex(("127.0.0.1", {other.port})) in (0, errno.EINPROGRESS))
    select.select([], [quick], [], 5)
    print("so_error", quick.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR))
    nobody = socket.socket()
    print("closed port", nobody.connect_ex(("127.0.0.1", 1)) == errno.ECONNREFUSED)
    try:
        socket.socket().connect(("127.0.0.1", {runtime_api.port} + 0))
    except PermissionError:
        print("api refused")
    print("not a socket", os.system("true") == 0 and
          __import__("ctypes").CDLL(None, use_errno=True).connect(0, b"x" * 16, 16) == -1)
    """
    try:
        _, lines = fenced(runtime_api, agent)
    finally:
        server.close()

    assert lines[:5] == ["unix connected", "nonblocking True", "so_error 0", "closed port True",
                         "api refused"]  # fmt: skip


def test_where_the_kernel_has_no_pidfd_getfd_there_is_no_supervisor(runtime_api):
    """Linux before 5.6: the fence is built without it and says so (the tripwire stays)."""
    status, _ = fenced(runtime_api, "pass", 438)  # pidfd_getfd: ENOSYS

    assert (status["supervisor"], status["runtime_api_closed"]) == (False, False)
    assert "pidfd_getfd" in str(status["why"])


def test_the_supervisors_listener_is_not_inherited(runtime_api):
    agent = """
    import os
    print(sorted(int(fd) for fd in os.listdir("/proc/self/fd")))
    """
    _, lines = fenced(runtime_api, agent)

    assert json.loads(lines[0]) == [0, 1, 2, 3]  # stdio, and listdir's own descriptor


def test_the_fence_with_landlock_needs_no_supervisor():
    done = subprocess.run(
        [sys.executable, "-c", "from faalf.fence import Fence; import json; "
         "print(json.dumps(Fence('127.0.0.1:9').status().as_log()))"],
        env={"PYTHONPATH": str(AGENT_IMAGE), "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    status = json.loads(done.stdout)
    if status["landlock_abi"] < 4:
        pytest.skip("this kernel has no Landlock TCP rules")

    assert (status["supervisor"], status["runtime_api_closed"]) == (False, True)


if os.uname().sysname != "Linux":  # pragma: no cover
    pytestmark = pytest.mark.skip(reason="Linux only")
