"""The hash locks are the requirement files, resolved (issue 22, item 7).

Jobs that hold ``id-token: write`` (the deploy, preview and publish jobs) install only from
``*.lock`` files: every package, transitive ones included, pinned with ``==`` and the hashes of
its distributions, installed with ``pip install --require-hashes``, so what runs with the token
is what was reviewed. ``make locks`` writes them with uv from the requirement files they lock
(LOCKS below, the Makefile's ``locks`` recipe); this test reads each lock, offline, and fails
while it no longer matches its requirement files: a pin changed or added without ``make locks``,
a package removed whose lock entries stayed, an entry without a hash or an exact version.
(``make locks-check`` regenerates them from PyPI and diffs, in the pull-request workflow.)
"""

from __future__ import annotations

import re
import shlex
import subprocess
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
# Each lock and the requirement files it resolves, together (one virtualenv each).
LOCKS = {
    # .venv: the program (`pulumi up`, `make plan`) and the pack's own dependencies; the
    # library itself (`-e .`) is installed after it with --no-deps --no-build-isolation, so its
    # build backend is locked too (requirements-build.txt).
    "requirements.lock": (
        "requirements.txt",
        "policies/requirements.txt",
        "requirements-build.txt",
    ),
    # policies/venv: what the engine runs the pack with (PulumiPolicy.yaml's virtualenv).
    "policies/requirements.lock": ("policies/requirements.txt",),
    # org/venv: org/'s program, run by an organization admin with the management account.
    "org/requirements.lock": ("org/requirements.txt",),
}
# The editable install of the library: not in any lock (pip cannot hash a directory).
LIBRARY = "va-platform"
HASH = re.compile(r"--hash=sha256:[0-9a-f]{64}$")


@dataclass
class Entry:
    name: str
    version: str
    markers: str
    hashes: list[str] = field(default_factory=list)
    via: list[str] = field(default_factory=list)


@dataclass
class Lock:
    entries: dict[str, list[Entry]]
    problems: list[str]


def logical_lines(text: str) -> list[str]:
    """Lines with their ``\\`` continuations joined; comment lines kept as they are."""
    lines: list[str] = []
    pending = ""
    for raw in text.splitlines():
        if pending:
            pending += " " + raw.strip()
        elif raw.startswith("#") or raw.startswith("    #"):
            lines.append(raw)
            continue
        else:
            pending = raw.strip()
        if pending.endswith("\\"):
            pending = pending[:-1].rstrip()
            continue
        if pending:
            lines.append(pending)
        pending = ""
    return lines


def parse_lock(text: str) -> Lock:
    """The entries of a uv/pip-compile lock (``name==version ; markers`` with ``--hash``
    options and ``# via`` annotations), and what makes it unfit for ``--require-hashes``."""
    entries: dict[str, list[Entry]] = {}
    problems: list[str] = []
    current: Entry | None = None
    in_via = False
    for line in logical_lines(text):
        if line.startswith("    #"):
            note = line.strip().lstrip("#").strip()
            if note.startswith("via"):
                in_via = True
                note = note.removeprefix("via").strip()
            if in_via and note and current is not None:
                current.via.append(note)
            continue
        in_via = False
        if line.startswith("#") or not line.strip():
            continue
        if line.startswith("-"):
            problems.append(f"an option or editable line: {line}")
            current = None
            continue
        spec, *options = line.split(" --hash=")
        hashes = [f"--hash={o}" for o in options]
        requirement, _, markers = spec.partition(";")
        match = re.fullmatch(r"([A-Za-z0-9._-]+)==([^\s;]+)", requirement.strip())
        if match is None:
            problems.append(f"not pinned with ==: {line[:80]}")
            current = None
            continue
        current = Entry(canonicalize_name(match[1]), match[2], markers.strip(), hashes)
        if not hashes or not all(HASH.match(h) for h in hashes):
            problems.append(f"{current.name}=={current.version} has no sha256 hash")
        entries.setdefault(current.name, []).append(current)
    return Lock(entries, problems)


@cache
def lock(path: str) -> Lock:
    return parse_lock((ROOT / path).read_text())


def pins(path: str, seen: tuple[str, ...] = ()) -> dict[str, str]:
    """``name -> version`` of every requirement of ``path`` and the files it includes
    (``-r``); ``-e .`` is the library, locked by its own requirements."""
    found: dict[str, str] = {}
    for line in (ROOT / path).read_text().splitlines():
        line = line.split(" #", 1)[0].strip()
        if not line or line.startswith("#") or line.startswith("-e "):
            continue
        if line.startswith("-r "):
            included = str((ROOT / path).parent.joinpath(line[3:].strip()).relative_to(ROOT))
            assert included not in seen, f"{path} includes {included} twice"
            found.update(pins(included, (*seen, path)))
            continue
        requirement = Requirement(line)
        (spec,) = requirement.specifier
        assert spec.operator == "==", f"{path}: {line} is not pinned with =="
        found[canonicalize_name(requirement.name)] = spec.version
    return found


def annotated_inputs(entry: Entry) -> set[str]:
    return {v.removeprefix("-r ").strip() for v in entry.via if v.startswith("-r ")}


# --- each lock against its requirement files ------------------------------------------------


@pytest.mark.parametrize("path", LOCKS)
def test_every_entry_of_the_lock_is_pinned_with_its_hashes(path):
    assert (ROOT / path).exists(), f"{path} is missing: run `make locks`"
    assert lock(path).problems == []
    assert lock(path).entries


@pytest.mark.parametrize("path", LOCKS)
def test_every_pin_of_the_requirement_files_is_in_the_lock_at_its_version(path):
    wanted = {name: v for source in LOCKS[path] for name, v in pins(source).items()}
    entries = lock(path).entries
    differing = sorted(
        f"{name}=={version} (lock: {', '.join(e.version for e in entries.get(name, [])) or '-'})"
        for name, version in wanted.items()
        if {e.version for e in entries.get(name, [])} != {version}
    )
    assert differing == [], f"{path} is stale: run `make locks`"


@pytest.mark.parametrize("path", LOCKS)
def test_the_lock_holds_what_its_requirement_files_need_and_nothing_else(path):
    """The direct entries are exactly the requirement files' pins, and every other entry is
    needed by an entry (its ``# via``): a requirement removed leaves nothing behind."""
    entries = lock(path).entries
    direct = {name for name, es in entries.items() if any(annotated_inputs(e) for e in es)}
    wanted = {name for source in LOCKS[path] for name in pins(source)}
    assert direct == wanted
    assert {i for es in entries.values() for e in es for i in annotated_inputs(e)} <= set(
        LOCKS[path]
    )
    orphans = sorted(
        f"{name} (via {', '.join(e.via)})"
        for name, es in entries.items()
        for e in es
        if not annotated_inputs(e)
        and not any(canonicalize_name(v) in entries or v == LIBRARY for v in e.via)
    )
    assert orphans == []


def test_the_librarys_own_dependencies_are_locked_within_its_ranges():
    """`-e .` is installed with --no-deps: each dependency pyproject.toml declares must be in
    the lock, at a version its range admits."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    entries = lock("requirements.lock").entries
    outside = []
    for line in project["project"]["dependencies"]:
        requirement = Requirement(line)
        versions = [e.version for e in entries.get(canonicalize_name(requirement.name), [])]
        if not versions or not all(requirement.specifier.contains(v) for v in versions):
            outside.append(f"{line}: {versions or 'not locked'}")
    build = project["build-system"]["requires"]
    missing = [r for r in build if canonicalize_name(Requirement(r).name) not in entries]
    assert (outside, missing) == ([], [])


def test_the_makefile_writes_each_lock_from_its_requirement_files():
    """The recipe `make locks` runs names the same inputs as LOCKS, with hashes."""
    dry = subprocess.run(
        ["make", "-n", "-B", "locks", "UV=uv"], cwd=ROOT, capture_output=True, text=True
    )
    assert dry.returncode == 0, dry.stderr
    written = {}
    for line in dry.stdout.splitlines():
        words = shlex.split(line)
        if words[:3] != ["uv", "pip", "compile"]:
            continue
        assert "--generate-hashes" in words
        output = words[words.index("-o") + 1]
        written[output] = tuple(w for w in words if w.endswith(".txt"))
    assert written == LOCKS


# --- the parser, on what it must catch -----------------------------------------------------

GOOD = """\
# This file was autogenerated by uv via the following command:
#    make locks
pulumi==3.272.0 \\
    --hash=sha256:{a} \\
    --hash=sha256:{b}
    # via
    #   -r requirements.txt
    #   va-platform
grpcio==1.85.4 ; sys_platform == 'linux' \\
    --hash=sha256:{a}
    # via pulumi
""".format(a="a" * 64, b="b" * 64)


def test_the_parser_reads_entries_markers_hashes_and_annotations():
    parsed = parse_lock(GOOD)
    assert parsed.problems == []
    (pulumi,) = parsed.entries["pulumi"]
    (grpcio,) = parsed.entries["grpcio"]
    assert (pulumi.version, len(pulumi.hashes), pulumi.via) == (
        "3.272.0",
        2,
        ["-r requirements.txt", "va-platform"],
    )
    assert (grpcio.markers, grpcio.via) == ("sys_platform == 'linux'", ["pulumi"])


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("rich>=13\n", "not pinned with =="),
        ("rich==15.0.0\n", "no sha256 hash"),
        ("-e .\n", "editable"),
        ("--index-url https://example.org/simple\n", "option"),
    ],
    ids=["range", "no-hash", "editable", "index"],
)
def test_the_parser_flags_what_require_hashes_refuses(text, problem):
    assert any(problem in p for p in parse_lock(text).problems)
