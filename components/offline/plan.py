"""``make plan``: what ``pulumi up`` would create for a stack, offline.

Runs the program under mocks with ``Pulumi.<stack>.yaml`` and prints the resource tree (type,
logical name, physical name) and the stack outputs. No Pulumi CLI, no cloud account. Exit 1 when
the program fails (e.g. a config error), with its message and no tree.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict

from rich.console import Console
from rich.markup import escape
from rich.tree import Tree

from components.offline.mocks import Recorded, physical_name_of
from components.offline.runner import Run, run_program


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default="dev", help="stack name (Pulumi.<stack>.yaml)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    args = parser.parse_args(argv)
    console = Console(highlight=False, emoji=False, width=None if sys.stdout.isatty() else 200)
    try:
        run = run_program(args.stack)
    except FileNotFoundError as exc:
        console.print(f"[red]error:[/red] {exc}")
        return 1
    for line in run.logs:
        print(line, file=sys.stderr)
    if run.error is not None:
        console.print(f"[red]error:[/red] the program stopped: {run.error}")
        return 1
    if args.json:
        resources = [
            {"type": r.type, "name": r.name, "physicalName": physical_name_of(r.type, r.inputs),
             "parent": r.parent_type}
            for r in run.resources
        ]  # fmt: skip
        print(json.dumps({"stack": run.stack, "resources": resources, "outputs": run.outputs}))
        return 0
    console.print(resource_tree(run))
    console.print("[bold]outputs[/bold]")
    console.print_json(data=run.outputs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
