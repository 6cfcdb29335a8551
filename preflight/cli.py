"""``make plan``: what ``pulumi up`` would create for a stack and what va-guard says, offline.

Runs the program under mocks with ``Pulumi.<stack>.yaml``, prints the resource tree (type,
logical name, physical name) and the stack outputs, then feeds every resource to the va-guard
policy pack over its gRPC interface (the preflight) and prints the violations by policy, the
exemptions used and the notices. No Pulumi CLI, no cloud account. Exit 1 when the program fails
(e.g. a config error) or the pack reports a mandatory violation.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.tree import Tree

from preflight.engine import Report, load_pack_config, preflight, report_json
from preflight.mocks import Recorded, physical_name_of
from preflight.runner import PROJECT_ROOT, Run, run_program


def _label(r: Recorded) -> str:
    style = "bold" if r.custom else "bold cyan"
    text = f"[{style}]{escape(r.name)}[/{style}] [dim]{escape(r.type)}[/dim]"
    physical = physical_name_of(r.type, r.inputs)
    tags = r.inputs.get("tags")
    if physical:
        text += f"  [green]{escape(physical)}[/green]"
    elif isinstance(tags, dict) and isinstance(tags.get("Name"), str):
        text += f"  [dim green](Name {escape(tags['Name'])})[/dim green]"
    return text


def resource_tree(run: Run) -> Tree:
    children: dict[str, list[Recorded]] = defaultdict(list)
    for r in run.resources:
        children[r.parent].append(r)
    known = {r.urn for r in run.resources}
    root = Tree(f"[bold]stack {run.stack}[/bold] ({len(run.resources)} resources)")

    def add(node: Tree, parent_urn: str) -> None:
        for r in sorted(children.get(parent_urn, []), key=lambda x: (x.custom, x.name)):
            add(node.add(_label(r)), r.urn)

    for parent in children:
        if parent not in known:  # the stack itself
            add(root, parent)
    return root


PROGRAM = PROJECT_ROOT / "__main__.py"


def _resource(urn: str) -> str:
    return urn.rsplit("::", 1)[-1] if urn else "(stack)"


def print_report(console: Console, report: Report) -> None:
    mandatory = report.by_policy("mandatory")
    console.print(
        f"[bold]va-guard[/bold]: {report.checked} resources checked, "
        f"{len(report.mandatory)} mandatory violations, {len(report.advisory)} advisories"
    )
    for policy, found in mandatory.items():
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default="dev", help="stack name (Pulumi.<stack>.yaml)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument(
        "--policy-config", help="va-guard config JSON, as for `pulumi policy enable --config`"
    )
    parser.add_argument("--no-policies", action="store_true", help="skip the va-guard preflight")
    parser.add_argument(
        "--program", default=str(PROGRAM), help="the Pulumi program (default: __main__.py)"
    )
    args = parser.parse_args(argv)
    console = Console(highlight=False, emoji=False, width=None if sys.stdout.isatty() else 200)
    try:
        run = run_program(args.stack, program=Path(args.program))
    except FileNotFoundError as exc:
        console.print(f"[red]error:[/red] {exc}")
        return 1
    for line in run.logs:
        print(line, file=sys.stderr)
    if run.error is not None:
        console.print(f"[red]error:[/red] the program stopped: {run.error}")
        return 1
    report = None if args.no_policies else preflight(run, load_pack_config(args.policy_config))
    failed = bool(report and report.mandatory)
    if args.json:
        resources = [
            {"type": r.type, "name": r.name, "physicalName": physical_name_of(r.type, r.inputs),
             "parent": r.parent_type}
            for r in run.resources
        ]  # fmt: skip
        document = {"stack": run.stack, "resources": resources, "outputs": run.outputs}
        if report is not None:
            document["policy"] = {"mandatory": len(report.mandatory),
                                  "diagnostics": report_json(report)}  # fmt: skip
        print(json.dumps(document))
        return 1 if failed else 0
    console.print(resource_tree(run))
    console.print("[bold]outputs[/bold]")
    console.print_json(data=run.outputs)
    if report is not None:
        print_report(console, report)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
