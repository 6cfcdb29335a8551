"""The work root itself, put back after every run (``process.restore_work_root``).

The handler empties the work root (Lambda's ``/tmp``) but keeps the directory: what the agent set
on it (its mode, user attributes, ACLs, inode flags, times) would otherwise reach the next
invocation, or break it (a read-only root: every ``mkdtemp`` fails).
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

import pytest

from faalf import process

OLD = 1_000_000_000  # 2001: a time the agent chose


@pytest.fixture
def work_root(work_root: Path) -> Path:
    """The work root as the handler leaves it after a cleanup."""
    assert process.restore_work_root(work_root) == []
    return work_root


def test_a_read_only_work_root_is_made_writable_again(work_root: Path):
    os.chmod(work_root, 0o500)

    assert process.work_root_changes(work_root) == ["mode 500"]
    assert process.restore_work_root(work_root) == []
    assert os.stat(work_root).st_mode & 0o7777 == process.WORK_ROOT_MODE


def test_user_attributes_on_the_work_root_are_removed(work_root: Path):
    os.setxattr(work_root, "user.stash", b"for the next agent")

    assert process.work_root_changes(work_root) == ["attribute user.stash"]
    assert process.restore_work_root(work_root) == []
    assert "user.stash" not in os.listxattr(work_root)


def acl(*entries: tuple[int, int, int]) -> bytes:
    """A POSIX ACL as the kernel stores it in ``system.posix_acl_*`` (what setfacl writes)."""
    return struct.pack("<I", 2) + b"".join(struct.pack("<HHI", *entry) for entry in entries)


def test_an_acl_on_the_work_root_is_removed(work_root: Path):
    no_id = 0xFFFFFFFF
    # user::rwx, user:4242:rwx, group::r-x, mask::rwx, other::---
    entries = [(0x01, 7, no_id), (0x02, 7, 4242), (0x04, 5, no_id), (0x10, 7, no_id),
               (0x20, 0, no_id)]  # fmt: skip
    try:
        os.setxattr(work_root, "system.posix_acl_default", acl(*entries))
    except OSError as exc:
        pytest.skip(f"no POSIX ACLs here ({exc.strerror})")

    assert process.work_root_changes(work_root) == ["attribute system.posix_acl_default"]
    assert process.restore_work_root(work_root) == []


def test_inode_flags_the_owner_may_set_are_cleared(work_root: Path):
    flags = process._inode_flags(work_root)
    if flags is None:
        pytest.skip("no inode flags on this file system")
    try:
        process._set_inode_flags(work_root, flags | 0x80)  # noatime
    except OSError as exc:
        pytest.skip(f"chattr +A refused here ({exc.strerror})")

    assert process.work_root_changes(work_root) == ["inode flags 0x80"]
    assert process.restore_work_root(work_root) == []


def test_times_the_agent_set_on_the_work_root_are_the_handlers_again(work_root: Path):
    os.utime(work_root, (OLD, OLD))

    process.restore_work_root(work_root)

    assert min(os.stat(work_root).st_mtime, os.stat(work_root).st_atime) > OLD


def test_a_work_root_that_is_not_a_directory_is_reported(tmp_path: Path):
    link = tmp_path / "root"
    link.symlink_to(tmp_path)

    assert process.restore_work_root(link) == [f"{link} is not a directory"]
