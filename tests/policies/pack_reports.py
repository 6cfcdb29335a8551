"""What va-guard reports over a fixed corpus, recorded with the pack's version.

A team pins a version of the pack; what that version reports must not change under it. So a
change to the pack that alters any report (a new rule, a reworded message, another level) must
come with a new version in ``PulumiPolicy.yaml``. ``test_pack_version.py`` checks that against
two recorded files in ``pack_reports/``:

- ``corpus.json.gz``: what the engine sends the pack (ConfigureStack, Configure, Analyze per
  resource, AnalyzeStack) for this repository's dev and prod stacks and every program of
  ``tests/fixtures``, each as a first preview and as an update. Frozen, so that a change to a
  program (the platform's own stacks change every week) never looks like a change of the pack.
- ``reports.json``: the pack's diagnostics over that corpus, with the version that gave them.

The pack runs in this process, on the SDK's own servicer, with the clock fixed at ``TODAY``:
rules that depend on the date (runtime deprecations, exemption expiry) give the same answer on
every day the test runs.

    python -m tests.policies.pack_reports --write                 # after a version bump
    python -m tests.policies.pack_reports --write --same-version  # a version not yet published
    python -m tests.policies.pack_reports --write --refresh-corpus  # programs changed, pack not

``make pack-reports`` runs the first. A version already published (its tag
``policy-v<version>`` exists) is never recorded again with other reports.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import gzip
import json
import subprocess
import sys
from collections.abc import Iterator, Mapping
from datetime import date
from pathlib import Path
from typing import Any
from unittest import mock

import pulumi_policy.policy as sdk

from policies.va_guard import framework, lambda_rules, sdk_compat
from policies.va_guard.pack import pack_arguments
from policies.va_guard.version import PACK_NAME, pack_version
from tests.paths import PROJECT_ROOT
from va_platform.preflight.analyzer import PackClient, Provider, StackIdentity, Subject
from va_platform.preflight.engine import stack_identity, subjects
from va_platform.preflight.mocks import MODES
from va_platform.preflight.runner import run_program

HERE = Path(__file__).parent / "pack_reports"
CORPUS_FILE = HERE / "corpus.json.gz"  # 1.4 MB of JSON; frozen input, not read by people
REPORTS_FILE = HERE / "reports.json"
FIXTURES = PROJECT_ROOT / "tests" / "fixtures"
TODAY = date(2026, 12, 7)
RECORD = "make pack-reports"

# Fixture programs that stop in a mode by design: issue 21's reproductions of programs the
# preflight reports in one line (tests/preflight/test_reproductions.py); a stopped run sends
# the pack nothing to record.
STOPPING = frozenset(
    {
        "fails_in_preview",
        "apply_fails_in_update",
        "unsupported_lookup",
        "secret_config_undeclared",
        "resource_method_call",
        "lifted_attribute_fails",
    }
)
# The programs of the corpus: name -> (program path, stack).
PROGRAMS: dict[str, tuple[Path, str]] = {
    "va-platform/dev": (PROJECT_ROOT, "dev"),
    "va-platform/prod": (PROJECT_ROOT, "prod"),
    "fixtures/bad_program": (FIXTURES / "bad_program.py", "dev"),
    **{
        f"fixtures/{d.name}": (d, "dev")
        for d in sorted(FIXTURES.iterdir())
        if (d / "Pulumi.yaml").is_file() and d.name not in STOPPING
    },
}


# The pack configuration a corpus program is judged with (as its policy group would give it).
CONFIGS: dict[str, Path] = {"fixtures/bad_program": FIXTURES / "bad_program_policy.json"}
# The organization every corpus stack belongs to (the preflight's default: a local backend's).
ORGANIZATION = "organization"


# --- the corpus: what the engine sends ----------------------------------------------------------


def _subject_json(s: Subject) -> dict[str, Any]:
    """A subject as JSON, its lists of URNs sorted: a program registers its resources
    concurrently, and the corpus must not change from one recording to the next."""
    data = dataclasses.asdict(s)
    data["dependencies"] = sorted(data["dependencies"])
    data["property_dependencies"] = {
        k: sorted(v) for k, v in sorted(data["property_dependencies"].items())
    }
    return data


def _by_urn(subjects: list[Subject]) -> list[dict[str, Any]]:
    return [_subject_json(s) for s in sorted(subjects, key=lambda s: s.urn)]


def _subject(data: Mapping[str, Any]) -> Subject:
    provider = data.get("provider")
    return Subject(
        type=data["type"],
        name=data["name"],
        urn=data["urn"],
        props=data["props"],
        parent=data.get("parent", ""),
        provider=Provider(**provider) if provider else None,
        dependencies=tuple(data.get("dependencies", ())),
        property_dependencies={k: tuple(v) for k, v in data["property_dependencies"].items()},
        options=data.get("options", {}),
    )


def record_corpus() -> dict[str, Any]:
    """Every corpus program run under the mocks in both modes, as the engine would send it."""
    corpus: dict[str, Any] = {}
    for name, (program, stack) in PROGRAMS.items():
        for mode in MODES:
            run = run_program(stack, program=program, mode=mode)
            if run.error is not None:
                raise RuntimeError(f"{name} ({mode}) failed under the mocks: {run.error}")
            per_resource, stack_view = subjects(run)
            corpus[f"{name}/{mode}"] = {
                "stack": dataclasses.asdict(stack_identity(run, ORGANIZATION)),
                "config": json.loads(CONFIGS[name].read_text()) if name in CONFIGS else {},
                "analyze": _by_urn(per_resource),
                "analyzeStack": _by_urn(stack_view),
            }
    return corpus


# --- the pack, in process ----------------------------------------------------------------------


class _Direct:
    """A servicer's RPC methods called with one request, as a gRPC stub's are."""

    def __init__(self, servicer: Any) -> None:
        self._servicer = servicer

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._servicer, name)
        return lambda request: method(request, None)


def in_process_pack() -> PackClient:
    """The pack's policies behind the SDK's own servicer, in this process (no gRPC)."""
    sdk_compat.install_engine_facts()
    args = pack_arguments()
    servicer = sdk._PolicyAnalyzerServicer(
        str(args["name"]),
        pack_version(),
        args["policies"],  # type: ignore[arg-type]
        args["enforcement_level"],  # type: ignore[arg-type]
    )
    return PackClient(_Direct(servicer))


@contextlib.contextmanager
def frozen_clock(today: date = TODAY) -> Iterator[None]:
    with (
        mock.patch.object(lambda_rules, "today", return_value=today),
        mock.patch.object(framework, "today", return_value=today),
    ):
        yield


def reports(corpus: Mapping[str, Any]) -> dict[str, list[list[str]]]:
    """The pack's diagnostics over the corpus: per entry, sorted (policy, level, urn, message)."""
    out: dict[str, list[list[str]]] = {}
    with frozen_clock():
        for name, entry in corpus.items():
            pack = in_process_pack()
            pack.configure_stack(StackIdentity(**entry["stack"]))
            pack.configure(entry["config"])
            found: list[list[str]] = []
            for data in entry["analyze"]:
                s = _subject(data)
                found += [[d.policy, d.level, d.urn or s.urn, d.detail] for d in pack.analyze(s)]
            stack_view = [_subject(data) for data in entry["analyzeStack"]]
            found += [[d.policy, d.level, d.urn, d.detail] for d in pack.analyze_stack(stack_view)]
            out[name] = sorted(found)
    return out


# --- the verdict ---------------------------------------------------------------------------------


def load(path: Path) -> Any:
    data = path.read_bytes()
    return json.loads(gzip.decompress(data) if path.suffix == ".gz" else data)


def verdict(recorded: Mapping[str, Any], current: Mapping[str, Any], version: str) -> str | None:
    """Why the recorded reports do not stand for this version of the pack, or None."""
    if recorded.get("reports") == current:
        if recorded.get("version") != version:
            return (
                f"PulumiPolicy.yaml says {version}; the reports were recorded for "
                f"{recorded.get('version')}: record them with `{RECORD}`"
            )
        return None
    changed = sorted(
        name
        for name in {*current, *recorded.get("reports", {})}
        if current.get(name) != recorded.get("reports", {}).get(name)
    )
    if recorded.get("version") == version:
        return (
            f"what {PACK_NAME} reports changed ({', '.join(changed)}) but PulumiPolicy.yaml "
            f"still says {version}: bump PulumiPolicy.yaml's version (a fix: patch; a new rule or "
            f"a stricter one: minor) and record with `{RECORD}`"
        )
    return f"PulumiPolicy.yaml says {version}: record its reports with `{RECORD}`"


def published(version: str) -> bool | None:
    """Whether ``policy-v<version>`` is tagged (published); None when git cannot tell."""
    try:
        out = subprocess.run(
            ["git", "tag", "--list", f"policy-v{version}"],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    return bool(out.strip())


def write(same_version: bool, refresh_corpus: bool) -> str:
    """Record the reports (and, asked to, the corpus); the one-line outcome, or raise
    SystemExit with why not."""
    version = pack_version()
    recorded = load(REPORTS_FILE) if REPORTS_FILE.is_file() else {}
    old_corpus = load(CORPUS_FILE) if CORPUS_FILE.is_file() else None
    if old_corpus is not None and recorded.get("version") == version:
        changed = reports(old_corpus) != recorded.get("reports")
        if changed and not same_version:
            raise SystemExit(
                f"{PACK_NAME}'s reports changed and PulumiPolicy.yaml still says {version}: bump "
                "its version first (or pass --same-version for a version never published)"
            )
        if changed and published(version) is not False:
            raise SystemExit(
                f"{PACK_NAME} {version} is published (tag policy-v{version}) or git cannot tell: "
                "its reports stay as recorded; bump PulumiPolicy.yaml's version"
            )
    corpus = record_corpus() if refresh_corpus or old_corpus is None else old_corpus
    HERE.mkdir(exist_ok=True)
    if corpus is not old_corpus:
        text = json.dumps(corpus, sort_keys=True, separators=(",", ":"))
        CORPUS_FILE.write_bytes(gzip.compress(text.encode(), mtime=0))
    document = {"pack": PACK_NAME, "version": version, "today": TODAY.isoformat(),
                "reports": reports(corpus)}  # fmt: skip
    REPORTS_FILE.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")
    return f"recorded {PACK_NAME} {version}'s reports over {len(corpus)} corpus entries"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", required=True)
    parser.add_argument("--same-version", action="store_true")
    parser.add_argument("--refresh-corpus", action="store_true")
    args = parser.parse_args(argv)
    print(write(args.same_version, args.refresh_corpus))
    return 0


if __name__ == "__main__":
    sys.exit(main())
