"""Where the fence cannot close the Lambda Runtime API, a connection the agent made to it during
the run is found after the sweep (``process.runtime_api_sockets``), and the runtime ends."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest

from faalf import process

CONNECT = "import socket, sys; socket.create_connection(('127.0.0.1', int(sys.argv[1]))).close()"


@pytest.fixture
def runtime_api() -> Iterator[int]:
    """A listener standing in for the Runtime API: its port."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        yield server.getsockname()[1]


def test_a_connection_made_to_the_runtime_api_during_the_run_is_found(runtime_api):
    before = process.runtime_api_sockets(runtime_api)
    subprocess.run([sys.executable, "-c", CONNECT, str(runtime_api)], check=True)

    assert process.foreign_runtime_api_use(before, process.runtime_api_sockets(runtime_api))


def test_a_run_that_leaves_the_runtime_api_alone_finds_nothing(runtime_api):
    before = process.runtime_api_sockets(runtime_api)
    subprocess.run([sys.executable, "-c", "pass"], check=True)

    assert process.foreign_runtime_api_use(before, process.runtime_api_sockets(runtime_api)) == []


def test_a_connection_the_handler_held_before_the_run_is_not_the_agents(runtime_api):
    with socket.create_connection(("127.0.0.1", runtime_api)):
        before = process.runtime_api_sockets(runtime_api)

        assert (
            process.foreign_runtime_api_use(before, process.runtime_api_sockets(runtime_api)) == []
        )
