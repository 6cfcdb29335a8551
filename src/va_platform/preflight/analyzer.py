"""Drive a policy pack the way the Pulumi engine does: a subprocess spoken to over gRPC.

``python -u -m pulumi.policy <engine-address> <pack-dir>`` runs the pack's ``__main__.py``, which
starts the analyzer server on 127.0.0.1 and prints its port as the first line of stdout. Then the
engine calls GetAnalyzerInfo, Configure, Analyze per resource and AnalyzeStack once, with the
analyzer protos that ship in the ``pulumi`` package. The preflight (``make plan``), the
engine-level tests and the benchmark all go through this one client.
"""

from __future__ import annotations

import os
import selectors
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from va_platform import extras

PACK_ENV = "VA_GUARD_PACK"
START_TIMEOUT_S = 60.0
LEVELS = {
    analyzer_pb2.ADVISORY: "advisory",
    analyzer_pb2.MANDATORY: "mandatory",
    analyzer_pb2.DISABLED: "disabled",
    analyzer_pb2.REMEDIATE: "remediate",
}
LEVEL_VALUES = {name: value for value, name in LEVELS.items()}


class PackError(RuntimeError):
    """The pack did not start or answer; the message carries its stderr."""


def locate_pack(given: str | Path | None = None) -> Path:
    """Where the va-guard pack is: ``given`` (``--policy-pack``), else ``$VA_GUARD_PACK``, else
    ``./policies``. The library does not ship the pack: it is published on its own (``pulumi
    policy publish``), so a team points the preflight at its checkout or download of it."""
    candidate = Path(given or os.environ.get(PACK_ENV) or "policies").expanduser()
    if not (candidate / "PulumiPolicy.yaml").is_file():
        raise PackError(
            f"no policy pack at {candidate.resolve()} (no PulumiPolicy.yaml): pass "
            f"--policy-pack DIR or set {PACK_ENV} to the va-guard pack's directory"
        )
    return candidate.resolve()


@dataclass(frozen=True)
class Provider:
    type: str
    urn: str
    name: str
    props: Mapping[str, Any]


@dataclass(frozen=True)
class StackIdentity:
    """The stack the engine says it analyses (``ConfigureStack``): organization, project and
    stack name, whether it is a preview, the stack's tags, its config and secret keys."""

    organization: str
    project: str
    stack: str
    dry_run: bool = False
    tags: Mapping[str, str] = field(default_factory=dict)
    # The stack's config as the engine sends it (strings), and which keys are secret.
    config: Mapping[str, str] = field(default_factory=dict, repr=False)
    secret_keys: tuple[str, ...] = ()

    def message(self) -> analyzer_pb2.AnalyzerStackConfigureRequest:
        return analyzer_pb2.AnalyzerStackConfigureRequest(
            organization=self.organization,
            project=self.project,
            stack=self.stack,
            dry_run=self.dry_run,
            tags=dict(self.tags),
            config=dict(self.config),
            config_secret_keys=list(self.secret_keys),
        )


@dataclass(frozen=True)
class Subject:
    """One resource as the engine sends it: engine (camelCase) property names.

    ``dependencies`` and ``property_dependencies`` (input property -> the URNs its value came
    from) reach the pack in AnalyzeStack only: the per-resource AnalyzeRequest has no field
    for them.
    """

    type: str
    name: str
    urn: str
    props: Mapping[str, Any]
    parent: str = ""
    provider: Provider | None = None
    dependencies: tuple[str, ...] = ()
    property_dependencies: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # AnalyzerResourceOptions fields besides parent (protect, ignoreChanges, ...), where set.
    options: Mapping[str, Any] = field(default_factory=dict)

    def options_message(self) -> analyzer_pb2.AnalyzerResourceOptions:
        return analyzer_pb2.AnalyzerResourceOptions(parent=self.parent, **self.options)


@dataclass(frozen=True)
class Diagnostic:
    policy: str
    level: str
    message: str
    urn: str = ""
    description: str = ""

    @property
    def detail(self) -> str:
        """The message without the policy description the SDK puts in front of it."""
        prefix = self.description + "\n"
        return self.message[len(prefix) :] if self.message.startswith(prefix) else self.message


@dataclass
class PackInfo:
    name: str
    policies: dict[str, dict[str, Any]] = field(default_factory=dict)


def expand_config(config: Mapping[str, Any], policies: Iterable[str]) -> dict[str, dict[str, Any]]:
    """A ``--config`` file as the engine reads it: ``"advisory"`` is short for
    ``{"enforcementLevel": "advisory"}``, and ``all`` applies to every policy of the pack, each
    policy's own entry taking precedence."""

    def entry(value: Any) -> dict[str, Any]:
        return {"enforcementLevel": value} if isinstance(value, str) else dict(value)

    everyone = entry(config["all"]) if "all" in config else None
    expanded = {name: dict(everyone) for name in policies} if everyone else {}
    for policy, values in config.items():
        if policy != "all":
            expanded[policy] = {**expanded.get(policy, {}), **entry(values)}
    return expanded


def to_struct(value: Mapping[str, Any]) -> struct_pb2.Struct:
    s = struct_pb2.Struct()
    json_format.ParseDict(dict(value), s)
    return s


def _provider_message(p: Provider) -> analyzer_pb2.AnalyzerProviderResource:
    return analyzer_pb2.AnalyzerProviderResource(
        type=p.type, urn=p.urn, name=p.name, properties=to_struct(p.props)
    )


def _diagnostics(response: Any) -> list[Diagnostic]:
    return [
        Diagnostic(
            policy=d.policyName,
            level=LEVELS.get(d.enforcementLevel, str(d.enforcementLevel)),
            message=d.message,
            urn=d.urn,
            description=d.description,
        )
        for d in response.diagnostics
    ]


class PackClient:
    """The engine's calls to an analyzer, over ``stub``: a gRPC stub of a started pack, or
    anything with the same methods taking one request (a servicer called in process)."""

    def __init__(self, stub: Any) -> None:
        self._stub = stub

    # --- the engine's calls -------------------------------------------------------------------

    def info(self) -> PackInfo:
        reply = self._stub.GetAnalyzerInfo(empty_pb2.Empty())
        info = PackInfo(reply.name)
        for p in reply.policies:
            info.policies[p.name] = {
                "level": LEVELS.get(p.enforcementLevel, ""),
                "description": p.description,
                "remediation": p.remediation_steps,
                "severity": p.severity,
                "configSchema": json_format.MessageToDict(p.configSchema.properties),
                "type": p.policy_type,
            }
        return info

    def configure_stack(self, stack: StackIdentity) -> None:
        """Which stack is analysed, as the engine says it before any resource (ConfigureStack):
        the pack scopes its exemptions by it."""
        self._stub.ConfigureStack(stack.message())

    def configure(self, config: Mapping[str, Mapping[str, Any]]) -> None:
        """``{policy: {"enforcementLevel": "advisory", <key>: <value>}}``, as ``--config`` files."""
        request = analyzer_pb2.ConfigureAnalyzerRequest()
        for policy, values in expand_config(config, self.info().policies).items():
            values = dict(values)
            level = LEVEL_VALUES[values.pop("enforcementLevel", "mandatory")]
            request.policyConfig[policy].CopyFrom(
                analyzer_pb2.PolicyConfig(enforcementLevel=level, properties=to_struct(values))
            )
        self._stub.Configure(request)

    def analyze(self, r: Subject) -> list[Diagnostic]:
        return self.send(analyze_request(r))

    def send(self, request: analyzer_pb2.AnalyzeRequest) -> list[Diagnostic]:
        """Analyze a request built beforehand (the benchmark times the RPC, not the encoding)."""
        return _diagnostics(self._stub.Analyze(request))

    def analyze_stack(self, resources: Iterable[Subject]) -> list[Diagnostic]:
        return self.send_stack(analyze_stack_request(resources))

    def send_stack(self, request: analyzer_pb2.AnalyzeStackRequest) -> list[Diagnostic]:
        return _diagnostics(self._stub.AnalyzeStack(request))


class PolicyPackProcess(PackClient):
    """A started pack. Use as a context manager; the process is always stopped."""

    def __init__(
        self,
        pack_dir: Path | None = None,
        python: str = sys.executable,
        env: Mapping[str, str] | None = None,
    ) -> None:
        """``env``: variables set for the pack on top of this process's environment."""
        directory = locate_pack(pack_dir)
        if python == sys.executable and not extras.installed("pulumi_policy"):
            raise PackError(extras.missing("pulumi_policy", "the preflight's va-guard check"))
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", **(env or {})}
        self._proc = subprocess.Popen(
            [python, "-u", "-m", "pulumi.policy", "127.0.0.1:0", str(directory)],
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=env,
        )
        try:
            self.port = self._read_port()
            self._channel = grpc.insecure_channel(f"127.0.0.1:{self.port}")
            grpc.channel_ready_future(self._channel).result(timeout=START_TIMEOUT_S)
            super().__init__(analyzer_pb2_grpc.AnalyzerStub(self._channel))
        except BaseException:
            self.close()
            raise

    def _read_port(self) -> int:
        assert self._proc.stdout is not None
        with selectors.DefaultSelector() as sel:
            sel.register(self._proc.stdout, selectors.EVENT_READ)
            ready = sel.select(timeout=START_TIMEOUT_S)
        line = self._proc.stdout.readline().decode().strip() if ready else ""
        if not line.isdigit():
            raise PackError(f"the policy pack did not print its port: {line!r}\n{self.stderr()}")
        return int(line)

    def stderr(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")

    def __enter__(self) -> PolicyPackProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        channel = getattr(self, "_channel", None)
        if channel is not None:
            channel.close()
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        if self._proc.stdout is not None:
            self._proc.stdout.close()
        self._stderr.close()


def analyze_request(r: Subject) -> analyzer_pb2.AnalyzeRequest:
    request = analyzer_pb2.AnalyzeRequest(
        type=r.type,
        name=r.name,
        urn=r.urn,
        properties=to_struct(r.props),
        options=r.options_message(),
    )
    if r.provider is not None:
        request.provider.CopyFrom(_provider_message(r.provider))
    return request


def analyze_stack_request(resources: Iterable[Subject]) -> analyzer_pb2.AnalyzeStackRequest:
    request = analyzer_pb2.AnalyzeStackRequest()
    for r in resources:
        message = analyzer_pb2.AnalyzerResource(
            type=r.type,
            name=r.name,
            urn=r.urn,
            properties=to_struct(r.props),
            parent=r.parent,
            dependencies=list(r.dependencies),
            options=r.options_message(),
        )
        for key, urns in r.property_dependencies.items():
            message.propertyDependencies[key].urns.extend(urns)
        if r.provider is not None:
            message.provider.CopyFrom(_provider_message(r.provider))
        request.resources.append(message)
    return request
