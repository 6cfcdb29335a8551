"""Run a child under a wall-clock limit, with capped output, and leave no process behind.

Output goes to files, not pipes: a grandchild that keeps a pipe open (a server the agent started
in the background) cannot block us, and a child that prints gigabytes costs disk under /tmp, not
the handler's memory. Only the first ``cap`` bytes of each stream are read back.

Killing the child's process group is not enough: Claude Code's Bash tool starts commands in
groups of their own, and ``nohup cmd &`` orphans them at once, so they are no longer anyone's
descendants. The handler process therefore makes itself a child subreaper (Linux
``PR_SET_CHILD_SUBREAPER``): orphans are re-parented to it instead of to init, and after each run
every process that became its descendant during the run is killed and reaped. A frozen Lambda
environment thus never resumes with the previous agent's background jobs.

That per-run cleanup walks a process tree, which a hostile agent can race (a process that
changes its PID by forking and exiting) or hide from (a process whose main thread exited shows
as a zombie while its other threads run). Between invocations, ``sweep`` therefore works on
what cannot be escaped: every process of the handler's own user. ``kill(-1, SIGKILL)`` signals
all of them but the caller in one step of the kernel (no fork can slip between a scan and a
kill), and the sweep repeats until several scans in a row find none, reaping every zombie
re-parented to the handler. In Lambda the handler's user runs nothing else (FAALF uses no
Lambda extensions, which would run as that user too). As root (local runs) that would kill the
machine, so there the sweep only reaps.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import functools
import os
import resource
import select
import signal
import stat
import struct
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from faalf.fence import fence

PR_GET_DUMPABLE = 3
PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36
MAX_KILL_ROUNDS = 50
CLEAN_SCANS = 3  # consecutive scans that find nothing before the user counts as clean
MAX_SWEEP_ROUNDS = 200
SMALL_TREE_ENTRIES = 2000  # removed in-process; a larger tree goes to `rm -rf`
CLEAR_BATCH = 500  # work-root entries per `rm -rf`


@dataclass(frozen=True)
class Captured:
    text: str
    truncated: bool


@dataclass(frozen=True)
class Finished:
    return_code: int | None
    stdout: Captured
    stderr: Captured
    timed_out: bool
    pgid: int


def run(
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    cwd: Path,
    timeout_s: float,
    cap: int,
    scratch: Path,
    stdin: str | None = None,
) -> Finished:
    """Start ``argv`` as a session leader, inside the fence (``fence.py``: started from the
    launcher thread, it inherits that thread's seccomp filter and Landlock domain); afterwards
    nothing it started is left running."""
    become_subreaper()
    before = descendants(os.getpid())
    with (
        tempfile.TemporaryFile(dir=scratch) as out,
        tempfile.TemporaryFile(dir=scratch) as err,
        tempfile.TemporaryFile(dir=scratch) as inp,
    ):
        inp.write((stdin or "").encode("utf-8"))
        inp.seek(0)
        proc = fence().spawn(
            lambda: subprocess.Popen(
                list(argv),
                stdin=inp,
                stdout=out,
                stderr=err,
                cwd=cwd,
                env=dict(env),
                start_new_session=True,
            )
        )
        timed_out = not wait(proc, max(timeout_s, 0.0))
        # Whatever the outcome, nothing the child started may outlive the invocation.
        kill_group(proc.pid)
        if timed_out:
            proc.wait()
        kill_new_descendants(before)
        return Finished(
            return_code=None if timed_out else proc.returncode,
            stdout=_read_capped(out, cap),
            stderr=_read_capped(err, cap),
            timed_out=timed_out,
            pgid=proc.pid,
        )


def wait(proc: subprocess.Popen[bytes], timeout_s: float) -> bool:
    """Whether ``proc`` exited within the timeout, noticed the moment it does.

    ``Popen.wait(timeout)`` polls with sleeps of up to 50 ms, which every invocation would pay
    after the CLI exits; a pidfd (Linux >= 5.3, as in Lambda) becomes readable at exit instead.
    """
    try:
        fd = os.pidfd_open(proc.pid)
    except (AttributeError, OSError):
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            return False
        return True
    try:
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        exited = bool(poller.poll(timeout_s * 1000))
    finally:
        os.close(fd)
    if exited:
        proc.wait()
    return exited


@functools.cache
def make_undumpable() -> bool:
    """Keep the agent out of the handler's memory, where the API key is.

    The agent runs as the handler's user; a dumpable process of the same user can be read
    through /proc/<pid>/mem and attached with ptrace. Non-dumpable, it cannot (short of root).
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return bool(libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False


def is_dumpable() -> bool:
    libc = ctypes.CDLL(None, use_errno=True)
    return bool(libc.prctl(PR_GET_DUMPABLE, 0, 0, 0, 0))


@functools.cache
def become_subreaper() -> bool:
    """Once per process; False where the kernel has no such option (not Linux)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return bool(libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False


def descendants(root: int) -> set[int]:
    """Every live process below ``root``, from /proc (empty where there is no /proc)."""
    children: dict[int, list[int]] = {}
    try:
        entries = [e.name for e in os.scandir("/proc") if e.name.isdigit()]
    except OSError:
        return set()
    for name in entries:
        try:
            with open(f"/proc/{name}/stat", encoding="utf-8", errors="replace") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields and fields[0] != "Z":  # state; a zombie is reaped below, not killed
            children.setdefault(int(fields[1]), []).append(int(name))
    found: set[int] = set()
    stack = [root]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


def kill_new_descendants(before: set[int]) -> None:
    """Kill what the run left behind (orphans came back to us as subreaper) and reap it."""
    me = os.getpid()
    for _ in range(MAX_KILL_ROUNDS):
        leftovers = descendants(me) - before
        if not leftovers:
            return
        for pid in leftovers:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        for pid in leftovers:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)  # only our own children; the others' parents reap them


def kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _read_capped(handle: IO[bytes], cap: int) -> Captured:
    handle.seek(0)
    data = handle.read(cap + 1)
    return Captured(data[:cap].decode("utf-8", errors="replace"), truncated=len(data) > cap)


def strangers() -> list[int]:
    """Every live process of our user but us.

    "Live" includes a process /proc shows as a zombie whose other threads still run (its main
    thread exited): only a process all of whose threads are dead is harmless.
    """
    me, uid = os.getpid(), str(os.getuid()).encode()
    found = []
    try:
        entries = [e.name for e in os.scandir("/proc") if e.name.isdigit()]
    except OSError:
        return []
    for name in entries:
        if int(name) == me:
            continue
        try:
            with open(f"/proc/{name}/status", "rb") as status:
                text = status.read()
        except OSError:
            continue  # gone meanwhile
        if uid not in _field(text, b"\nUid:").split()[:3]:
            continue
        if _field(text, b"\nState:")[:1] != b"Z" or _has_live_thread(name):
            found.append(int(name))
    return found


def _field(status: bytes, key: bytes) -> bytes:
    """The value of one ``/proc/<pid>/status`` line, found without parsing the others."""
    start = status.find(key)
    if start < 0:
        return b""
    start += len(key)
    end = status.find(b"\n", start)
    return status[start : end if end >= 0 else None].strip()


def _has_live_thread(pid: str) -> bool:
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return False
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/stat", encoding="utf-8", errors="replace") as stat:
                if stat.read().rsplit(")", 1)[1].split()[0] != "Z":
                    return True
        except (OSError, IndexError):
            continue
    return False


def reap() -> None:
    """Collect every exited child (orphans come back to us as subreaper): no zombie piles up."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def sweep() -> bool:
    """Kill and reap every other process of our user; whether several scans then found none."""
    if os.getuid() == 0:  # never kill(-1) as root: it would be every process of the machine
        reap()
        return True
    clean = 0
    for _ in range(MAX_SWEEP_ROUNDS):
        reap()
        if not strangers():
            clean += 1
            if clean >= CLEAN_SCANS:
                return True
            continue
        clean = 0
        with contextlib.suppress(ProcessLookupError):
            os.kill(-1, signal.SIGKILL)  # all of our user's processes but this one, at once
    return False


def clear(root: Path) -> list[str]:
    """Empty ``root`` without Python recursion; what is still there (nothing, normally).

    A tree thousands of levels deep defeats ``shutil.rmtree`` (RecursionError). A workspace of
    the usual few dozen entries is removed here with an explicit stack (no process to start);
    anything larger, deeper or stranger goes to ``rm -rf``, which walks any depth, after the
    directories the agent made unreadable are made readable again.
    """
    if _remove_small(root):
        return []
    env = {"PATH": "/usr/bin:/bin", "LC_ALL": "C"}
    for command in (["rm", "-rf", "--"], ["chmod", "-R", "u+rwx", "--"], ["rm", "-rf", "--"]):
        try:
            left = sorted(os.listdir(root))
        except OSError:
            return [f"{root} (unreadable)"]
        if not left:
            return []
        for start in range(0, len(left), CLEAR_BATCH):  # argv stays within the kernel's limit
            paths = [os.path.join(root, name) for name in left[start : start + CLEAR_BATCH]]
            try:
                subprocess.run(
                    [*command, *paths],
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    check=False,
                )
            except OSError:
                break  # no such program: what is left is reported below
    return sorted(os.listdir(root))


def _remove_small(root: Path, budget: int = SMALL_TREE_ENTRIES) -> bool:
    """Whether ``root``'s contents were removed within ``budget`` entries, without any error."""
    try:
        # (path, whether its entries were pushed already): directories are removed after them.
        stack = [(os.path.join(root, name), False) for name in os.listdir(root)]
        while stack:
            path, expanded = stack.pop()
            budget -= 1
            if budget < 0:
                return False
            if expanded:
                os.rmdir(path)
            elif os.path.isdir(path) and not os.path.islink(path):
                stack.append((path, True))
                stack.extend((os.path.join(path, name), False) for name in os.listdir(path))
            else:
                os.unlink(path)
    except OSError:
        return False
    return True


# The work root itself (Lambda's ``/tmp``) is the one thing of the agent's user that the handler
# keeps rather than empties: emptying it leaves its own mode, group, extended attributes (user
# ones and POSIX ACLs), inode flags and times as the agent set them. A mode without u+w makes
# every later invocation a 500 (``mkdtemp``: permission denied), in this runtime and in every
# fresh one, as Lambda keeps ``/tmp``; an attribute carries data to the next agent. So after
# every run (and before emptying it: a root without u+rx cannot be emptied) each is put back to
# what the handler chose, and a warm invocation that finds one changed ends the runtime.
WORK_ROOT_MODE = 0o700
FS_IOC_GETFLAGS, FS_IOC_SETFLAGS = 0x80086601, 0x40086602  # _IOR/_IOW('f', 1/2, long)
# Inode flags the owner may set without a capability (chattr; ext4's user-modifiable set minus
# append-only, immutable and data journalling, which need one): secure deletion, undelete,
# compression, synchronous updates, no dump, no atime, no tail merging, synchronous directory
# updates, top of a directory hierarchy, no copy-on-write, project inheritance.
FS_OWNER_FLAGS = (
    0x1 | 0x2 | 0x4 | 0x8 | 0x40 | 0x80 | 0x8000 | 0x10000 | 0x20000 | 0x800000 | 0x20000000
)
ROOT_XATTR_PREFIXES = ("user.", "system.posix_acl_")  # what an unprivileged owner can set


def _xattrs(root: Path) -> list[str]:
    try:
        return [n for n in os.listxattr(root, follow_symlinks=False)
                if n.startswith(ROOT_XATTR_PREFIXES)]  # fmt: skip
    except OSError:
        return []  # no extended attributes on this file system: none can be set either


def _inode_flags(root: Path) -> int | None:
    """The root's inode flags (``chattr``), or None where the file system has none."""
    try:
        fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:
        return None
    try:
        return int(struct.unpack("l", fcntl.ioctl(fd, FS_IOC_GETFLAGS, b"\0" * 8))[0])
    except OSError:
        return None
    finally:
        os.close(fd)


def _set_inode_flags(root: Path, flags: int) -> None:
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        fcntl.ioctl(fd, FS_IOC_SETFLAGS, struct.pack("l", flags))
    finally:
        os.close(fd)


def work_root_changes(root: Path) -> list[str]:
    """How the work root itself differs from what ``restore_work_root`` leaves (nothing,
    normally): its mode and group (where it is ours), the user attributes and ACLs on it, the
    inode flags its owner may set."""
    try:
        st = os.lstat(root)
    except OSError as exc:
        return [f"{root} ({exc.strerror})"]
    if not stat.S_ISDIR(st.st_mode):
        return [f"{root} is not a directory"]
    found = []
    if st.st_uid == os.getuid():
        if stat.S_IMODE(st.st_mode) != WORK_ROOT_MODE:
            found.append(f"mode {stat.S_IMODE(st.st_mode):o}")
        if st.st_gid != os.getgid():
            found.append(f"group {st.st_gid}")
        flags = _inode_flags(root)
        if flags is not None and flags & FS_OWNER_FLAGS:
            found.append(f"inode flags {flags & FS_OWNER_FLAGS:#x}")
    found += [f"attribute {name}" for name in _xattrs(root)]
    return found


def restore_work_root(root: Path) -> list[str]:
    """Put the work root itself back: mode 0700 and our group (where it is ours; where it is
    not, its owner's settings are not the agent's to change), no user attributes or ACLs, none
    of the owner's inode flags, and its times the handler's (now). What could not be put back."""
    with contextlib.suppress(OSError):
        st = os.lstat(root)
        if stat.S_ISDIR(st.st_mode) and st.st_uid == os.getuid():
            if st.st_gid != os.getgid():
                os.chown(root, -1, os.getgid(), follow_symlinks=False)
            os.chmod(root, WORK_ROOT_MODE, follow_symlinks=False)
            flags = _inode_flags(root)
            if flags is not None and flags & FS_OWNER_FLAGS:
                _set_inode_flags(root, flags & ~FS_OWNER_FLAGS)
            os.utime(root, follow_symlinks=False)  # the agent's times may be data too
    for name in _xattrs(root):
        with contextlib.suppress(OSError):
            os.removexattr(root, name, follow_symlinks=False)
    return work_root_changes(root)


# System V IPC objects belong to a user, not to a process or a file: a segment, queue or
# semaphore set the agent creates outlives every process the sweep kills and every file the
# work root loses, so a later invocation's agent could read what this one left (or find the
# memory it holds hostage). The id column of each /proc/sysvipc table, and IPC_RMID.
_IPC_TABLES = {"shm": "shmid", "msg": "msqid", "sem": "semid"}
_IPC_RMID = 0


def ipc_objects(uid: int | None = None) -> list[tuple[str, int]]:
    """(kind, id) of every System V IPC object owned by ``uid`` (default: our user)."""
    owner = str(os.getuid() if uid is None else uid)
    found = []
    for kind, id_column in _IPC_TABLES.items():
        try:
            with open(f"/proc/sysvipc/{kind}", encoding="ascii") as table:
                header, *rows = table.read().splitlines()
        except OSError:
            continue  # no System V IPC in this kernel: nothing can be left there
        names = header.split()
        for row in rows:
            cells = dict(zip(names, row.split(), strict=False))
            if cells.get("uid") == owner and cells.get(id_column, "").isdigit():
                found.append((kind, int(cells[id_column])))
    return found


def remove_ipc_objects() -> list[tuple[str, int]]:
    """Remove our user's System V IPC objects; returns those still there."""
    libc = ctypes.CDLL(None, use_errno=True)
    for kind, ident in ipc_objects():
        if kind == "shm":
            libc.shmctl(ident, _IPC_RMID, None)
        elif kind == "msg":
            libc.msgctl(ident, _IPC_RMID, None)
        else:
            libc.semctl(ident, 0, _IPC_RMID)
    return ipc_objects()


# The handler's own limits and scheduling. A process of the same uid may set another's
# resource limits (prlimit), nice value, scheduling policy and CPU affinity, non-dumpable or
# not: an agent that sets the handler's RLIMIT_NPROC to 1 makes every later fork fail, so every
# later invocation of the runtime a 500. The fence refuses those calls to the agent where the
# platform allows seccomp; after every run the handler also compares its own against what they
# were at import, restores what it can and reports the rest (the runtime then ends).
_RLIMITS = sorted(
    {getattr(resource, n) for n in dir(resource) if n.startswith("RLIMIT_")}
)  # fmt: skip


@dataclass(frozen=True)
class Limits:
    """The process's resource limits and one thread's scheduling, as the handler set them."""

    rlimits: tuple[tuple[int, tuple[int, int]], ...]
    nice: int
    policy: int
    affinity: frozenset[int]


def own_limits(tid: int = 0) -> Limits:
    return Limits(
        tuple((r, resource.getrlimit(r)) for r in _RLIMITS),
        os.getpriority(os.PRIO_PROCESS, tid),
        os.sched_getscheduler(tid),
        frozenset(os.sched_getaffinity(tid)),
    )


def restore_limits(baseline: Limits) -> list[str]:
    """Put back the process's limits and every thread's scheduling; what could not be."""
    failed = []
    for which, limits in baseline.rlimits:
        if resource.getrlimit(which) != limits:
            try:
                resource.setrlimit(which, limits)  # a lowered hard limit stays lowered
            except (OSError, ValueError) as exc:
                failed.append(f"rlimit {which} {resource.getrlimit(which)} ({exc})")
    try:
        threads = [int(t) for t in os.listdir("/proc/self/task")]
    except OSError:
        threads = [0]
    for tid in threads:
        try:
            now = own_limits_of_thread(tid)
        except OSError:
            continue  # the thread ended meanwhile
        if now != (baseline.nice, baseline.policy, baseline.affinity):
            failed.extend(_restore_thread(tid, baseline))
    return failed


def own_limits_of_thread(tid: int) -> tuple[int, int, frozenset[int]]:
    return (
        os.getpriority(os.PRIO_PROCESS, tid),
        os.sched_getscheduler(tid),
        frozenset(os.sched_getaffinity(tid)),
    )


def _restore_thread(tid: int, baseline: Limits) -> list[str]:
    failed = []
    for what, undo in (
        ("scheduling policy", lambda: os.sched_setscheduler(tid, baseline.policy,
                                                            os.sched_param(0))),
        ("nice value", lambda: os.setpriority(os.PRIO_PROCESS, tid, baseline.nice)),
        ("CPU affinity", lambda: os.sched_setaffinity(tid, baseline.affinity)),
    ):  # fmt: skip
        try:
            undo()
        except OSError as exc:  # a lowered nice value needs CAP_SYS_NICE to raise again
            failed.append(f"thread {tid} {what} ({exc.strerror})")
    try:
        if own_limits_of_thread(tid) != (baseline.nice, baseline.policy, baseline.affinity):
            failed.append(f"thread {tid} scheduling still changed")
    except OSError:
        pass
    return failed


# Kernel objects of the user beyond System V IPC: POSIX message queues (/dev/mqueue, when it is
# mounted), the user's keyrings and POSIX shared memory and semaphores (files in /dev/shm, when
# it exists; not in Lambda). Like System V objects they belong to the uid, not to a process, so
# they outlive the sweep. The fence refuses message queues and keyrings to the agent, and the
# handler's RLIMIT_MSGQUEUE of 0 (inherited, and only root may raise it) makes mq_open fail
# regardless; these sweeps are for a platform where neither holds.
MQUEUE_DIR = Path("/dev/mqueue")
SHM_DIR = Path("/dev/shm")
KEYCTL_CLEAR, KEYCTL_READ, KEYCTL_GET_PERSISTENT = 7, 11, 22
KEY_SPEC_PROCESS_KEYRING, KEY_SPEC_SESSION_KEYRING = -2, -3
KEY_SPEC_USER_KEYRING, KEY_SPEC_USER_SESSION_KEYRING = -4, -5
SYS_KEYCTL = {"x86_64": 250, "aarch64": 219}


def no_message_queues() -> None:
    """RLIMIT_MSGQUEUE (0, 0) for the handler and so for all it starts: mq_open then fails
    (EMFILE) for every process of ours, and no process but root's may raise it again."""
    with contextlib.suppress(OSError, ValueError):
        resource.setrlimit(resource.RLIMIT_MSGQUEUE, (0, 0))


def user_files(directory: Path, uid: int | None = None) -> list[Path]:
    """Entries of ``directory`` owned by ``uid`` (default: ours); none if it does not exist."""
    owner = os.getuid() if uid is None else uid
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return []
    found = []
    for entry in entries:
        try:
            if entry.stat(follow_symlinks=False).st_uid == owner:
                found.append(Path(entry.path))
        except OSError:
            continue
    return found


def _keyctl(*args: int) -> int:
    number = SYS_KEYCTL.get(os.uname().machine)
    if number is None:
        return -1
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    return int(libc.syscall(ctypes.c_long(number), *(ctypes.c_long(a) for a in args)))


def _keyrings() -> list[int]:
    """The keyrings every process of the uid can reach: the user's, the user session one, our
    session's, and the persistent one (created if need be, to be emptied)."""
    rings = [KEY_SPEC_USER_KEYRING, KEY_SPEC_USER_SESSION_KEYRING, KEY_SPEC_SESSION_KEYRING]
    persistent = _keyctl(KEYCTL_GET_PERSISTENT, -1, KEY_SPEC_PROCESS_KEYRING)
    return rings + ([persistent] if persistent > 0 else [])


def keyring_contents() -> list[str]:
    """The keyrings that hold a key (the keyring read returns 4 bytes per key id)."""
    return [str(ring) for ring in _keyrings() if _keyctl(KEYCTL_READ, ring, 0, 0) > 0]


def user_objects() -> list[str]:
    """Every kernel object of our user that outlives its processes (System V IPC, message
    queues, keys, /dev/shm files)."""
    found = [f"{kind} {ident}" for kind, ident in ipc_objects()]
    found += [str(path) for path in user_files(MQUEUE_DIR) + user_files(SHM_DIR)]
    return found + [f"keyring {ring}" for ring in keyring_contents()]


def remove_user_objects() -> list[str]:
    """Remove them all; returns those still there."""
    remove_ipc_objects()
    for path in user_files(MQUEUE_DIR) + user_files(SHM_DIR):
        with contextlib.suppress(OSError):
            if path.is_dir() and not path.is_symlink():
                subprocess.run(["rm", "-rf", "--", str(path)], check=False,
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)  # fmt: skip
            else:
                path.unlink()
    for ring in _keyrings():
        _keyctl(KEYCTL_CLEAR, ring)  # ENOSYS/EPERM where keys are not offered: nothing there
    return user_objects()


# The Lambda Runtime API, where the fence cannot close it (no Landlock TCP rules, or no
# seccomp): a connection to it during the run can only be the agent's (the runtime client waits
# in the handler meanwhile, on a connection it opened before, or on none). Each TCP socket to
# the API's port on a loopback address is listed from /proc/net/tcp{,6} before the run and after
# the sweep; one that is new, or whose TIME_WAIT timer was reset, was made during the run. This
# detects after the fact: the handler then ends the runtime.
_TCP_TABLES = ("/proc/net/tcp", "/proc/net/tcp6")
_TIME_WAIT = "06"
Sockets = dict[tuple[str, int], tuple[str, int, str]]


def _loopback(address: str) -> bool:
    """``address`` as /proc/net/tcp writes it (little-endian 32-bit words): 127/8 or ::1."""
    if len(address) == 8:
        return int(address, 16) & 0xFF == 0x7F
    return address == "0" * 24 + "01000000" or (
        address[:24] == "0000000000000000FFFF0000" and int(address[24:], 16) & 0xFF == 0x7F
    )


def runtime_api_sockets(port: int) -> Sockets:
    """Both ends of every TCP connection to ``port`` on a loopback address: (which end, the
    other end's address and port) -> (state, timer, inode). The server's end counts too: the
    side that closes first keeps the TIME_WAIT entry, and an HTTP server often closes first."""
    found: Sockets = {}
    for table in _TCP_TABLES:
        try:
            with open(table, encoding="ascii") as rows:
                lines = rows.read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) < 10:
                continue
            ends = [end.partition(":") for end in fields[1:3]]
            (local, _, local_port), (remote, _, remote_port) = ends
            entry = (fields[3], int(fields[5].partition(":")[2], 16), fields[9])
            if int(remote_port, 16) == port and _loopback(remote):
                found[(f"client {local}", int(local_port, 16))] = entry
            elif int(local_port, 16) == port and _loopback(local) and int(remote_port, 16):
                found[(f"server {remote}", int(remote_port, 16))] = entry
    return found


def foreign_runtime_api_use(before: Sockets, after: Sockets) -> list[str]:
    """The sockets to the Runtime API made between the two listings."""
    made = []
    for key, (state, timer, inode) in after.items():
        old = before.get(key)
        if (
            old is None
            or (inode != "0" and inode != old[2])
            or (state == _TIME_WAIT == old[0] and timer > old[1])
        ):
            made.append(f"{key[0].split()[0]} end, port {key[1]} ({state})")
    return made
