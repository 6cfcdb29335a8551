"""The handler's own limits, put back after every run (``process.restore_limits``).

The fence refuses ``prlimit``/``setpriority``/``sched_setaffinity`` on other processes to the
agent; these tests cover the handler's own check, which holds where the platform refuses
seccomp: a change it can undo is undone, one it cannot (a lowered hard limit, for a non-root
process) is reported, and the runtime then ends.
"""

from __future__ import annotations

import os
import resource
import subprocess

import pytest

from faalf import process
from tests.agent.lambda_env import sandbox_build
from tests.agent.test_hostile_agent import pytestmark as needs_root_and_python311


def test_a_changed_soft_limit_of_the_handler_is_put_back():
    baseline = process.own_limits()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft // 2, 64), hard))
    try:
        failed = process.restore_limits(baseline)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))

    assert (failed, resource.getrlimit(resource.RLIMIT_NOFILE)) == ([], (soft, hard))


def test_a_changed_cpu_affinity_of_a_handler_thread_is_put_back():
    baseline = process.own_limits()
    if len(baseline.affinity) < 2:
        pytest.skip("needs two CPUs")
    os.sched_setaffinity(0, {min(baseline.affinity)})
    try:
        failed = process.restore_limits(baseline)
    finally:
        os.sched_setaffinity(0, baseline.affinity)

    assert failed == []


LOWER_THE_HARD_LIMIT = """
import resource
from faalf import process
baseline = process.own_limits()
resource.setrlimit(resource.RLIMIT_NPROC, (1, 1))  # what the agent did to its handler
print(process.restore_limits(baseline))
"""


@needs_root_and_python311
def test_a_lowered_hard_limit_of_the_handler_is_reported():
    build = sandbox_build()
    done = subprocess.run(
        [str(build.python), "-c", LOWER_THE_HARD_LIMIT],
        env={"PYTHONPATH": str(build.source), "PATH": "/usr/bin:/bin"},
        cwd="/", user=65534, group=65534, extra_groups=[],
        capture_output=True, text=True, check=False,
    )  # fmt: skip

    assert done.stdout.startswith("['rlimit"), done.stderr[-500:]
