"""``make plan``: what ``pulumi up`` would create for a stack and what va-guard says, offline.

Runs the program under mocks with ``Pulumi.<stack>.yaml``, prints the resource tree (type,
logical name, physical name) and the stack outputs, then feeds every resource to the va-guard
policy pack over its gRPC interface (the preflight) in both modes the engine has: the first
preview of a fresh stack (ids, ARNs and whatever is built from them unknown) and the update
(every output known). Prints per mode the resources, unknown values, violations by policy, the
exemptions used and the notices, or why the mode could not run (each mode runs whatever the
other does). No Pulumi CLI, no cloud account. The program runs from its own directory, with its
own virtualenv when it has one (this command re-executes itself there).

Exit 0: every mode passed. Exit 1: a mode could not run (one line, no traceback) or the pack
reports a mandatory violation. Exit 3 ("incomplete"): no mandatory violation in what was
checked, but multi-language components were not expanded, so their children were not judged.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
from collections import defaultdict
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.tree import Tree

from .analyzer import PackError, PolicyPackProcess, locate_pack
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
    """One line per mode: what was sent and what the pack said. A report that left components
    unexpanded never reads as "0 mandatory violations"."""
    sent = (
        f"{report.checked} resources, {report.unknown_inputs} unknown input values "
        f"({report.unknown_outputs} in the stack view), "
    )
    if report.verdict == "incomplete":
        return (
            f"{sent}INCOMPLETE: no mandatory violation in what was checked, "
            f"{len(report.advisory)} advisories"
        )
    return f"{sent}{len(report.mandatory)} mandatory violations, {len(report.advisory)} advisories"


def unexpanded_line(report: Report) -> str:
    """What a report did not check: the multi-language components, and so their children."""
    count = len(report.unexpanded)
    components = ", ".join(f"{r.type} {r.name}" for r in report.unexpanded)
    noun = "component" if count == 1 else "components"
    whose = "its children were" if count == 1 else "their children were"
    return (
        f"incomplete: {count} multi-language {noun} not expanded ({whose} not created here, "
        f"so not checked): {components}"
    )


def print_report(console: Console, report: Report) -> None:
    console.print(f"[bold]va-guard, {MODE_TITLES[report.mode]}[/bold]: {summary(report)}")
    if report.unexpanded:
        console.print(f"[yellow bold]{escape(unexpanded_line(report))}[/yellow bold]")
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


def _load_json_file(flag: str, path: str | None, shape: str) -> dict[str, dict[str, Any]]:
    """A ``{name: {key: value}}`` JSON file given to ``flag``; mistakes in one line."""
    if not path:
        return {}
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ProgramError(f"{flag} {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        where = f"{path}:{exc.lineno}"
        raise ProgramError(f"{flag} {where}: not JSON ({exc.msg})") from None
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise ProgramError(f"{flag} {path}: expected {shape}")
    return data


def load_stack_references(path: str | None) -> dict[str, dict[str, Any]]:
    """``--stack-references``: other stacks' outputs by ``org/project/stack``."""
    return _load_json_file("--stack-references", path, '{"org/project/stack": {output: value}}')


def load_invokes(path: str | None) -> dict[str, dict[str, Any]]:
    """``--invokes``: data sources' results by token (``aws:rds/getEngineVersion:...``)."""
    return _load_json_file("--invokes", path, '{"<data source token>": {output: value}}')


def _fail(console: Console, as_json: bool, message: str) -> int:
    """Each problem on one line of its own, never a traceback; as JSON with ``--json``."""
    if as_json:
        print(json.dumps({"error": message, "problems": message.splitlines()}))
    else:
        for line in message.splitlines():
            console.print(f"[red]error:[/red] {escape(line)}", soft_wrap=True)
    return 1


# --- the program's own interpreter -----------------------------------------------------------

# Set in the environment of a preflight that re-executed itself in the program's virtualenv.
REEXEC_ENV = "VA_PREFLIGHT_PROGRAM_VENV"


def _venv_python(venv: Path) -> Path:
    windows = venv / "Scripts" / "python.exe"
    return windows if windows.exists() else venv / "bin" / "python"


def _install_hint(python: Path) -> str:
    """How to install this library with its preflight (the ``preflight`` extra) into another
    interpreter: from this checkout when the library runs from one, else the distribution of
    this version."""
    from .. import __file__ as package_file
    from .. import __version__

    checkout = Path(package_file).resolve().parents[2]
    if (checkout / "pyproject.toml").is_file():
        return f'{python} -m pip install "{checkout}[preflight]"'
    return f'{python} -m pip install "va-platform[preflight] @ git+<repository>@v{__version__}"'


def program_interpreter(program: Program) -> Path | None:
    """The interpreter the program must run with, when it is not this one: its virtualenv's
    (``runtime.options.virtualenv`` in Pulumi.yaml, or a ``venv``/``.venv`` beside it), with
    this library importable there. Raises ProgramError (one line: how to install it) when the
    library is not."""
    venv, declared = program.virtualenv()
    if venv is None or os.environ.get(REEXEC_ENV):
        return None
    python = _venv_python(venv)
    if not python.exists():
        if declared:
            print(
                f"note: {program.root}/Pulumi.yaml names the virtualenv {venv}, which does not "
                f"exist; running the program with {sys.executable}",
                file=sys.stderr,
            )
        return None
    if Path(sys.prefix).resolve() == venv:
        return None
    probe = subprocess.run(
        [str(python), "-c", "import va_platform.preflight"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if probe.returncode != 0:
        raise ProgramError(
            f"{venv} (the program's virtualenv) has no va-platform, so the preflight cannot run "
            f"the program there: install it with `{_install_hint(python)}` (or pass "
            "--this-interpreter to run the program without its virtualenv)"
        )
    return python


def reexecuted(python: Path, argv: list[str] | None) -> int:
    """Run this command again with ``python`` (replacing this process when run as a command)."""
    args = [str(python), "-m", "va_platform.preflight", *(sys.argv[1:] if argv is None else argv)]
    env = {**os.environ, REEXEC_ENV: "1"}
    sys.stdout.flush()
    sys.stderr.flush()
    if argv is None:
        os.execve(str(python), args, env)
    return subprocess.run(args, env=env, check=False).returncode


# --- a run that does not end ---------------------------------------------------------------------

DEFAULT_TIMEOUT_S = 300.0


class Watchdog:
    """Ends the whole preflight with one line when it runs longer than ``seconds``: a program
    waiting on a value nothing will give must not hang a CI job. Threads a program blocks
    cannot be cancelled, so the process exits (status 1) from here."""

    def __init__(self, seconds: float, console: Console, as_json: bool) -> None:
        self.seconds = seconds
        self.phase = "starting"
        self._console, self._json = console, as_json
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="va-preflight-watchdog",
                                        daemon=True)  # fmt: skip

    def __enter__(self) -> Watchdog:
        if self.seconds > 0:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()

    def _watch(self) -> None:
        if self._done.wait(self.seconds):
            return
        shown = f"{self.seconds:g}"
        _fail(
            self._console, self._json,
            f"the preflight did not finish within {shown} s ({self.phase}): the program waits "
            "for something that never comes, or needs longer (--timeout SECONDS)",
        )  # fmt: skip
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(1)


# --- main ----------------------------------------------------------------------------------------

VERDICT_ORDER = ("pass", "incomplete", "fail", "error")
EXIT_CODES = {"pass": 0, "incomplete": 3, "fail": 1, "error": 1}


def _parser() -> argparse.ArgumentParser:
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
        "(default: the working directory); it runs from its own directory, as under pulumi",
    )
    parser.add_argument(
        "--stack-references",
        metavar="FILE",
        help='JSON {"org/project/stack": {output: value}} for the program\'s StackReferences '
        "(unknown in the first preview when not given; the update needs them)",
    )
    parser.add_argument(
        "--invokes",
        metavar="FILE",
        help='JSON {"<data source token>": {output: value}}: the results of data sources the '
        "preflight cannot answer offline (they win over its own answers)",
    )
    parser.add_argument(
        "--timeout",
        metavar="SECONDS",
        type=float,
        default=DEFAULT_TIMEOUT_S,
        help=f"stop with one line after this long (default {DEFAULT_TIMEOUT_S:g}; 0: never)",
    )
    parser.add_argument(
        "--this-interpreter",
        action="store_true",
        help="run the program with this interpreter even when it has a virtualenv of its own",
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
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # A CI log is read in a browser: never hard-wrap it (a cut name reads as another name).
    console = Console(highlight=False, emoji=False, width=None if sys.stdout.isatty() else 100_000)
    if args.diff:
        return print_diff(console, args)
    modes: list[Mode] = list(MODES) if args.mode == "both" else [args.mode]
    try:
        program = Program.locate(Path(args.program))
        python = None if args.this_interpreter else program_interpreter(program)
        if python is not None:
            return reexecuted(python, argv)
        config = program.config(args.stack)
        pack_config = load_pack_config(args.policy_config)
        references = load_stack_references(args.stack_references)
        invokes = load_invokes(args.invokes)
        # Found from where the command was started: the program runs from its own directory.
        pack_dir = None if args.no_policies else locate_pack(args.policy_pack)
    except (ProgramError, PackConfigError, PackError) as exc:
        return _fail(console, args.json, str(exc).splitlines()[0])
    with Watchdog(args.timeout, console, args.json) as watchdog:
        runs: dict[Mode, Run] = {}
        errors: dict[Mode, str] = {}
        logged: set[str] = set()
        for mode in modes:
            watchdog.phase = f"running the program for the {MODE_TITLES[mode]}"
            run = run_program(
                args.stack, program=program, config=config, mode=mode,
                stack_references=references, invokes=invokes,
            )  # fmt: skip
            for line in run.logs:  # the program says the same in both modes: once is enough
                if line not in logged:
                    print(line, file=sys.stderr)
                    logged.add(line)
            if run.error is not None:
                errors[mode] = f"the program stopped: {program.describe(run.error)}"
            else:
                runs[mode] = run
        if not runs:
            return _all_failed(console, args.json, errors)
        reports: dict[Mode, Report] = {}
        if pack_dir is not None:
            watchdog.phase = "judging the resources with va-guard"
            try:
                with PolicyPackProcess(pack_dir) as pack:
                    problems = pack_config_problems(
                        pack_config, pack.info().policies, args.policy_config or ""
                    )
                    if problems:
                        return _fail(console, args.json, "\n".join(problems))
                    reports = {m: preflight(run, pack_config, pack) for m, run in runs.items()}
            except PackError as exc:
                return _fail(console, args.json, str(exc).splitlines()[0])
    verdicts: dict[Mode, str] = {
        **{mode: report.verdict for mode, report in reports.items()},
        **{mode: "error" for mode in errors},
    }
    verdict = max(verdicts.values(), key=VERDICT_ORDER.index, default="pass")
    shown_run = runs[next(mode for mode in modes if mode in runs)]
    if args.json:
        _print_json(args, program, shown_run, runs, reports, errors, verdicts, verdict)
    else:
        _print_text(console, modes, shown_run, reports, errors)
    return EXIT_CODES[verdict]


def _all_failed(console: Console, as_json: bool, errors: dict[Mode, str]) -> int:
    """No mode ran: one line when both stopped alike, else one per mode."""
    distinct = list(dict.fromkeys(errors.values()))
    if len(distinct) == 1:
        message = distinct[0].replace(
            "the program stopped: ", f"the program stopped ({', '.join(errors)}): ", 1
        )
    else:
        message = "\n".join(f"{mode}: {error}" for mode, error in errors.items())
    if as_json:
        print(json.dumps({
            "error": message.replace("\n", "; "), "problems": message.splitlines(),
            "verdict": "error",
            "modes": {mode: {"error": error, "verdict": "error"} for mode, error in errors.items()},
        }))  # fmt: skip
        return 1
    return _fail(console, False, message)


def _print_json(
    args: argparse.Namespace, program: Program, shown_run: Run, runs: dict[Mode, Run],
    reports: dict[Mode, Report], errors: dict[Mode, str], verdicts: dict[Mode, str],
    verdict: str,
) -> None:  # fmt: skip
    resources = [
        {"urn": r.urn, "type": r.type, "name": r.name,
         "physicalName": physical_name_of(r.type, r.inputs), "parent": r.parent,
         "settings": settings(r), **({"unexpanded": True} if r.remote else {})}
        for r in shown_run.resources
    ]  # fmt: skip
    modes: dict[str, Any] = {}
    for mode in [m for m in MODES if m in runs or m in errors]:
        if mode in errors:
            modes[mode] = {"error": errors[mode], "verdict": "error"}
            continue
        modes[mode] = {"outputs": shown(runs[mode].outputs)}
        if mode in reports:
            modes[mode]["policy"] = report_json(reports[mode])
            modes[mode]["verdict"] = verdicts[mode]
    print(json.dumps({"stack": args.stack, "program": str(program.main), "resources": resources,
                      "modes": modes, "verdict": verdict}))  # fmt: skip


def _print_text(
    console: Console, modes: list[Mode], shown_run: Run, reports: dict[Mode, Report],
    errors: dict[Mode, str],
) -> None:  # fmt: skip
    console.print(resource_tree(shown_run))
    console.print(f"[bold]outputs[/bold] ({MODE_TITLES[shown_run.mode]})")
    console.print_json(data=shown(shown_run.outputs))
    for mode in modes:
        if mode in errors:
            console.print(
                f"[bold]va-guard, {MODE_TITLES[mode]}[/bold]: [red]not judged: "
                f"{escape(errors[mode])}[/red]", soft_wrap=True,
            )  # fmt: skip
        elif mode in reports:
            print_report(console, reports[mode])


def console_main() -> None:
    """The ``va-preflight`` console script."""
    sys.exit(main())
