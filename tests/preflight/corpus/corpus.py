"""Real programs nobody here wrote, judged by the preflight: issue 21 §5.

``manifest.json`` pins each program by public repository, commit, path (and the git tree id of
that path, so a rewritten history cannot swap the program under us) with the repository's
licence. The programs themselves are not copied into this repository: they are read at the
pinned commit from a local mirror of each repository (a bare git directory,
``$VA_CORPUS_MIRRORS/<owner>+<name>/repo``, default ``/work/.mirror``) into a temporary
directory, then run through ``va-preflight --json`` in both modes (one process per program:
the first preview and the update share the run and the pack), two programs at a time, each
with a timeout.

``expected.json`` records, per program and mode, the verdict and either the one line the
preflight said it could not emulate, or every diagnostic the pack gave (level, policy,
resource, message). ``tests/preflight/test_corpus.py`` compares a fresh run with it: a new
finding (a false positive until a reviewer says otherwise), a lost one, a crash (a traceback,
output that is not the preflight's JSON) or a hang fails.

    python -m tests.preflight.corpus.corpus --record      # run all, write expected.json
    python -m tests.preflight.corpus.corpus --check       # run all, compare, exit 1 on drift
    python -m tests.preflight.corpus.corpus --summary     # results by program and by rule
    python -m tests.preflight.corpus.corpus --only SLUG   # one program (with any of the above)

The extra provider SDKs the programs import are in ``requirements.txt`` (``make corpus-site``
installs them, without their dependencies, into ``.va-build/corpus-site``, which is put on the
programs' ``PYTHONPATH``).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.paths import PACK_DIR, PROJECT_ROOT

HERE = Path(__file__).parent
MANIFEST = HERE / "manifest.json"
EXPECTED = HERE / "expected.json"
OVERLAYS = HERE / "overlays"
SITE = PROJECT_ROOT / ".va-build" / "corpus-site"
MIRRORS = Path(os.environ.get("VA_CORPUS_MIRRORS", "/work/.mirror"))
MODES = ("preview", "update")
# The preflight's own timeout, and the test's beyond it (a preflight that ignores its own
# watchdog is a hang too).
TIMEOUT_S = 120.0
HARD_TIMEOUT_S = TIMEOUT_S + 30.0
WORKERS = 2
LOOPBACK_AWS = {
    "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
    "AWS_ACCESS_KEY_ID": "corpus",
    "AWS_SECRET_ACCESS_KEY": "corpus",
    "AWS_MAX_ATTEMPTS": "1",
    # As a team runs `pulumi`: with a region in its environment (a program may require it).
    "AWS_REGION": "eu-central-1",
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}


@dataclass(frozen=True)
class Entry:
    """One program of the manifest."""

    slug: str
    repo: str
    commit: str
    path: str
    licence: str
    tree: str
    stack: str = "dev"

    @property
    def mirror(self) -> Path:
        return MIRRORS / self.repo.replace("/", "+") / "repo"

    @property
    def overlay(self) -> Path:
        """Files of ours for this program: ``stack-references.json``, ``invokes.json`` (given
        to the preflight's flags) and a ``Pulumi.<stack>.yaml`` where the repository has none."""
        return OVERLAYS / self.slug


def manifest() -> list[Entry]:
    data = json.loads(MANIFEST.read_text(encoding="utf-8"))
    return [Entry(**program) for program in data["programs"]]


def missing_mirrors(entries: Iterable[Entry]) -> list[str]:
    """The repositories whose mirror is not on this machine."""
    return sorted({e.repo for e in entries if not (e.mirror / "HEAD").is_file()})


def _git(entry: Entry, *args: str) -> bytes:
    return subprocess.run(
        ["git", "--git-dir", str(entry.mirror), *args],
        check=True, capture_output=True,
    ).stdout  # fmt: skip


def materialise(entry: Entry, into: Path) -> Path:
    """The program's directory at its pinned commit, written under ``into``; raises when the
    path's tree is not the one pinned."""
    tree = _git(entry, "rev-parse", f"{entry.commit}:{entry.path}").decode().strip()
    if tree != entry.tree:
        raise RuntimeError(f"{entry.slug}: {entry.repo}@{entry.commit}:{entry.path} is tree "
                           f"{tree}, the manifest pins {entry.tree}")  # fmt: skip
    target = into / entry.slug
    target.mkdir(parents=True)
    archive = _git(entry, "archive", "--format=tar", f"{entry.commit}:{entry.path}")
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")
    return target


def _resource(urn: str) -> str:
    """``type::name`` of a URN (the innermost type: parents change with components)."""
    parts = urn.split("::")
    return f"{parts[-2].split('$')[-1]}::{parts[-1]}" if len(parts) >= 2 else "(stack)"


def normalised(document: dict[str, Any], program_dir: Path) -> dict[str, Any]:
    """What is recorded of a preflight's JSON: per mode the verdict and the error line, or the
    pack's diagnostics, with the temporary directory's path replaced."""

    def clean(text: str) -> str:
        return text.replace(str(program_dir), "<program>")

    modes: dict[str, Any] = {}
    for mode in MODES:
        got = (document.get("modes") or {}).get(mode)
        if got is None:
            modes[mode] = {"verdict": "error", "error": clean(document.get("error", "no output"))}
            continue
        if "error" in got:
            modes[mode] = {"verdict": "error", "error": clean(got["error"])}
            continue
        policy = got["policy"]
        modes[mode] = {
            "verdict": got["verdict"],
            "resources": policy["resources"],
            "unexpanded": sorted(f"{u['type']}::{u['name']}" for u in policy["unexpanded"]),
            "diagnostics": sorted(
                [d["level"], d["policy"], _resource(d["urn"]), clean(d["message"])]
                for d in policy["diagnostics"]
            ),
        }
    return modes


@dataclass
class Outcome:
    slug: str
    seconds: float
    modes: dict[str, Any] | None = None
    crash: str | None = None
    hang: bool = False


def preflight_command(entry: Entry, program_dir: Path) -> list[str]:
    command = [
        sys.executable, "-m", "va_platform.preflight", "--json", "--this-interpreter",
        "--program", str(program_dir), "--stack", entry.stack,
        "--timeout", f"{TIMEOUT_S:g}", "--policy-pack", str(PACK_DIR),
    ]  # fmt: skip
    for flag, name in (("--stack-references", "stack-references.json"),
                       ("--invokes", "invokes.json")):  # fmt: skip
        if (entry.overlay / name).is_file():
            command += [flag, str(entry.overlay / name)]
    return command


def run_one(entry: Entry, workdir: Path) -> Outcome:
    """One program through the preflight, both modes in one process."""
    program_dir = materialise(entry, workdir)
    for stack_file in sorted(entry.overlay.glob("Pulumi.*.yaml")):
        # Config of ours for a program whose repository has no stack file (its README says
        # which keys to set); never over the program's own.
        target = program_dir / stack_file.name
        if target.exists():
            raise RuntimeError(f"{entry.slug}: the overlay's {stack_file.name} would replace "
                               "the program's own")  # fmt: skip
        shutil.copyfile(stack_file, target)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (str(SITE), str(PROJECT_ROOT), os.environ.get("PYTHONPATH", "")) if p
    )}  # fmt: skip
    env.pop("VA_GUARD_PACK", None)
    # A program that calls AWS itself (boto3 in an apply) reaches loopback only, with no
    # credentials of this machine.
    for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        env.pop(name, None)
    env.update(LOOPBACK_AWS)
    started = time.monotonic()
    try:
        proc = subprocess.run(
            preflight_command(entry, program_dir), cwd=workdir, env=env,
            capture_output=True, text=True, timeout=HARD_TIMEOUT_S, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return Outcome(entry.slug, time.monotonic() - started, hang=True)
    seconds = time.monotonic() - started
    output = proc.stdout + proc.stderr
    if "did not finish within" in output:
        return Outcome(entry.slug, seconds, hang=True)
    if "Traceback (most recent call last)" in output or proc.returncode not in (0, 1, 3):
        return Outcome(entry.slug, seconds, crash=f"exit {proc.returncode}: {output[-2000:]}")
    try:
        document = json.loads(proc.stdout.strip().splitlines()[-1])
    except (json.JSONDecodeError, IndexError):
        return Outcome(entry.slug, seconds, crash=f"exit {proc.returncode}: {output[-2000:]}")
    return Outcome(entry.slug, seconds, modes=normalised(document, program_dir))


def run_all(entries: list[Entry], workers: int = WORKERS) -> list[Outcome]:
    with tempfile.TemporaryDirectory(prefix="va-corpus-") as tmp, \
            ThreadPoolExecutor(max_workers=workers) as pool:  # fmt: skip
        return list(pool.map(lambda e: run_one(e, Path(tmp)), entries))


def expected() -> dict[str, Any]:
    return json.loads(EXPECTED.read_text(encoding="utf-8")) if EXPECTED.is_file() else {}


def differences(outcome: Outcome, recorded: dict[str, Any] | None) -> list[str]:
    """How a run differs from what was recorded, one line each (empty: the same)."""
    if outcome.hang:
        return [f"{outcome.slug}: did not finish within {TIMEOUT_S:g} s"]
    if outcome.crash is not None:
        return [f"{outcome.slug}: crashed: {outcome.crash}"]
    if recorded is None:
        return [f"{outcome.slug}: not recorded in expected.json"]
    lines = []
    assert outcome.modes is not None
    for mode in MODES:
        got, want = outcome.modes[mode], recorded[mode]
        for key in ("verdict", "error", "resources", "unexpanded"):
            if got.get(key) != want.get(key):
                lines.append(f"{outcome.slug} {mode} {key}: {want.get(key)!r} -> {got.get(key)!r}")
        got_d = Counter(tuple(d) for d in got.get("diagnostics", []))
        want_d = Counter(tuple(d) for d in want.get("diagnostics", []))
        lines += [f"{outcome.slug} {mode} new: {list(d)}" for d in got_d - want_d]
        lines += [f"{outcome.slug} {mode} lost: {list(d)}" for d in want_d - got_d]
    return lines


def summary(outcomes: list[Outcome]) -> str:
    """Results by program (ran / could not emulate) and violations by rule."""
    lines, by_rule = [], Counter()
    for o in outcomes:
        if o.modes is None:
            lines.append(f"{o.slug}: {'HANG' if o.hang else 'CRASH'} ({o.seconds:.1f} s)")
            continue
        parts = []
        for mode in MODES:
            m = o.modes[mode]
            if m["verdict"] == "error":
                parts.append(f"{mode}: could not emulate: {m['error']}")
                continue
            mandatory = [d for d in m["diagnostics"] if d[0] == "mandatory"]
            by_rule.update(f"{mode} {d[1]}" for d in mandatory)
            parts.append(f"{mode}: {m['verdict']}, {m['resources']} resources, "
                         f"{len(mandatory)} mandatory")  # fmt: skip
        lines.append(f"{o.slug} ({o.seconds:.1f} s): " + "; ".join(parts))
    lines.append("mandatory violations by mode and rule:")
    lines += [f"  {rule}: {n}" for rule, n in sorted(by_rule.items())]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--record", action="store_true", help="write expected.json")
    parser.add_argument("--check", action="store_true", help="compare with expected.json")
    parser.add_argument("--summary", action="store_true", help="results by program and rule")
    parser.add_argument("--only", action="append", help="a program's slug (repeatable)")
    parser.add_argument("--workers", type=int, default=WORKERS)
    args = parser.parse_args(argv)
    entries = [e for e in manifest() if not args.only or e.slug in args.only]
    missing = missing_mirrors(entries)
    if missing:
        print(f"no mirror of {', '.join(missing)} under {MIRRORS} (VA_CORPUS_MIRRORS)")
        return 2
    started = time.monotonic()
    outcomes = run_all(entries, args.workers)
    elapsed = time.monotonic() - started
    status = 0
    if args.record:
        recorded = expected()
        for o in outcomes:
            if o.modes is None:
                print(f"{o.slug}: not recorded: {'hang' if o.hang else o.crash}")
                status = 1
            else:
                recorded[o.slug] = o.modes
        EXPECTED.write_text(json.dumps(dict(sorted(recorded.items())), indent=1) + "\n",
                            encoding="utf-8")  # fmt: skip
    if args.check:
        recorded = expected()
        drift = [line for o in outcomes for line in differences(o, recorded.get(o.slug))]
        print("\n".join(drift) or "no difference from expected.json")
        status = status or int(bool(drift))
    if args.summary or not (args.record or args.check):
        print(summary(outcomes))
    print(f"{len(entries)} programs in {elapsed:.0f} s with {args.workers} workers")
    return status


if __name__ == "__main__":
    sys.exit(main())
