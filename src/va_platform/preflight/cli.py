"""``make plan``: what ``pulumi up`` would create for a stack and what va-guard says, offline.

Runs the program under mocks with ``Pulumi.<stack>.yaml``, prints the resource tree (type,
logical name, physical name) and the stack outputs, then feeds every resource to the va-guard
policy pack over its gRPC interface (the preflight) in both modes the engine has: the first
preview of a fresh stack (ids, ARNs and whatever is built from them unknown) and the update
(every output known). Prints per mode the resources, unknown values, violations by policy, the
exemptions used and the notices. No Pulumi CLI, no cloud account. Exit 1 when the program cannot
run (one line, no traceback) or the pack reports a mandatory violation in either mode.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.tree import Tree

from .analyzer import PackError, PolicyPackProcess
from .engine import (
    PackConfigError,
    Report,
    load_pack_config,
    pack_config_problems,
    preflight,
    report_json,
)
from .mocks import MODES, NAME_PROPERTY, UNKNOWN, Mode, Recorded, physical_name_of
from .review import (
    change_text,
    plan_inputs,
    ref_plan_inputs,
    settings,
    settings_lines,
)
from .review import diff as review_diff
from .runner import Program, ProgramError, Run, run_program

KNOWN_AFTER_APPLY = "(known after apply)"
MODE_TITLES = {
    "preview": "first preview of a fresh stack (ids, ARNs unknown)",
    "update": "update (every output known)",
}


def shown(value: Any) -> Any:
    """A value for people: unknowns as ``(known after apply)``."""
    if value == UNKNOWN:
        return KNOWN_AFTER_APPLY
    if isinstance(value, dict):
        return {k: shown(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shown(v) for v in value]
    return value


def _label(r: Recorded) -> str:
    style = "bold" if r.custom else "bold cyan"
    text = f"[{style}]{escape(r.name)}[/{style}] [dim]{escape(r.type)}[/dim]"
    physical = physical_name_of(r.type, r.inputs)
    tags = r.inputs.get("tags")
    if physical:
        text += f"  [green]{escape(physical)}[/green]"
    elif r.inputs.get(NAME_PROPERTY.get(r.type, "name")) == UNKNOWN:
        text += f"  [dim green]{KNOWN_AFTER_APPLY}[/dim green]"
    elif isinstance(tags, dict) and isinstance(tags.get("Name"), str):
        text += f"  [dim green](Name {escape(shown(tags['Name']))})[/dim green]"
    return text


def resource_tree(run: Run) -> Tree:
    children: dict[str, list[Recorded]] = defaultdict(list)
    for r in run.resources:
        children[r.parent].append(r)
    known = {r.urn for r in run.resources}
    root = Tree(f"[bold]stack {run.stack}[/bold] ({len(run.resources)} resources)")

    def add(node: Tree, parent_urn: str) -> None:
        for r in sorted(children.get(parent_urn, []), key=lambda x: (x.custom, x.name)):
            child = node.add(_label(r))
            for line in settings_lines(r):
                child.add(f"[dim]{escape(line)}[/dim]")
            add(child, r.urn)

    for parent in children:
        if parent not in known:  # the stack itself
            add(root, parent)
    return root


def _resource(urn: str) -> str:
    return urn.rsplit("::", 1)[-1] if urn else "(stack)"


def summary(report: Report) -> str:
    """One line per mode: what was sent and what the pack said."""
    return (
        f"{report.checked} resources, {report.unknown_inputs} unknown input values "
        f"({report.unknown_outputs} in the stack view), {len(report.mandatory)} mandatory "
        f"violations, {len(report.advisory)} advisories"
    )


def print_report(console: Console, report: Report) -> None:
    console.print(f"[bold]va-guard, {MODE_TITLES[report.mode]}[/bold]: {summary(report)}")
    for policy, found in report.by_policy("mandatory").items():
        console.print(f"[red bold]{escape(policy)}[/red bold] (mandatory)")
        for d in found:
            console.print(f"  [bold]{escape(_resource(d.urn))}[/bold]: {escape(d.detail)}")
    for policy, found in report.by_policy("advisory").items():
        exemptions = [d for d in found if "exemption used" in d.detail]
        others = [d for d in found if d not in exemptions]
        for title, items in (("exemptions used", exemptions), ("advisory", others)):
            if items:
                console.print(f"[yellow bold]{escape(policy)}[/yellow bold] ({title})")
            for d in items:
                console.print(f"  [bold]{escape(_resource(d.urn))}[/bold]: {escape(d.detail)}")


def print_diff(console: Console, args: argparse.Namespace) -> int:
    """``--diff REF``: exit 0 with a one-line summary first, whatever changed."""
    try:
        program = Program.locate(Path(args.program))
        repo = _git_root(program.main.parent)
        old = ref_plan_inputs(repo, args.diff, program.main, args.stack)
        new = plan_inputs(program.main, args.stack, repo)
    except ProgramError as exc:
        return _fail(console, args.json, str(exc))
    changes = review_diff(old, new)
    if args.json:
        print(json.dumps({"summary": changes.summary(args.diff), **changes.as_json()}))
        return 0
    console.print(changes.summary(args.diff))
    for title, urns, style in (("add", changes.added, "green"), ("remove", changes.removed, "red")):
        for urn in urns:
            console.print(f"  [{style}]{title}[/{style}] {escape(_resource_urn(urn))}")
    for urn, props in changes.changed.items():
        console.print(f"  [yellow]change[/yellow] {escape(_resource_urn(urn))}")
        for prop, (before, after) in props.items():
            console.print(f"      {escape(prop)}: {escape(change_text(before, after))}")
    return 0


def _resource_urn(urn: str) -> str:
    """``type::name`` of a URN: enough to find it, short enough to read."""
    parts = urn.split("::")
    return f"{parts[-2].split('$')[-1]}::{parts[-1]}" if len(parts) >= 2 else urn


def _git_root(directory: Path) -> Path:
    proc = subprocess.run(
        ["git", "rev-parse", "--show-toplevel"],
        cwd=directory, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if proc.returncode != 0:
        raise ProgramError(f"--diff needs a git checkout; {directory} is not in one")
    return Path(proc.stdout.strip())


def load_stack_references(path: str | None) -> dict[str, dict[str, Any]]:
    """``--stack-references``: other stacks' outputs by ``org/project/stack``."""
    if not path:
        return {}
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ProgramError(f"--stack-references {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        where = f"{path}:{exc.lineno}"
        raise ProgramError(f"--stack-references {where}: not JSON ({exc.msg})") from None
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise ProgramError(
            f'--stack-references {path}: expected {{"org/project/stack": {{output: value}}}}'
        )
    return data


def _fail(console: Console, as_json: bool, message: str) -> int:
    """Each problem on one line of its own, never a traceback; as JSON with ``--json``."""
    if as_json:
        print(json.dumps({"error": message, "problems": message.splitlines()}))
    else:
        for line in message.splitlines():
            console.print(f"[red]error:[/red] {escape(line)}", soft_wrap=True)
    return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--stack", default="dev", help="stack name (Pulumi.<stack>.yaml)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument(
        "--policy-config", help="va-guard config JSON, as for `pulumi policy enable --config`"
    )
    parser.add_argument("--no-policies", action="store_true", help="skip the va-guard preflight")
    parser.add_argument(
        "--mode",
        choices=[*MODES, "both"],
        default="both",
        help="what the pack is shown: a fresh stack's first preview, an update, or both (default)",
    )
    parser.add_argument(
        "--program",
        default=".",
        help="a Pulumi Python program: its directory (with Pulumi.yaml) or file "
        "(default: the working directory)",
    )
    parser.add_argument(
        "--stack-references",
        metavar="FILE",
        help='JSON {"org/project/stack": {output: value}} for the program\'s StackReferences '
        "(unknown in the first preview when not given; the update needs them)",
    )
    parser.add_argument(
        "--policy-pack",
        metavar="DIR",
        help="the va-guard pack's directory (default: $VA_GUARD_PACK, else ./policies)",
    )
    parser.add_argument(
        "--diff",
        metavar="REF",
        help="compare the plan of a git ref (e.g. origin/main) with the working tree's: "
        "resources added, removed and changed, each changed input old -> new",
    )
    args = parser.parse_args(argv)
    # A CI log is read in a browser: never hard-wrap it (a cut name reads as another name).
    console = Console(highlight=False, emoji=False, width=None if sys.stdout.isatty() else 100_000)
    if args.diff:
        return print_diff(console, args)
    modes: list[Mode] = list(MODES) if args.mode == "both" else [args.mode]
    try:
        program = Program.locate(Path(args.program))
        config = program.config(args.stack)
        pack_config = load_pack_config(args.policy_config)
        references = load_stack_references(args.stack_references)
    except (ProgramError, PackConfigError) as exc:
        return _fail(console, args.json, str(exc))
    runs: dict[Mode, Run] = {}
    logged: set[str] = set()
    for mode in modes:
        run = run_program(
            args.stack, program=program, config=config, mode=mode, stack_references=references
        )
        for line in run.logs:  # the program says the same in both modes: once is enough
            if line not in logged:
                print(line, file=sys.stderr)
                logged.add(line)
        if run.error is not None:
            problem = program.describe(run.error)
            return _fail(console, args.json, f"the program stopped ({mode}): {problem}")
        runs[mode] = run
    reports: dict[Mode, Report] = {}
    if not args.no_policies:
        try:
            with PolicyPackProcess(args.policy_pack) as pack:
                problems = pack_config_problems(
                    pack_config, pack.info().policies, args.policy_config or ""
                )
                if problems:
                    return _fail(console, args.json, "\n".join(problems))
                reports = {mode: preflight(run, pack_config, pack) for mode, run in runs.items()}
        except PackError as exc:
            return _fail(console, args.json, str(exc).splitlines()[0])
    failed = any(report.mandatory for report in reports.values())
    shown_run = runs[modes[0]]
    if args.json:
        resources = [
            {"urn": r.urn, "type": r.type, "name": r.name,
             "physicalName": physical_name_of(r.type, r.inputs), "parent": r.parent,
             "settings": settings(r)}
            for r in shown_run.resources
        ]  # fmt: skip
        document: dict[str, Any] = {"stack": args.stack, "program": str(program.main),
                                    "resources": resources}  # fmt: skip
        document["modes"] = {
            mode: {"outputs": shown(run.outputs),
                   **({"policy": report_json(reports[mode])} if mode in reports else {})}
            for mode, run in runs.items()
        }  # fmt: skip
        print(json.dumps(document))
        return 1 if failed else 0
    console.print(resource_tree(shown_run))
    console.print(f"[bold]outputs[/bold] ({MODE_TITLES[shown_run.mode]})")
    console.print_json(data=shown(shown_run.outputs))
    for report in reports.values():
        print_report(console, report)
    return 1 if failed else 0


def console_main() -> None:
    """The ``va-preflight`` console script."""
    sys.exit(main())
