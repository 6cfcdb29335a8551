"""Run ``__main__.py`` under mocks with a stack's config, the way the Pulumi CLI would.

The CLI hands a program its config as flat ``namespace:key`` strings (lists and objects as JSON)
and marks which keys are secret; this does the same from ``Pulumi.<stack>.yaml``, then runs the
program inside a root Stack so exports become stack outputs. Nothing here talks to a cloud.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import os
import runpy
import sys
import sysconfig
import traceback
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import pulumi
import yaml
from pulumi.config import ConfigTypeError
from pulumi.output import Output, _OutputData
from pulumi.runtime import resource as pulumi_resource
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.proto import source_pb2
from pulumi.runtime.stack import run_in_stack
from pulumi.runtime.sync_await import _sync_await

from .mocks import (
    DEFAULT_ORGANIZATION,
    REGION,
    Mode,
    Recorded,
    RecordingMonitor,
    VaMocks,
    account_of,
)


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


class ProgramError(Exception):
    """A program that cannot be run as given: the message is one line for its author."""


class ApplyFailedError(Exception):
    """An ``apply`` of the program raised once its values were known: ``original`` is what
    it raised, with the program's own frames (the SDK re-raises it without them)."""

    def __init__(self, original: BaseException) -> None:
        super().__init__(str(original))
        self.original = original


# What a secret config value stands for offline (its ciphertext cannot be decrypted without
# the stack's key), by the type Pulumi.yaml declares for it.
SECRET_PLACEHOLDER = "offline-placeholder"
SECRET_PLACEHOLDERS = {
    "string": SECRET_PLACEHOLDER,
    "integer": "1",
    "boolean": "false",
    "array": "[]",
    "object": "{}",
}
_CONFIG_TYPE_NAMES = {"int": "integer", "bool": "boolean", "float": "integer",
                      "JSON object": "object"}  # fmt: skip


def _load_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ProgramError(f"{where}: not valid YAML: {problem}") from None
    except OSError as exc:
        raise ProgramError(f"{path}: {exc.strerror}") from None
    if not isinstance(data, dict):
        raise ProgramError(f"{path}: expected a mapping of keys, found {type(data).__name__}")
    return data


def project_name(root: Path | None = None) -> str:
    root = root or Path.cwd()
    return str(_load_yaml(root / "Pulumi.yaml").get("name") or root.name)


def stack_config(stack: str, root: Path | None = None) -> dict[str, Any]:
    root = root or Path.cwd()
    path = root / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        stacks = sorted(p.name.split(".")[1] for p in root.glob("Pulumi.*.yaml"))
        raise FileNotFoundError(f"no stack file {path.name}; stacks here: {', '.join(stacks)}")
    return dict(_load_yaml(path).get("config") or {})


@dataclass(frozen=True)
class Program:
    """A Pulumi Python program as the CLI finds it: the project is the nearest ``Pulumi.yaml``
    at or above the given path; a directory runs its ``Pulumi.yaml``'s ``main`` or its
    ``__main__.py``, with the directory on ``sys.path``."""

    main: Path
    root: Path
    project: str
    # Where pulumi runs the program: the directory of Pulumi.yaml's ``main`` when that is a
    # directory, else the project's.
    workdir: Path | None = None

    @classmethod
    def locate(cls, path: Path) -> Program:
        path = path.resolve()
        if not path.exists():
            raise ProgramError(f"no program at {path}")
        start = path if path.is_dir() else path.parent
        root = next((d for d in (start, *start.parents) if (d / "Pulumi.yaml").is_file()), None)
        project = _load_yaml(root / "Pulumi.yaml") if root else {}
        runtime = project.get("runtime", "python")
        runtime = runtime.get("name") if isinstance(runtime, dict) else runtime
        if runtime != "python":
            raise ProgramError(
                f"{root}/Pulumi.yaml: runtime is {runtime!r}; the preflight runs Python programs"
            )
        main = path
        if path.is_dir():
            main = path / str(project.get("main") or "") if root == path else path
            main = main / "__main__.py" if main.is_dir() else main
        if not main.is_file():
            raise ProgramError(f"{main} does not exist: a Python program needs a __main__.py")
        root = root or start
        declared = root / str(project.get("main") or "")
        workdir = declared if project.get("main") and declared.is_dir() else root
        return cls(main, root, str(project.get("name") or root.name), workdir)

    def _project(self) -> dict[str, Any]:
        path = self.root / "Pulumi.yaml"
        return _load_yaml(path) if path.is_file() else {}

    def virtualenv(self) -> tuple[Path | None, bool]:
        """(the program's virtualenv, whether Pulumi.yaml names it): ``runtime.options.
        virtualenv`` (relative to the project), else a ``venv`` or ``.venv`` beside it."""
        runtime = self._project().get("runtime")
        options = runtime.get("options") if isinstance(runtime, dict) else None
        named = options.get("virtualenv") if isinstance(options, dict) else None
        if isinstance(named, str) and named:
            return (self.root / named).resolve(), True
        for candidate in ("venv", ".venv"):
            if (self.root / candidate / "pyvenv.cfg").is_file():
                return (self.root / candidate).resolve(), False
        return None, False

    def config_types(self) -> dict[str, str]:
        """The types Pulumi.yaml declares for config keys (``key: {type: integer}``), by full
        key: what a secret's placeholder must be offline."""
        declared = self._project().get("config") or {}
        return {
            key if ":" in key else f"{self.project}:{key}": str(value["type"])
            for key, value in declared.items()
            if isinstance(value, dict) and isinstance(value.get("type"), str)
        }

    def config(self, stack: str) -> dict[str, Any]:
        """``Pulumi.<stack>.yaml``'s config over the project's own values (``key: value`` or
        ``{value: ...}`` in ``Pulumi.yaml``); keys without a namespace belong to the project.
        A directory with no stack file at all runs with the project's config alone."""
        project_values = {
            key: value["value"] if isinstance(value, dict) else value
            for key, value in (_load_yaml(self.root / "Pulumi.yaml").get("config") or {}).items()
            if not isinstance(value, dict) or "value" in value
        } if (self.root / "Pulumi.yaml").is_file() else {}  # fmt: skip
        has_stacks = any(self.root.glob("Pulumi.*.yaml"))
        try:
            values = stack_config(stack, self.root) if has_stacks else {}
        except FileNotFoundError as exc:
            raise ProgramError(f"{self.root}: {exc}") from None
        merged = {**project_values, **values}
        return {key if ":" in key else f"{self.project}:{key}": v for key, v in merged.items()}

    def describe(self, error: BaseException) -> str:
        """The error in one line, with the program's own line that raised it."""
        suffix = ""
        if isinstance(error, ApplyFailedError):
            error = error.original
            suffix = (
                " (raised in an apply, on the values the preflight stands in for what AWS "
                "returns: they have AWS's formats, not its contents)"
            )
        text = " ".join(str(error).split()) or type(error).__name__
        if isinstance(error, SyntaxError):
            return f"{error.filename}:{error.lineno}: SyntaxError: {error.msg}"
        frames = [
            f for f in traceback.extract_tb(error.__traceback__)
            if Path(f.filename).resolve().is_relative_to(self.root)
            and ".venv" not in f.filename and "site-packages" not in f.filename
        ]  # fmt: skip
        where = f"{frames[-1].filename}:{frames[-1].lineno}: " if frames else ""
        site = getattr(error, APPLY_SITE, None)
        if not frames and site is not None and Path(site[0]).resolve().is_relative_to(self.root):
            where = f"{site[0]}:{site[1]}: "
        kind = "" if isinstance(error, ProgramError) else f"{type(error).__name__}: "
        return f"{where}{kind}{text}{suffix}"


@contextmanager
def _on_sys_path(directory: Path) -> Iterator[None]:
    """``directory`` first on sys.path for one run, and the modules imported from it forgotten
    afterwards: a module that declares resources when imported must declare them again in the
    next run (the other mode), as each ``pulumi preview``/``up`` is a fresh interpreter."""
    entry = str(directory)
    before = set(sys.modules)
    sys.path.insert(0, entry)
    try:
        yield
    finally:
        if entry in sys.path:
            sys.path.remove(entry)
        root = directory.resolve()
        for name in set(sys.modules) - before:
            origin = Path(getattr(sys.modules.get(name), "__file__", None) or "/").resolve()
            if origin.is_relative_to(root) and "site-packages" not in origin.parts:
                del sys.modules[name]


@contextmanager
def _in_directory(directory: Path | None) -> Iterator[None]:
    """The program runs from its own directory, as under pulumi (``open("index.html")``)."""
    if directory is None:
        yield
        return
    before = Path.cwd()
    os.chdir(directory)
    try:
        yield
    finally:
        os.chdir(before)


def flatten_config(
    config: Mapping[str, Any], types: Mapping[str, str] | None = None
) -> tuple[dict[str, str], list[str]]:
    """Config as the CLI passes it: strings (JSON for structures); ``secure:`` keys are secret.
    ``types``: the types Pulumi.yaml declares, by full key (a secret's placeholder takes its
    declared type)."""
    flat: dict[str, str] = {}
    secret: list[str] = []
    for key, value in config.items():
        if isinstance(value, dict) and set(value) == {"secure"}:
            # Ciphertext from a real stack cannot be decrypted offline; stand in a value of
            # the declared type, else a marker string.
            declared = (types or {}).get(key, "string")
            flat[key] = SECRET_PLACEHOLDERS.get(declared, SECRET_PLACEHOLDER)
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
    program: Path | Program | None = None,
    mode: Mode = "update",
    stack_references: Mapping[str, Mapping[str, Any]] | None = None,
    invokes: Mapping[str, Mapping[str, Any]] | None = None,
) -> Run:
    """Run ``program`` (a path, see ``Program.locate``; by default the working directory's)
    under mocks, from its own directory; ``config`` replaces the stack file's config when
    given.

    ``secrets`` are extra ``namespace:key`` values set as secret config, the way
    ``pulumi config set --secret`` would. Program errors are captured in ``Run.error``.
    """
    located = program if isinstance(program, Program) else Program.locate(program or Path.cwd())
    raw = dict(located.config(stack) if config is None else config)
    main = str(located.main)
    with _on_sys_path(located.main.parent), _in_directory(located.workdir):
        return run_under_mocks(
            lambda: runpy.run_path(main, run_name="__main__"),
            stack=stack,
            config=raw,
            secrets=secrets,
            mode=mode,
            project=located.project,
            stack_references=stack_references,
            invokes=invokes,
            config_types=located.config_types(),
        )


def run_under_mocks(
    build: Callable[[], object],
    *,
    stack: str = "dev",
    config: Mapping[str, Any] | None = None,
    secrets: Mapping[str, str] | None = None,
    mode: Mode = "update",
    project: str | None = None,
    stack_references: Mapping[str, Mapping[str, Any]] | None = None,
    invokes: Mapping[str, Mapping[str, Any]] | None = None,
    config_types: Mapping[str, str] | None = None,
) -> Run:
    """Call ``build`` (which declares resources) under recording mocks and wait for every RPC,
    so the recorded inputs are fully resolved when this returns.

    ``mode``: "update" (every output known, as after ``pulumi up``) or "preview" (the first
    preview of a fresh stack: computed outputs unknown; see ``preflight.mocks``).
    ``stack_references``: ``org/project/stack`` -> outputs, for the program's StackReferences.
    ``invokes``: data source token -> its result (``--invokes``).
    ``config_types``: the types Pulumi.yaml declares for config keys, by full key.
    """
    project = project or project_name()
    flat, secret_keys = flatten_config(config or {}, config_types)
    undecrypted = {k for k in secret_keys if flat[k] == SECRET_PLACEHOLDER}
    for key, value in (secrets or {}).items():
        flat[key] = value
        secret_keys.append(key)
        undecrypted.discard(key)
    pulumi.runtime.set_all_config(flat, secret_keys)
    region = flat.get("aws:region") or REGION
    mocks = VaMocks(mode, stack_references, account_of(flat), region, invokes)
    monitor = RecordingMonitor(mocks)
    logs = _LogCollector()
    pulumi.runtime.set_mocks(
        mocks,
        project=project,
        stack=stack,
        preview=mode == "preview",
        monitor=monitor,
        logger=logs.logger,
        # What ``pulumi.get_organization()`` answers on a backend that has none: never None.
        organization=DEFAULT_ORGANIZATION,
    )
    # set_mocks installs (and finishes) a root stack; the program needs a fresh one whose
    # outputs are registered when it ends, as under the CLI.
    pulumi_settings.ROOT.set(None)
    # As the Pulumi language host does: a failed input leaves the futures of every resource
    # built on it unretrieved, and asyncio would log each one on stderr when it is collected.
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)
    error: BaseException | None = None
    # The SDK walks and reads the Python stack on every registration so the engine can point
    # diagnostics at source lines; offline nothing reads it, and it is a seventh of the run.
    saved = pulumi_resource._get_stack_trace
    pulumi_resource._get_stack_trace = source_pb2.StackTrace
    # Every object a run creates lives until the run ends, so cyclic collection finds nothing
    # and only rescans a growing heap (a third of the time at 500 functions). Paused for the run.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    failed_applies: list[BaseException] = []
    saved_apply = Output.apply
    Output.apply = _recording_apply(saved_apply, failed_applies)  # type: ignore[method-assign]
    saved_call = pulumi.runtime.call
    pulumi.runtime.call = _component_methods_unknown(saved_call, mocks.invokes)
    try:
        _sync_await(run_in_stack(lambda: _call(build)))
    except SystemExit as exc:
        # sys.exit(0) ends a program normally: what it registered is still the plan. Any other
        # code is the program failing.
        if exc.code not in (0, None):
            error = RuntimeError(f"the program called sys.exit({exc.code!r})")
    except Exception as exc:  # noqa: BLE001 - reported to the caller, who decides
        error = exc
    finally:
        Output.apply = saved_apply  # type: ignore[method-assign]
        pulumi.runtime.call = saved_call
        pulumi_resource._get_stack_trace = saved
        if gc_was_enabled:
            gc.enable()
    if error is not None:
        error = _explained(error, failed_applies, undecrypted)
    if mocks.problems:  # the cause of whatever else went wrong
        error = ProgramError("; ".join(dict.fromkeys(mocks.problems)))
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


def _recording_apply(
    apply: Callable[..., Output[Any]], failures: list[BaseException]
) -> Callable[..., Output[Any]]:
    """``Output.apply`` that notes what a function given to it raises: the SDK re-raises it
    from the registration it was an input of, without the program's own frames. It also notes
    where the apply was made (``APPLY_SITE`` on the exception): an attribute or item read
    through an Output (``service.status.load_balancer``) is an apply of the SDK's own, whose
    frames name no line of the program."""

    def recorded_apply(self: Output[Any], func: Callable[..., Any], *args: Any, **kwargs: Any
                       ) -> Output[Any]:  # fmt: skip
        site = _program_frame(sys._getframe(1))

        def noted(*values: Any) -> Any:
            try:
                return func(*values)
            except Exception as exc:
                if site is not None:
                    setattr(exc, APPLY_SITE, site)
                failures.append(exc)
                raise

        return apply(self, noted, *args, **kwargs)

    return recorded_apply


# Set on an exception raised in an apply: (file, line) of the code that made the apply.
APPLY_SITE = "_va_preflight_apply_site"
# Frames that are not the program's: the SDKs, this package, the standard library.
_NOT_PROGRAM = tuple(
    str(Path(p).resolve())
    for p in {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["stdlib"],
              os.path.dirname(pulumi.__file__), os.path.dirname(os.path.dirname(__file__))}
)  # fmt: skip


def _program_frame(frame: FrameType | None) -> tuple[str, int] | None:
    """The innermost frame outside the SDKs, this package and the standard library."""
    while frame is not None:
        name = frame.f_code.co_filename
        if not name.startswith(_NOT_PROGRAM) and "site-packages" not in name:
            return name, frame.f_lineno
        frame = frame.f_back
    return None


def _component_methods_unknown(
    call: Callable[..., Output[Any]], invokes: Mapping[str, Any]
) -> Callable[..., Output[Any]]:
    """``pulumi.runtime.call`` for which a method of a multi-language component not expanded
    here (pulumi_eks's ``Cluster.get_kubeconfig``) is unknown in both modes, as the component's
    outputs are (only its provider answers it; the report says the component was not checked),
    unless ``--invokes`` answers it. An unknown Output, not a value: the SDK would build the
    method's typed result from a value and refuse a placeholder of the wrong type."""

    def answered(tok: str, props: Any, res: Any = None, *args: Any, **kwargs: Any) -> Output[Any]:
        if res is None or not getattr(res, "_remote", False) or tok in invokes:
            return call(tok, props, res, *args, **kwargs)
        data: asyncio.Future[_OutputData[Any]] = asyncio.get_event_loop().create_future()
        data.set_result(_OutputData(resources={res}, value=None, is_known=False, is_secret=False))
        return Output._from_data(data)

    return answered


def _explained(
    error: BaseException, failed_applies: list[BaseException], undecrypted: set[str]
) -> BaseException:
    """An error the program raised, said in the program's terms: a typed read of a secret the
    preflight could not decrypt; the apply that raised it."""
    if isinstance(error, ConfigTypeError) and error.key in undecrypted:
        expected = _CONFIG_TYPE_NAMES.get(error.expect_type, error.expect_type)
        short = error.key.split(":", 1)[1]
        explained = ProgramError(
            f"secret config {error.key!r} is read as {error.expect_type!r}, but its ciphertext "
            f"cannot be decrypted offline and Pulumi.yaml declares no type for it: declare its "
            f"type in Pulumi.yaml (config: {{{short}: {{type: {expected}, secret: true}}}}) and "
            f"the preflight stands in a value of that type"
        )
        return explained.with_traceback(error.__traceback__)
    text = str(error)
    for failure in reversed(failed_applies):
        if str(failure) and str(failure) in text:
            return ApplyFailedError(failure)
    return error


def _call(build: Callable[[], object]) -> None:
    """``build`` returns whatever the program's last expression is; the SDK's stack runner
    takes a function returning None (or an awaitable), so the value is dropped here."""
    build()
