"""The connect supervisor: the Runtime API closed to the agent where Landlock cannot close it.

Landlock's TCP rules need Linux 6.7; Lambda's kernel is not known here (public reports show 5.10).
A seccomp filter cannot read a ``connect``'s address (it sees registers, not memory), but it can
hand the call to a supervisor (``SECCOMP_RET_USER_NOTIF``, Linux 5.0): the agent's thread waits
while a thread of the handler decides. This module is that supervisor (Linux 5.6+, for
``pidfd_getfd``).

**It never lets the kernel run the agent's call** (``SECCOMP_USER_NOTIF_FLAG_CONTINUE``): the
kernel would read the address again from the agent's memory, and between the check and that
read another thread of the agent, or any process of its user (``/proc/<pid>/mem``,
``process_vm_writev``), can change it; the descriptor can be swapped under the same number too.
Instead, for each ``connect`` the supervisor

1. copies the socket out of the calling thread (``pidfd_getfd``) and checks it is the one that
   thread's descriptor names (its inode, through ``/proc/<tid>/fd``);
2. copies the address out of its memory (``/proc/<tid>/mem``), once;
3. refuses (``EACCES``, as Landlock would) an internet socket's address whose port is the Runtime
   API's, on any address (the address family aside: the port is at the same offset in IPv4 and
   IPv6 addresses, and an ``AF_UNSPEC`` disconnect with that port is refused too, harmlessly);
4. otherwise connects the copied socket itself, with its own copy of the address, and answers
   the call with the result. The socket is the agent's (one open file, two descriptors), so the
   agent's descriptor is connected where the supervisor checked, whatever its memory says now.

A blocking connect is made without blocking the supervisor (the shared file is made
non-blocking for the call, then waited on), so a connect that hangs holds one worker, which is
freed as soon as its caller is gone (the sweep kills it). Anything that cannot be checked (a
non-dumpable agent process, a descriptor that changed under the check, an unreadable address)
is refused: the agent can only fail its own connects. A relative ``AF_UNIX`` path is connected
from the caller's working directory (``/proc/<tid>/cwd``); a result longer than an ``AF_UNIX``
path can be is refused (``ENAMETOOLONG``).

The supervisor's threads must not be under the filter (they would wait on themselves): they are
started from the thread that creates the fence, never from the fenced launcher thread.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import os
import select
import socket
import threading
from concurrent.futures import ThreadPoolExecutor

SECCOMP_RET_USER_NOTIF = 0x7FC00000
SECCOMP_SET_MODE_FILTER = 1
SECCOMP_FILTER_FLAG_NEW_LISTENER = 1 << 3
SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV = 1 << 5  # Linux 5.19: no restarts once received
# ioctls on the listener: _IOWR('!', 0, struct seccomp_notif), _IOWR('!', 1, ..._resp), and
# ID_VALID as first defined (_IOR), which every kernel since 5.0 accepts.
NOTIF_RECV, NOTIF_SEND, NOTIF_ID_VALID = 0xC0502100, 0xC0182101, 0x80082102
SYS_SECCOMP = {"x86_64": 317, "aarch64": 277}
SYS_PIDFD_GETFD = 438  # the same on both
AF_UNIX_PATH_MAX = 108
MAX_ADDRESS = 128  # sizeof(struct sockaddr_storage)
WORKERS = 16
POLL_MS = 200  # how often a worker waiting on a connect checks its caller is still there
SO_ERROR, SO_DOMAIN = 4, 39


class _Data(ctypes.Structure):
    _fields_ = [
        ("nr", ctypes.c_int),
        ("arch", ctypes.c_uint32),
        ("instruction_pointer", ctypes.c_uint64),
        ("args", ctypes.c_uint64 * 6),
    ]


class _Notif(ctypes.Structure):
    _fields_ = [("id", ctypes.c_uint64), ("pid", ctypes.c_uint32), ("flags", ctypes.c_uint32),
                ("data", _Data)]  # fmt: skip


class _Response(ctypes.Structure):
    _fields_ = [("id", ctypes.c_uint64), ("val", ctypes.c_int64), ("error", ctypes.c_int32),
                ("flags", ctypes.c_uint32)]  # fmt: skip


def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    return libc


def unavailable(machine: str) -> str:
    """Why the supervisor cannot run here ("" if it can): a kernel without ``pidfd_getfd``
    (before 5.6), Yama allowing ptrace to administrators only, an unknown architecture."""
    if machine not in SYS_SECCOMP:
        return f"no seccomp syscall number for {machine}"
    with (
        contextlib.suppress(OSError, ValueError),
        open("/proc/sys/kernel/yama/ptrace_scope", encoding="ascii") as scope,
    ):
        if int(scope.read()) >= 2:
            return "Yama ptrace_scope >= 2: the supervisor cannot read agent processes"
    libc = _libc()
    probe = os.open("/dev/null", os.O_RDONLY | os.O_CLOEXEC)
    try:
        pidfd = os.pidfd_open(os.getpid())
    except OSError as exc:
        os.close(probe)
        return f"pidfd_open refused ({errno.errorcode.get(exc.errno or 0, exc.errno)})"
    try:
        got = libc.syscall(ctypes.c_long(SYS_PIDFD_GETFD), ctypes.c_long(pidfd),
                           ctypes.c_long(probe), ctypes.c_long(0))  # fmt: skip
        if got < 0:
            code = ctypes.get_errno()
            return f"pidfd_getfd refused ({errno.errorcode.get(code, code)})"
        os.close(got)
        return ""
    finally:
        os.close(pidfd)
        os.close(probe)


def install(libc: ctypes.CDLL, fprog: object, machine: str) -> int:
    """Install the filter (on the calling thread) with a listener; its fd, or -1 (errno set)."""
    number = ctypes.c_long(SYS_SECCOMP[machine])
    for flags in (SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV,
                  SECCOMP_FILTER_FLAG_NEW_LISTENER):  # fmt: skip
        fd = libc.syscall(number, ctypes.c_long(SECCOMP_SET_MODE_FILTER), ctypes.c_long(flags),
                          fprog)  # fmt: skip
        if fd >= 0 or ctypes.get_errno() != errno.EINVAL:
            return int(fd)
    return -1


class Supervisor:
    """Answers every ``connect`` of the fenced processes; refuses the Runtime API's port."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.refused = 0  # connects to the Runtime API refused so far
        self.errors = 0  # connects refused because they could not be checked
        self._libc = _libc()
        self._listener: int | None = None
        self._ready = threading.Event()
        self._workers = ThreadPoolExecutor(WORKERS, thread_name_prefix="faalf-connect")
        self._lock = threading.Lock()
        # Started here, by the thread that creates the fence: never under the filter itself.
        self._thread = threading.Thread(target=self._serve, name="faalf-supervisor", daemon=True)
        self._thread.start()

    def listen(self, listener: int | None) -> None:
        """The listener the launcher thread got (None: no filter with one was installed)."""
        self._listener = listener
        self._ready.set()

    def _serve(self) -> None:
        self._ready.wait()
        listener = self._listener
        if listener is None:
            return
        # The workers start from this thread (unfenced): one now, before any agent runs.
        self._workers.submit(lambda: None).result()
        try:
            while True:
                notif = _Notif()
                if self._libc.ioctl(listener, ctypes.c_ulong(NOTIF_RECV), ctypes.byref(notif)):
                    if ctypes.get_errno() in (errno.EINTR, errno.ENOENT):
                        continue  # the caller was interrupted or died before we got it
                    return  # the listener is broken: closed below, every connect then fails
                self._workers.submit(self._answer, notif.id, notif.pid, tuple(notif.data.args))
        finally:
            os.close(listener)

    def _answer(self, ident: int, tid: int, args: tuple[int, ...]) -> None:
        try:
            result = self._connect_for(ident, tid, args[0] & 0xFFFFFFFF, args[1], args[2])
        except Exception:  # noqa: BLE001 - never leave a caller waiting; refuse instead
            with self._lock:
                self.errors += 1
            result = -errno.EACCES
        if result is None or self._listener is None:
            return  # the caller is gone: there is no one to answer
        response = _Response(ident, 0, min(result, 0), 0)
        self._libc.ioctl(self._listener, ctypes.c_ulong(NOTIF_SEND), ctypes.byref(response))

    def _valid(self, ident: int) -> bool:
        """Whether the call is still waiting (so ``tid`` is still the thread that made it)."""
        assert self._listener is not None
        value = ctypes.c_uint64(ident)
        return self._libc.ioctl(self._listener, ctypes.c_ulong(NOTIF_ID_VALID),
                                ctypes.byref(value)) == 0  # fmt: skip

    def _connect_for(self, ident: int, tid: int, fd: int, address: int, length: int) -> int | None:
        """The call's result (0 or -errno), or None if its caller is gone."""
        sock = self._socket_of(ident, tid, fd)
        if sock is None or sock < 0:
            return sock
        try:
            family = self._getsockopt(sock, SO_DOMAIN)
            if family < 0:
                return family
            data = self._address_of(ident, tid, address, length)
            if isinstance(data, int) or data is None:
                return data
            if family in (socket.AF_INET, socket.AF_INET6):
                if len(data) >= 4 and int.from_bytes(data[2:4], "big") == self.port:
                    with self._lock:
                        self.refused += 1
                    return -errno.EACCES
            elif family == socket.AF_UNIX:
                data = self._unix_address(tid, data)
                if isinstance(data, int):
                    return data
            return self._connect(ident, sock, data)
        finally:
            os.close(sock)

    def _getsockopt(self, fd: int, option: int) -> int:
        """An int socket option (SOL_SOCKET), or -errno."""
        value, size = ctypes.c_int(0), ctypes.c_uint32(ctypes.sizeof(ctypes.c_int))
        if self._libc.getsockopt(fd, socket.SOL_SOCKET, option, ctypes.byref(value),
                                 ctypes.byref(size)):  # fmt: skip
            return -ctypes.get_errno()
        return value.value

    def _socket_of(self, ident: int, tid: int, fd: int) -> int | None:
        """The caller's socket, copied out of it and checked to be what its ``fd`` names (a
        descriptor of ours, to close), or -errno, or None if the caller is gone."""
        try:
            with open(f"/proc/{tid}/status", "rb") as status:
                tgid = int(next(line for line in status if line.startswith(b"Tgid:")).split()[1])
            pidfd = os.pidfd_open(tgid)
        except (OSError, StopIteration, ValueError):
            return None if not self._valid(ident) else -errno.EACCES
        try:
            if not self._valid(ident):
                return None
            copied = int(self._libc.syscall(ctypes.c_long(SYS_PIDFD_GETFD), ctypes.c_long(pidfd),
                                            ctypes.c_long(fd), ctypes.c_long(0)))  # fmt: skip
            if copied < 0:
                code = ctypes.get_errno()
                return -(errno.EBADF if code == errno.EBADF else errno.EACCES)
        finally:
            os.close(pidfd)
        try:
            # The thread's own table (a thread need not share the process's): the same file.
            named, mine = os.stat(f"/proc/{tid}/fd/{fd}"), os.fstat(copied)
            same = (named.st_dev, named.st_ino) == (mine.st_dev, mine.st_ino)
        except OSError:
            same = False
        if not same:
            os.close(copied)
            return -errno.EACCES
        return copied

    def _address_of(self, ident: int, tid: int, address: int, length: int) -> bytes | int | None:
        """The caller's address, copied once; the copy is all that is used from here on."""
        if length > MAX_ADDRESS or length < 0:
            return -errno.EINVAL
        try:
            mem = os.open(f"/proc/{tid}/mem", os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            return None if not self._valid(ident) else -errno.EACCES
        try:
            data = os.pread(mem, length, address) if length else b""
        except (OSError, OverflowError):
            return -errno.EFAULT
        finally:
            os.close(mem)
        if len(data) != length:
            return -errno.EFAULT
        return data if self._valid(ident) else None  # the pid may be another's since the read

    @staticmethod
    def _unix_address(tid: int, data: bytes) -> bytes | int:
        """A relative ``AF_UNIX`` path made absolute from the caller's working directory."""
        path = data[2:].split(b"\0", 1)[0]
        if len(data) <= 2 or data[2] == 0 or path.startswith(b"/"):
            return data  # unnamed, abstract, or absolute: the same from any directory
        try:
            cwd = os.readlink(f"/proc/{tid}/cwd").encode()
        except OSError:
            return -errno.EACCES
        absolute = os.path.join(cwd, path)
        if len(absolute) >= AF_UNIX_PATH_MAX:
            return -errno.ENAMETOOLONG
        return data[:2] + absolute + b"\0"

    def _connect(self, ident: int, fd: int, data: bytes) -> int | None:
        """Connect the caller's socket with our copy of the address, without blocking on it."""
        flags = fcntl.fcntl(fd, fcntl.F_GETFL)
        blocking = not flags & os.O_NONBLOCK
        buffer = ctypes.create_string_buffer(data, len(data))
        if blocking:
            fcntl.fcntl(fd, fcntl.F_SETFL, flags | os.O_NONBLOCK)
        try:
            code = 0 if self._libc.connect(fd, buffer, len(data)) == 0 else ctypes.get_errno()
        finally:
            if blocking:
                fcntl.fcntl(fd, fcntl.F_SETFL, flags)
        if not blocking or code not in (errno.EINPROGRESS, errno.EALREADY):
            return -code
        # A blocking caller waits for the outcome, as the kernel would have made it wait.
        poller = select.poll()
        poller.register(fd, select.POLLOUT)
        while not poller.poll(POLL_MS):
            if not self._valid(ident):
                return None  # the caller died waiting (the sweep): give up the connect
        error = self._getsockopt(fd, SO_ERROR)
        return -error if error > 0 else min(error, 0)
