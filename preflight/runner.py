"""Run ``__main__.py`` under mocks with a stack's config, the way the Pulumi CLI would.

The CLI hands a program its config as flat ``namespace:key`` strings (lists and objects as JSON)
and marks which keys are secret; this does the same from ``Pulumi.<stack>.yaml``, then runs the
program inside a root Stack so exports become stack outputs. Nothing here talks to a cloud.
"""

from __future__ import annotations

import gc
import json
import logging
import runpy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pulumi.runtime import resource as pulumi_resource
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.proto import source_pb2
from pulumi.runtime.stack import run_in_stack
from pulumi.runtime.sync_await import _sync_await

from preflight.mocks import Mode, Recorded, RecordingMonitor, VaMocks

PROJECT_ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Run:
    """What a program run registered, and how it ended."""

    stack: str
    resources: list[Recorded]
    outputs: dict[str, Any]
    error: BaseException | None = None
    mode: Mode = "update"
    project: str = ""
    config: dict[str, str] = field(default_factory=dict)
    logs: list[str] = field(default_factory=list)
    registered_outputs: dict[str, dict[str, Any]] = field(default_factory=dict)

    def of_type(self, type_token: str) -> list[Recorded]:
        return [r for r in self.resources if r.type == type_token]

    def named(self, logical_name: str) -> Recorded:
        matches = [r for r in self.resources if r.name == logical_name]
        if len(matches) != 1:
            raise KeyError(f"{len(matches)} resources named {logical_name!r}")
        return matches[0]


def project_name(root: Path = PROJECT_ROOT) -> str:
    return str(yaml.safe_load((root / "Pulumi.yaml").read_text())["name"])


def stack_config(stack: str, root: Path = PROJECT_ROOT) -> dict[str, Any]:
    path = root / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        stacks = sorted(p.name.split(".")[1] for p in root.glob("Pulumi.*.yaml"))
        raise FileNotFoundError(f"no stack file {path.name}; stacks here: {', '.join(stacks)}")
    data = yaml.safe_load(path.read_text()) or {}
    return dict(data.get("config") or {})


def flatten_config(config: Mapping[str, Any]) -> tuple[dict[str, str], list[str]]:
    """Config as the CLI passes it: strings (JSON for structures); ``secure:`` keys are secret."""
    flat: dict[str, str] = {}
    secret: list[str] = []
    for key, value in config.items():
        if isinstance(value, dict) and set(value) == {"secure"}:
            # Ciphertext from a real stack cannot be decrypted offline; stand in a marker.
            flat[key] = "offline-placeholder"
            secret.append(key)
        elif isinstance(value, str):
            flat[key] = value
        else:
            flat[key] = json.dumps(value)
    return flat, secret


def run_program(
    stack: str,
    *,
    config: Mapping[str, Any] | None = None,
    secrets: Mapping[str, str] | None = None,
    program: Path = PROJECT_ROOT / "__main__.py",
    mode: Mode = "update",
) -> Run:
    """Run ``program`` under mocks; ``config`` replaces the stack file's config when given.

    ``secrets`` are extra ``namespace:key`` values set as secret config, the way
    ``pulumi config set --secret`` would. Program errors are captured in ``Run.error``.
    """
    raw = dict(stack_config(stack) if config is None else config)
    return run_under_mocks(
        lambda: runpy.run_path(str(program), run_name="__main__"),
        stack=stack,
        config=raw,
        secrets=secrets,
        mode=mode,
    )


def run_under_mocks(
    build: Callable[[], object],
    *,
    stack: str = "dev",
    config: Mapping[str, Any] | None = None,
    secrets: Mapping[str, str] | None = None,
    mode: Mode = "update",
    project: str | None = None,
) -> Run:
    """Call ``build`` (which declares resources) under recording mocks and wait for every RPC,
    so the recorded inputs are fully resolved when this returns.

    ``mode``: "update" (every output known, as after ``pulumi up``) or "preview" (the first
    preview of a fresh stack: computed outputs unknown; see ``preflight.mocks``).
    """
    project = project or project_name()
    flat, secret_keys = flatten_config(config or {})
    for key, value in (secrets or {}).items():
        flat[key] = value
        secret_keys.append(key)
    pulumi.runtime.set_all_config(flat, secret_keys)
    mocks = VaMocks(mode)
    monitor = RecordingMonitor(mocks)
    logs = _LogCollector()
    pulumi.runtime.set_mocks(
        mocks,
        project=project,
        stack=stack,
        preview=mode == "preview",
        monitor=monitor,
        logger=logs.logger,
    )
    # set_mocks installs (and finishes) a root stack; the program needs a fresh one whose
    # outputs are registered when it ends, as under the CLI.
    pulumi_settings.ROOT.set(None)
    error: BaseException | None = None
    # The SDK walks and reads the Python stack on every registration so the engine can point
    # diagnostics at source lines; offline nothing reads it, and it is a seventh of the run.
    saved = pulumi_resource._get_stack_trace
    pulumi_resource._get_stack_trace = source_pb2.StackTrace
    # Every object a run creates lives until the run ends, so cyclic collection finds nothing
    # and only rescans a growing heap (a third of the time at 500 functions). Paused for the run.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        _sync_await(run_in_stack(lambda: _call(build)))
    except Exception as exc:  # noqa: BLE001 - reported to the caller, who decides
        error = exc
    finally:
        pulumi_resource._get_stack_trace = saved
        if gc_was_enabled:
            gc.enable()
    return Run(
        stack=stack,
        resources=list(monitor.recorded),
        outputs=monitor.stack_outputs,
        error=error,
        config=flat,
        logs=logs.messages,
        registered_outputs=monitor.outputs_by_urn,
        mode=mode,
        project=project,
    )


def _call(build: Callable[[], object]) -> None:
    build()


class _LogCollector(logging.Handler):
    """Keeps the program's ``pulumi.log`` messages (the engine would show them as diagnostics)."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.messages: list[str] = []
        self.logger = logging.Logger("va.offline", level=logging.INFO)
        self.logger.propagate = False
        self.logger.addHandler(self)

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(f"{record.levelname.lower()}: {record.getMessage()}")
