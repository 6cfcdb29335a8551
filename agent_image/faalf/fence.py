"""The fence: what the kernel refuses every process of the agent, set up once per runtime.

The agent runs as the handler's own user, so nothing that protects the handler or the next
caller can rest on file permissions or uids. Three kernel mechanisms can still be applied by an
unprivileged process to itself, irrevocably, and are inherited by everything it starts:

- ``no_new_privs`` (``prctl``), which the other two need without ``CAP_SYS_ADMIN``;
- a seccomp filter: classic BPF over the syscall number and its register arguments (it cannot
  read memory, so it cannot see the address a ``connect`` goes to);
- a Landlock domain: TCP ``connect`` by destination port from ABI 4 (Linux 6.7).

All three are per thread (a thread's credentials and seccomp filters are its own), and a new
process takes those of the thread that forked it. So one thread of the handler, the
*launcher*, fences itself once per runtime and starts every agent process (the CLI, the
scripts); the handler's other threads (the main one, which talks to the Runtime API, and the
proxy's) are not fenced. Building the fence costs about 0.1 s once (65,534 Landlock port
rules); an invocation pays nothing for it.

What the fence refuses the agent:

- **the Lambda Runtime API**: ``connect`` to its port (``AWS_LAMBDA_RUNTIME_API``, 9001 in
  Lambda) on any address (Landlock; without Landlock's TCP rules, the connect supervisor of
  ``supervisor.py``, to which the seccomp filter then hands every ``connect``: Linux 5.6+); the
  ways around a TCP ``connect`` check: MPTCP and SMC sockets (both fall back to TCP, and
  Landlock does not treat them as TCP), TCP Fast Open (``sendto``/``sendmsg`` with
  ``MSG_FASTOPEN`` connects without ``connect``), and io_uring (whose operations seccomp never
  sees);
- **other processes' limits and scheduling**: ``prlimit64``, ``sched_setaffinity``,
  ``sched_setscheduler``, ``sched_setparam``, ``sched_setattr`` on any pid but 0 (itself),
  ``setpriority`` and ``ioprio_set`` on anything but the calling process: same-uid targets,
  the handler included, are otherwise allowed despite its non-dumpable flag;
- **kernel objects of the user rather than of a process**: POSIX message queues, keyrings
  (``add_key``, ``request_key``, ``keyctl``) and System V IPC objects (``shmget``, ``msgget``,
  ``semget``) outlive every process and file of an invocation.

Where the kernel lacks a part (Landlock below ABI 4 and no ``pidfd_getfd`` for the supervisor,
seccomp refused by the platform), the rest still holds and ``status()`` says what is missing;
the handler logs it and keeps its other defences (see the README's threat model).
"""

from __future__ import annotations

import ctypes
import errno
import functools
import os
import platform
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from faalf import supervisor

T = TypeVar("T")

PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
SECCOMP_RET_ALLOW = 0x7FFF0000
SECCOMP_RET_ERRNO = 0x00050000
LANDLOCK_CREATE_RULESET_VERSION = 1 << 0
LANDLOCK_ACCESS_NET_CONNECT_TCP = 1 << 1
LANDLOCK_RULE_NET_PORT = 2
LANDLOCK_NET_ABI = 4  # the first ABI with TCP rules
SYS_LANDLOCK_CREATE_RULESET, SYS_LANDLOCK_ADD_RULE, SYS_LANDLOCK_RESTRICT_SELF = 444, 445, 446
DEFAULT_RUNTIME_API = "127.0.0.1:9001"
MSG_FASTOPEN = 0x20000000
IPPROTO_MPTCP = 262
AF_SMC = 43
PRIO_PROCESS = 0
IOPRIO_WHO_PROCESS = 1
X32_SYSCALL_BIT = 0x40000000

# BPF opcodes (linux/filter.h) and the offsets of struct seccomp_data (little-endian).
LD_ABS_W, JEQ_K, JSET_K, JGE_K, RET_K = 0x20, 0x15, 0x45, 0x35, 0x06
NR_OFFSET, ARCH_OFFSET = 0, 4


def arg(index: int) -> int:
    """The offset of a syscall argument's low 32 bits: every argument checked here is an int
    (pid, flags, family, protocol), of which the kernel reads only those."""
    return 16 + 8 * index


@dataclass(frozen=True)
class Arch:
    audit: int  # AUDIT_ARCH_*: seccomp_data.arch of this ABI's syscalls
    numbers: dict[str, int]
    x32: bool = False  # x86_64 kernels also take x32 syscalls (number | X32_SYSCALL_BIT)


# The two architectures Lambda runs (linux/amd64, linux/arm64): asm/unistd_64.h and the
# generic asm-generic/unistd.h.
ARCHES = {
    "x86_64": Arch(0xC000003E, {
        "socket": 41, "connect": 42, "sendto": 44, "sendmsg": 46, "sendmmsg": 307, "shmget": 29,
        "semget": 64, "msgget": 68, "setpriority": 141, "sched_setparam": 142,
        "sched_setscheduler": 144, "sched_setaffinity": 203, "mq_open": 240, "mq_unlink": 241,
        "mq_timedsend": 242, "mq_timedreceive": 243, "mq_notify": 244, "mq_getsetattr": 245,
        "add_key": 248, "request_key": 249, "keyctl": 250, "ioprio_set": 251,
        "prlimit64": 302, "sched_setattr": 314, "io_uring_setup": 425, "io_uring_enter": 426,
        "io_uring_register": 427,
    }, x32=True),
    "aarch64": Arch(0xC00000B7, {
        "socket": 198, "connect": 203, "sendto": 206, "sendmsg": 211, "sendmmsg": 269,
        "shmget": 194, "semget": 190, "msgget": 186, "setpriority": 140, "sched_setparam": 118,
        "sched_setscheduler": 119, "sched_setaffinity": 122, "mq_open": 180, "mq_unlink": 181,
        "mq_timedsend": 182, "mq_timedreceive": 183, "mq_notify": 184, "mq_getsetattr": 185,
        "add_key": 217, "request_key": 218, "keyctl": 219, "ioprio_set": 30,
        "prlimit64": 261, "sched_setattr": 274, "io_uring_setup": 425, "io_uring_enter": 426,
        "io_uring_register": 427,
    }),
}  # fmt: skip

UNAVAILABLE = (
    "io_uring_setup", "io_uring_enter", "io_uring_register",
    "mq_open", "mq_unlink", "mq_timedsend", "mq_timedreceive", "mq_notify", "mq_getsetattr",
    "add_key", "request_key", "keyctl", "shmget", "msgget", "semget",
)  # fmt: skip
# (argument, value) pairs that must all hold, else EPERM: the call may target its caller only.
ONLY_ITSELF: dict[str, tuple[tuple[int, int], ...]] = {
    "prlimit64": ((0, 0),),
    "sched_setaffinity": ((0, 0),),
    "sched_setscheduler": ((0, 0),),
    "sched_setparam": ((0, 0),),
    "sched_setattr": ((0, 0),),
    "setpriority": ((0, PRIO_PROCESS), (1, 0)),
    "ioprio_set": ((0, IOPRIO_WHO_PROCESS), (1, 0)),
}
FASTOPEN_FLAGS_ARG = {"sendto": 3, "sendmsg": 2, "sendmmsg": 3}


class _Program:
    """A classic BPF program with forward jumps to labels, resolved by ``assemble``."""

    def __init__(self) -> None:
        self.code: list[tuple[int, int | str, int | str, int]] = []
        self.labels: dict[str, int] = {}

    def emit(self, code: int, k: int, jt: int | str = 0, jf: int | str = 0) -> None:
        self.code.append((code, jt, jf, k))

    def label(self, name: str) -> None:
        self.labels[name] = len(self.code)

    def assemble(self) -> list[tuple[int, int, int, int]]:
        def offset(at: int, target: int | str) -> int:
            jump = self.labels[target] - at - 1 if isinstance(target, str) else target
            if not 0 <= jump <= 255:
                raise ValueError(f"BPF jump of {jump} at {at}")
            return jump

        return [(c, offset(i, jt), offset(i, jf), k) for i, (c, jt, jf, k) in enumerate(self.code)]


def seccomp_program(arch: Arch, supervise_connect: bool = False) -> list[tuple[int, int, int, int]]:
    """The filter: each listed syscall refused (or checked), everything else allowed; with
    ``supervise_connect``, every ``connect`` handed to the supervisor (``supervisor.py``)."""
    p = _Program()
    p.emit(LD_ABS_W, ARCH_OFFSET)
    p.emit(JEQ_K, arch.audit, 1, 0)
    p.emit(RET_K, SECCOMP_RET_ERRNO | errno.ENOSYS)  # another ABI (i386 via int 0x80)
    p.emit(LD_ABS_W, NR_OFFSET)
    if arch.x32:
        p.emit(JGE_K, X32_SYSCALL_BIT, 0, 1)
        p.emit(RET_K, SECCOMP_RET_ERRNO | errno.ENOSYS)
    for name in UNAVAILABLE:
        p.emit(JEQ_K, arch.numbers[name], 0, 1)
        p.emit(RET_K, SECCOMP_RET_ERRNO | errno.ENOSYS)
    for block, (name, conditions) in enumerate(ONLY_ITSELF.items()):
        p.emit(JEQ_K, arch.numbers[name], 0, f"next{block}")
        for index, value in conditions:
            p.emit(LD_ABS_W, arg(index))
            p.emit(JEQ_K, value, 0, f"deny{block}")
        p.emit(RET_K, SECCOMP_RET_ALLOW)
        p.label(f"deny{block}")
        p.emit(RET_K, SECCOMP_RET_ERRNO | errno.EPERM)
        p.label(f"next{block}")
        p.emit(LD_ABS_W, NR_OFFSET)
    p.emit(JEQ_K, arch.numbers["socket"], 0, "sends")
    p.emit(LD_ABS_W, arg(0))
    p.emit(JEQ_K, AF_SMC, 0, 1)
    p.emit(RET_K, SECCOMP_RET_ERRNO | errno.EAFNOSUPPORT)
    p.emit(LD_ABS_W, arg(2))
    p.emit(JEQ_K, IPPROTO_MPTCP, 0, 1)
    p.emit(RET_K, SECCOMP_RET_ERRNO | errno.EPROTONOSUPPORT)
    p.emit(RET_K, SECCOMP_RET_ALLOW)
    p.label("sends")
    if supervise_connect:
        p.emit(JEQ_K, arch.numbers["connect"], 0, 1)
        p.emit(RET_K, supervisor.SECCOMP_RET_USER_NOTIF)
    for name, index in FASTOPEN_FLAGS_ARG.items():
        p.emit(JEQ_K, arch.numbers[name], 0, 4)
        p.emit(LD_ABS_W, arg(index))
        p.emit(JSET_K, MSG_FASTOPEN, 0, 1)
        p.emit(RET_K, SECCOMP_RET_ERRNO | errno.EOPNOTSUPP)
        p.emit(RET_K, SECCOMP_RET_ALLOW)
    p.emit(RET_K, SECCOMP_RET_ALLOW)
    return p.assemble()


class _SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte),
                ("k", ctypes.c_uint)]  # fmt: skip


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_SockFilter))]


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64)]


class _NetPortAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("port", ctypes.c_uint64)]


@dataclass(frozen=True)
class Status:
    """What the fence holds in this runtime (logged once, at its first invocation)."""

    runtime_api_port: int
    no_new_privs: bool = False
    seccomp: bool = False
    landlock_abi: int = 0  # 0: no Landlock
    landlock_net: bool = False  # the Runtime API port is closed to the agent by Landlock
    supervisor: bool = False  # ... or by the connect supervisor (no Landlock TCP rules)
    why: str = ""  # what failed, if anything

    @property
    def runtime_api_closed(self) -> bool:
        """Landlock or the supervisor closes the port; seccomp closes the ways around a connect
        check (and hands each connect to the supervisor)."""
        return self.seccomp and (self.landlock_net or self.supervisor)

    def as_log(self) -> dict[str, object]:
        return {
            "runtime_api_closed": self.runtime_api_closed, "seccomp": self.seccomp,
            "landlock_abi": self.landlock_abi, "supervisor": self.supervisor,
            "no_new_privs": self.no_new_privs, "why": self.why or None,
        }  # fmt: skip


def runtime_api_port(address: str | None = None) -> int:
    """The port of ``AWS_LAMBDA_RUNTIME_API`` (host:port), 9001 if unset or unreadable."""
    address = address or os.environ.get("AWS_LAMBDA_RUNTIME_API") or DEFAULT_RUNTIME_API
    _, _, port = address.rpartition(":")
    return int(port) if port.isdigit() and 0 < int(port) < 65536 else 9001


class Fence:
    """The launcher thread: fenced once, then starts every agent process."""

    def __init__(self, runtime_api: str | None = None) -> None:
        self._port = runtime_api_port(runtime_api)
        self._status = Status(self._port, why="not built yet")
        # Its thread starts here, on the thread creating the fence, never the fenced launcher:
        # it only serves if the launcher hands it a listener (no Landlock TCP rules).
        self._supervisor = supervisor.Supervisor(self._port)
        self._launcher = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="faalf-launcher", initializer=self._fence_thread
        )

    def status(self) -> Status:
        """Builds the fence on first use (the launcher thread starts with it)."""
        return self._launcher.submit(lambda: self._status).result()

    def refused_connects(self) -> int:
        """Connects to the Runtime API the supervisor refused so far (0 where it is not used)."""
        return self._supervisor.refused

    def spawn(self, start: Callable[[], T]) -> T:
        """``start()`` on the fenced thread: the processes it forks inherit the fence."""
        return self._launcher.submit(start).result()

    def _fence_thread(self) -> None:
        """Runs once, on the launcher thread; never raises (a raising initializer would break
        the executor): what could not be set is recorded in the status instead."""
        listener: list[int] = []
        try:
            self._status = self._build(listener)
        except Exception as exc:  # noqa: BLE001 - the status names it; the handler logs it
            self._status = Status(self._port, why=f"{type(exc).__name__}: {exc}")
        finally:
            self._supervisor.listen(listener[0] if listener else None)

    def _build(self, listener: list[int]) -> Status:
        """Fences the calling (launcher) thread; a supervisor's listener goes in ``listener``."""
        libc = ctypes.CDLL(None, use_errno=True)
        libc.syscall.restype = ctypes.c_long
        machine = platform.machine()
        arch = ARCHES.get(machine)
        if arch is None:
            return Status(self._port, why=f"no seccomp filter for {machine}")
        ruleset, abi, why = _landlock_ruleset(libc, self._port)
        if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            return Status(self._port, why=f"no_new_privs refused ({_err()})")
        supervised = False
        if ruleset < 0:  # no Landlock TCP rules: the supervisor closes the port, if it can run
            if not (unavailable := supervisor.unavailable(machine)):
                program = _fprog(seccomp_program(arch, supervise_connect=True))
                fd = supervisor.install(libc, ctypes.byref(program), machine)
                if fd >= 0:
                    listener.append(fd)
                    supervised = True
                else:
                    unavailable = f"seccomp user notification refused ({_err()})"
            if unavailable:
                why += f"; no connect supervisor: {unavailable}"
        seccomp = supervised or _install_seccomp(libc, seccomp_program(arch))
        if not seccomp:
            why = f"seccomp refused ({_err()}); " + why
        landlock_net = False
        if ruleset >= 0:
            landlock_net = libc.syscall(SYS_LANDLOCK_RESTRICT_SELF, ctypes.c_long(ruleset),
                                        ctypes.c_long(0)) == 0  # fmt: skip
            if not landlock_net:
                why += f"landlock_restrict_self refused ({_err()})"
            os.close(ruleset)
        return Status(self._port, True, seccomp, abi, landlock_net, supervised, why.strip("; "))


def _err() -> str:
    return errno.errorcode.get(ctypes.get_errno(), str(ctypes.get_errno()))


def _fprog(program: list[tuple[int, int, int, int]]) -> _SockFprog:
    filters = (_SockFilter * len(program))(*(_SockFilter(*insn) for insn in program))
    fprog = _SockFprog(len(program), filters)
    fprog._keep = filters  # alive as long as the program
    return fprog


def _install_seccomp(libc: ctypes.CDLL, program: list[tuple[int, int, int, int]]) -> bool:
    fprog = _fprog(program)
    return bool(libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) == 0)


def _landlock_ruleset(libc: ctypes.CDLL, closed_port: int) -> tuple[int, int, str]:
    """(ruleset fd or -1, Landlock ABI, why not): TCP connect allowed to every port but one.

    Landlock rules allow; what no rule names is refused once TCP connect is handled. One rule
    per port, 65,534 of them, about 0.1 s once per runtime.
    """
    syscall = libc.syscall
    abi = syscall(ctypes.c_long(SYS_LANDLOCK_CREATE_RULESET), None, ctypes.c_long(0),
                  ctypes.c_long(LANDLOCK_CREATE_RULESET_VERSION))  # fmt: skip
    if abi < LANDLOCK_NET_ABI:
        return -1, max(abi, 0), f"Landlock ABI {max(abi, 0)} has no TCP rules (needs 4)"
    attr = _RulesetAttr(0, LANDLOCK_ACCESS_NET_CONNECT_TCP)
    fd = syscall(ctypes.c_long(SYS_LANDLOCK_CREATE_RULESET), ctypes.byref(attr),
                 ctypes.c_long(ctypes.sizeof(attr)), ctypes.c_long(0))  # fmt: skip
    if fd < 0:
        return -1, abi, f"landlock_create_ruleset refused ({_err()})"
    rule = _NetPortAttr(LANDLOCK_ACCESS_NET_CONNECT_TCP, 0)
    nr, fd_arg, kind, ref, flags = (ctypes.c_long(SYS_LANDLOCK_ADD_RULE), ctypes.c_long(fd),
                                    ctypes.c_long(LANDLOCK_RULE_NET_PORT), ctypes.byref(rule),
                                    ctypes.c_long(0))  # fmt: skip
    for port in range(1, 65536):
        if port == closed_port:
            continue
        rule.port = port
        if syscall(nr, fd_arg, kind, ref, flags) != 0:
            os.close(fd)
            return -1, abi, f"landlock_add_rule refused port {port} ({_err()})"
    return fd, abi, ""


@functools.cache
def fence() -> Fence:
    """The runtime's one fence (its launcher thread starts on first use)."""
    return Fence()
