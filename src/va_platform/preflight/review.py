"""What a reviewer reads in a plan: the settings that matter per resource, and the difference
between the plan of a git ref and the working tree.

A resource's full inputs are too much to read (a function has forty); these are the ones a
review turns on: sizes and limits, the runtime, env var *names* (values never), each IAM
statement's actions and resources, alarm thresholds, retention, triggers. The diff compares every
input, with secrets masked as the recorder already keeps them (``[secret]``).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pulumi

from .mocks import UNKNOWN, Recorded
from .runner import Program, ProgramError, Run, run_program

KNOWN_AFTER_APPLY = "(known after apply)"


def comparable(value: Any, root: str = "") -> Any:
    """A value as plain data: assets and archives by their path, unknowns as one marker, JSON
    documents (policies, patterns) parsed so a diff names the statement that changed, and paths
    under ``root`` (the checkout) relative to it, so two checkouts compare equal."""
    if isinstance(value, Mapping):
        return {str(k): comparable(v, root) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [comparable(v, root) for v in value]
    if isinstance(value, pulumi.Asset | pulumi.Archive):
        value = f"file {getattr(value, 'path', '') or getattr(value, 'uri', '')}"
    if value == UNKNOWN:
        return KNOWN_AFTER_APPLY
    if isinstance(value, str):
        if value[:1] in "{[":
            document = _document(value)
            if isinstance(document, dict | list):
                return comparable(document, root)
        if root and root in value:
            return value.replace(root + "/", "").replace(root, ".")
    return value


def _document(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


def statements(policy: Any) -> list[str]:
    """``Sid: actions on resources``, one line per statement of an IAM document."""
    doc = _document(policy)
    if not isinstance(doc, Mapping):
        return [KNOWN_AFTER_APPLY] if policy == UNKNOWN else []
    found = doc.get("Statement", [])
    lines = []
    for st in found if isinstance(found, list) else [found]:
        if not isinstance(st, Mapping):
            continue
        actions = st.get("Action", st.get("NotAction", []))
        resources = st.get("Resource", st.get("Principal", []))
        lines.append(
            f"{st.get('Effect', '?')} {st.get('Sid', '')}: {_listed(actions)} on "
            f"{_listed(resources)}".replace(" : ", ": ")
        )
    return lines


def _listed(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(comparable(v)) for v in value)
    return str(comparable(value))


def _function(i: Mapping[str, Any]) -> dict[str, Any]:
    env = (i.get("environment") or {}).get("variables") or {}
    return {
        "memory MB": i.get("memorySize"),
        "timeout s": i.get("timeout"),
        "runtime": i.get("runtime") or i.get("packageType"),
        "architecture": ",".join(i.get("architectures") or []) or None,
        "reserved concurrency": i.get("reservedConcurrentExecutions"),
        "env (names)": sorted(env) if isinstance(env, Mapping) else KNOWN_AFTER_APPLY,
        "publish": i.get("publish"),
    }


# The resource types every program may hold; each trigger kind brings its own types' lines
# (va_platform.components.lambda_function.triggers, ``TriggerKind.plan``).
SETTINGS: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
    "aws:lambda/function:Function": _function,
    "aws:iam/rolePolicy:RolePolicy": lambda i: {"statements": statements(i.get("policy"))},
    "aws:iam/policy:Policy": lambda i: {"statements": statements(i.get("policy"))},
    "aws:iam/role:Role": lambda i: {"trust": statements(i.get("assumeRolePolicy"))},
    "aws:cloudwatch/metricAlarm:MetricAlarm": lambda i: {
        "metric": f"{i.get('namespace')}/{i.get('metricName')} {i.get('statistic')}",
        "threshold": i.get("threshold"),
        "period s": i.get("period"),
    },
    "aws:cloudwatch/logGroup:LogGroup": lambda i: {"retention days": i.get("retentionInDays")},
    "aws:lambda/eventSourceMapping:EventSourceMapping": lambda i: {
        "source": comparable(i.get("eventSourceArn")),
        "batch size": i.get("batchSize"),
    },
    "aws:lambda/permission:Permission": lambda i: {
        "principal": i.get("principal"),
        "source": comparable(i.get("sourceArn")),
    },
    "aws:sqs/queue:Queue": lambda i: {
        "retention s": i.get("messageRetentionSeconds"),
        "redrive": "yes" if i.get("redrivePolicy") else None,
    },
}


@cache
def _trigger_settings() -> dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]]:
    """The trigger kinds' plan lines, imported when first needed: importing the library with
    this module would make ``--diff REF`` plan REF's program with this checkout's library
    (ref_plan.py loads this module before REF's library is on ``sys.path``)."""
    from va_platform.components.lambda_function.triggers import TRIGGER_PLAN_LINES, PlanLines

    def shown_by_review(lines: PlanLines) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
        return lambda inputs: lines(inputs, comparable)

    return {type_: shown_by_review(lines) for type_, lines in TRIGGER_PLAN_LINES.items()}


def settings(r: Recorded) -> dict[str, Any]:
    """The reviewer's view of one resource; empty for types without one."""
    make = SETTINGS.get(r.type) or _trigger_settings().get(r.type)
    if make is None:
        return {}
    return {k: comparable(v) for k, v in make(r.inputs).items() if v not in (None, [], "")}


def settings_lines(r: Recorded) -> list[str]:
    lines = []
    for key, value in settings(r).items():
        if isinstance(value, list) and key in ("statements", "trust"):
            lines += [f"{key[:-1] if key.endswith('s') else key} {line}" for line in value]
        else:
            shown = ", ".join(map(str, value)) if isinstance(value, list) else value
            lines.append(f"{key}: {shown}")
    return lines


# --- the diff between two plans ---------------------------------------------------------------


@dataclass
class Diff:
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    # urn -> property -> (old, new)
    changed: dict[str, dict[str, tuple[Any, Any]]] = field(default_factory=dict)

    def summary(self, ref: str) -> str:
        if not (self.added or self.removed or self.changed):
            return f"plan against {ref}: no resource changes"
        return (
            f"plan against {ref}: {len(self.added)} to add, {len(self.changed)} to change, "
            f"{len(self.removed)} to remove"
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "removed": self.removed,
            "changed": {
                urn: {prop: {"old": old, "new": new} for prop, (old, new) in props.items()}
                for urn, props in self.changed.items()
            },
        }


def _flat(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Nested inputs as ``a.b[0].c`` paths, so a change names the leaf that changed. A list of
    plain values is one leaf (an added action is one change, not a shift of every index after
    it), and IAM statements are keyed by their Sid (``Statement[ReadQueue]``)."""
    if isinstance(value, Mapping) and value:
        for k, v in value.items():
            yield from _flat(v, f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(value, list) and value and any(isinstance(v, Mapping | list) for v in value):
        sids = [v.get("Sid") for v in value if isinstance(v, Mapping)]
        keyed = len(sids) == len(value) and all(sids) and len(set(sids)) == len(sids)
        for i, v in enumerate(value):
            yield from _flat(v, f"{prefix}[{v['Sid'] if keyed else i}]")
    else:
        yield prefix, value


def change_text(old: Any, new: Any) -> str:
    """``old -> new``; for two lists, what was added and removed."""
    if isinstance(old, list) and isinstance(new, list):
        added = [v for v in new if v not in old]
        removed = [v for v in old if v not in new]
        parts = [f"+{v!r}" for v in added] + [f"-{v!r}" for v in removed]
        return ", ".join(parts) or "reordered"
    return f"{old!r} -> {new!r}"


def flat_inputs(run: Run, root: str = "") -> dict[str, dict[str, Any]]:
    return {r.urn: dict(_flat(comparable(r.inputs, root))) for r in run.resources if r.custom}


def plan_inputs(program: Path, stack: str, root: Path) -> dict[str, dict[str, Any]]:
    """Every custom resource's inputs after an update (all known), as flat paths, with paths
    under ``root`` made relative to it."""
    run = run_program(stack, program=program, mode="update")
    if run.error is not None:
        raise ProgramError(f"the program stopped: {Program.locate(program).describe(run.error)}")
    return flat_inputs(run, str(root.resolve()))


def ref_plan_inputs(repo: Path, ref: str, program: Path, stack: str) -> dict[str, dict[str, Any]]:
    """The same for ``ref``, from a temporary worktree, in a fresh interpreter."""
    relative = program.resolve().relative_to(repo.resolve())
    with checkout(repo, ref) as tree:
        proc = subprocess.run(
            [sys.executable, str(Path(__file__).with_name("ref_plan.py")), str(tree),
             str(relative), stack],
            cwd=tree, capture_output=True, text=True, check=False,
        )  # fmt: skip
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise ProgramError(f"--diff {ref}: the plan of {ref} failed: {last}")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def diff(old: dict[str, dict[str, Any]], new: dict[str, dict[str, Any]]) -> Diff:
    result = Diff(added=sorted(set(new) - set(old)), removed=sorted(set(old) - set(new)))
    for urn in sorted(set(old) & set(new)):
        props = {
            key: (old[urn].get(key), new[urn].get(key))
            for key in sorted(set(old[urn]) | set(new[urn]))
            if old[urn].get(key) != new[urn].get(key)
        }
        if props:
            result.changed[urn] = props
    return result


@contextmanager
def checkout(repo: Path, ref: str) -> Iterator[Path]:
    """``ref`` in a temporary git worktree, removed afterwards whatever happens."""
    tmp = Path(tempfile.mkdtemp(prefix="va-plan-"))
    tree = tmp / "tree"
    try:
        proc = subprocess.run(
            ["git", "worktree", "add", "--detach", "--quiet", str(tree), ref],
            cwd=repo, capture_output=True, text=True, check=False,
        )  # fmt: skip
        if proc.returncode != 0:
            reason = (proc.stderr.strip().splitlines() or ["git failed"])[-1]
            raise ProgramError(f"--diff {ref}: cannot check it out ({reason})")
        yield tree
    finally:
        subprocess.run(
            ["git", "worktree", "remove", "--force", str(tree)],
            cwd=repo, capture_output=True, check=False,
        )  # fmt: skip
        shutil.rmtree(tmp, ignore_errors=True)
