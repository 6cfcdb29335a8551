"""The provider as the engine drives it: started as a plugin (``python -m va_platform.provider
<engine address>``, port on its first stdout line), asked for its schema, and asked to
Construct components against a resource monitor of ours that records every RegisterResource.

The monitor is the preflight's RecordingMonitor (the same VaMocks that ``run_under_mocks`` uses
for a Python program) behind a real gRPC server, so a component built through the provider and
one built by the Python API under ``pulumi.runtime.set_mocks`` get the same ids and ARNs, and
their children can be compared input for input.
"""

import json
import os
import selectors
import subprocess
import sys
import tempfile
from concurrent import futures
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime import rpc
from pulumi.runtime.proto import (
    engine_pb2,
    engine_pb2_grpc,
    errors_pb2,
    provider_pb2,
    provider_pb2_grpc,
    resource_pb2,
    resource_pb2_grpc,
    status_pb2,
)

from va_platform.preflight.mocks import Recorded, RecordingMonitor, VaMocks

START_TIMEOUT_S = 30
PROJECT, STACK = "va-platform", "dev"


class Monitor(RecordingMonitor):
    """URNs of this project and stack whatever the test process's settings say."""

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        if parent and parent.split("::")[2] != "pulumi:pulumi:Stack":
            type_ = parent.split("::")[2] + "$" + type_
        return f"urn:pulumi:{STACK}::{PROJECT}::{type_}::{name}"


class _MonitorServicer(resource_pb2_grpc.ResourceMonitorServicer):
    def __init__(self, holder: "Engine") -> None:
        self.holder = holder

    def SupportsFeature(self, request, context):  # noqa: N802
        answer = self.holder.monitor.SupportsFeature(request)
        return resource_pb2.SupportsFeatureResponse(hasSupport=answer.hasSupport)

    def GetDeploymentInfo(self, request, context):  # noqa: N802
        return self.holder.monitor.GetDeploymentInfo(request)

    def RegisterResource(self, request, context):  # noqa: N802
        return self.holder.monitor.RegisterResource(request)

    def RegisterResourceOutputs(self, request, context):  # noqa: N802
        return self.holder.monitor.RegisterResourceOutputs(request)

    def Invoke(self, request, context):  # noqa: N802
        return self.holder.monitor.Invoke(request)

    def RegisterPackage(self, request, context):  # noqa: N802
        return self.holder.monitor.RegisterPackage(request)

    def SignalAndWaitForShutdown(self, request, context):  # noqa: N802
        return empty_pb2.Empty()


class _EngineServicer(engine_pb2_grpc.EngineServicer):
    def __init__(self, holder: "Engine") -> None:
        self.holder = holder

    def Log(self, request, context):  # noqa: N802
        self.holder.logs.append(request.message)
        return empty_pb2.Empty()

    def GetRootResource(self, request, context):  # noqa: N802
        return engine_pb2.GetRootResourceResponse(urn="")

    def SetRootResource(self, request, context):  # noqa: N802
        return engine_pb2.SetRootResourceResponse()


class Engine:
    """The engine's two services on one port: its log and a fresh recording monitor per run."""

    def __init__(self) -> None:
        self.monitor = Monitor(VaMocks("update"))
        self.logs: list[str] = []
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
        resource_pb2_grpc.add_ResourceMonitorServicer_to_server(_MonitorServicer(self), self.server)
        engine_pb2_grpc.add_EngineServicer_to_server(_EngineServicer(self), self.server)
        self.port = self.server.add_insecure_port("127.0.0.1:0")
        self.server.start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def fresh(self, mode: str = "update") -> Monitor:
        self.monitor = Monitor(VaMocks(mode))  # type: ignore[arg-type]
        self.logs = []
        return self.monitor

    def stop(self) -> None:
        self.server.stop(grace=None)


@dataclass
class Constructed:
    urn: str
    state: dict[str, Any]
    children: list[Recorded]


class ProviderProcess:
    """The started plugin; ``close()`` always stops it."""

    def __init__(self, engine: Engine) -> None:
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-u", "-m", "va_platform.provider", engine.address],
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=env,
        )
        self.engine = engine
        try:
            port = self._read_port()
            self.channel = grpc.insecure_channel(f"127.0.0.1:{port}")
            grpc.channel_ready_future(self.channel).result(timeout=START_TIMEOUT_S)
            self.stub = provider_pb2_grpc.ResourceProviderStub(self.channel)
        except BaseException:
            self.close()
            raise

    def _read_port(self) -> int:
        assert self.proc.stdout is not None
        with selectors.DefaultSelector() as sel:
            sel.register(self.proc.stdout, selectors.EVENT_READ)
            ready = sel.select(timeout=START_TIMEOUT_S)
        line = self.proc.stdout.readline().decode().strip() if ready else ""
        if not line.isdigit():
            raise RuntimeError(f"the provider printed no port: {line!r}\n{self.stderr()}")
        return int(line)

    def stderr(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")

    def schema(self) -> dict[str, Any]:
        response = self.stub.GetSchema(provider_pb2.GetSchemaRequest(version=0))
        return json.loads(response.schema)

    def construct(
        self, type_token: str, name: str, inputs: dict[str, Any], *, preview: bool = False
    ) -> Constructed:
        """Construct as the engine asks for it, against a fresh recording monitor (``preview``:
        a first preview, where the engine sends what is not known yet as unknown outputs)."""
        monitor = self.engine.fresh("preview" if preview else "update")
        struct = struct_pb2.Struct()
        struct.update(inputs)
        request = provider_pb2.ConstructRequest(
            project=PROJECT,
            stack=STACK,
            type=type_token,
            name=name,
            inputs=struct,
            monitorEndpoint=self.engine.address,
            dryRun=preview,
            accepts_output_values=True,
        )
        response = self.stub.Construct(request, timeout=60)
        state = rpc.deserialize_properties(response.state, keep_unknowns=True)
        return Constructed(urn=response.urn, state=dict(state), children=list(monitor.recorded))

    def close(self) -> None:
        channel = getattr(self, "channel", None)
        if channel is not None:
            channel.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self._stderr.close()


def unknown(dependency: str) -> dict[str, Any]:
    """An output value the engine does not know yet (another resource's output, in a first
    preview), as it sends it to a provider that accepts output values."""
    return {
        rpc._special_sig_key: rpc._special_output_value_sig,
        "dependencies": [dependency],
    }


def archive(path: str) -> dict[str, Any]:
    """A FileArchive as the engine serializes it."""
    return {rpc._special_sig_key: rpc._special_archive_sig, "path": path}


def refusal(error: grpc.RpcError) -> str:
    """What the engine shows for a refused Construct: the input errors the provider attached
    (path: reason), else the status message."""
    for key, value in error.trailing_metadata() or ():
        if key == "grpc-status-details-bin":
            status = status_pb2.Status.FromString(value)
            for detail in status.details:
                found = errors_pb2.InputPropertiesError()
                if detail.Unpack(found):
                    return "\n".join(f"{e.property_path}: {e.reason}" for e in found.errors)
    return error.details() or ""
