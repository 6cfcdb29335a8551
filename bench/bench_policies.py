"""va-guard throughput over the engine's gRPC interface, against a one-no-op-policy floor.

A synthetic 5,000-resource stack (the dev stack's resources, repeated under new names) is sent
the way the engine sends it: Analyze per resource, then AnalyzeStack once. The floor is the same
traffic to a pack with one no-op policy, measured in the same run: a pack cannot be cheaper.
Two more references show what va-guard's shared decoding (``sdk_compat.py``) is for: a
no-op pack with as many policies as va-guard (the SDK decodes every resource once per policy)
and va-guard with its SDK workarounds off (sdk_compat's fallback). Each pack's figure is its
best of ROUNDS interleaved rounds.

Targets: every rule on <= 2.5x the floor; 5,000 resources in < 10 s in total.
Beside them, va-guard on the same 5,000 resources as a fresh stack's first preview sends them
(ids, ARNs and everything built from them unknown: ``preflight --mode preview``), where rules
take their "unchecked" paths.
Then each policy alone (the others disabled) on 1,000 resources, and each rule's own code in
process: what a rule costs.

Run: ``make bench-policies`` (or ``python bench/bench_policies.py``).
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from google.protobuf.json_format import MessageToDict
from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.proxy import unknown_checking_proxy
from rich.console import Console
from rich.table import Table

from policies.va_guard import sdk_compat
from policies.va_guard.pack import FAMILIES, build_policies
from va_platform.preflight.analyzer import (
    PolicyPackProcess,
    Subject,
    analyze_request,
    analyze_stack_request,
    to_struct,
)
from va_platform.preflight.engine import count_unknowns, subjects
from va_platform.preflight.mocks import Mode
from va_platform.preflight.runner import run_program

N = 5000
OPTIONS = PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], None)
N_PER_RULE = 1000
ROUNDS = 3
IN_PROCESS_REPEAT = 3
NOOP_PACK = """
from pulumi_policy import (EnforcementLevel, PolicyPack, ResourceValidationPolicy,
                           StackValidationPolicy)

def noop(args, report_violation):
    pass

PolicyPack(
    name="noop",
    enforcement_level=EnforcementLevel.ADVISORY,
    policies=[ResourceValidationPolicy(name=f"noop-{{i}}", description="does nothing",
                                       validate=noop) for i in range({resource})]
    + [StackValidationPolicy(name=f"noop-stack-{{i}}", description="does nothing",
                             validate=noop) for i in range({stack})],
)
"""


def policy_counts() -> tuple[int, int]:
    """(resource policies, stack policies) of va-guard: the SDK's cost grows with both."""
    policies = build_policies()
    stack = sum(isinstance(p, StackValidationPolicy) for p in policies)
    return len(policies) - stack, stack


def synthetic_stack(n: int, mode: Mode = "update") -> tuple[list[Subject], list[Subject]]:
    per_resource, stack = subjects(run_program("dev", mode=mode))
    out: tuple[list[Subject], list[Subject]] = ([], [])
    i = 0
    while len(out[0]) < n:
        for source, target in zip((per_resource, stack), out, strict=True):
            target.extend(replace(s, urn=f"{s.urn}-{i}", name=f"{s.name}-{i}") for s in source)
        i += 1
    return out[0][:n], out[1][:n]


def timed(pack: PolicyPackProcess, per_resource: list[Subject], stack: list[Subject]) -> float:
    """Seconds for the RPCs alone: requests are encoded before the clock starts, as the engine
    (Go) spends next to nothing on that."""
    requests = [analyze_request(s) for s in per_resource]
    stack_request = analyze_stack_request(stack)
    start = time.perf_counter()
    for request in requests:
        pack.send(request)
    pack.send_stack(stack_request)
    return time.perf_counter() - start


def _sdk_props(props: Mapping[str, Any]) -> Any:
    """Properties as the SDK hands them to a policy: deserialized from the wire, then proxied."""
    return unknown_checking_proxy(deserialize_properties(MessageToDict(to_struct(props))))


def _policy_resource(s: Subject) -> PolicyResource:
    provider = s.provider
    return PolicyResource(
        s.type,
        _sdk_props(s.props),
        s.urn,
        s.name,
        OPTIONS,
        PolicyProviderResource(
            provider.type, _sdk_props(provider.props), provider.urn, provider.name
        )
        if provider is not None
        else None,
        None,
        [],
        {},
    )


def rule_costs(per_resource: list[Subject], stack: list[Subject]) -> dict[str, float]:
    """Seconds each family's own code takes over the stack, in process, best of
    IN_PROCESS_REPEAT: the arguments are built beforehand exactly as the SDK builds them, so
    neither gRPC nor deserialization is counted."""
    resources = [_policy_resource(s) for s in per_resource]
    args = [
        ResourceValidationArgs(r.resource_type, r.props, r.urn, r.name, OPTIONS, r.provider)
        for r in resources
    ]
    stack_args = StackValidationArgs([_policy_resource(s) for s in stack])
    costs = {}
    for family in FAMILIES:
        runs = []
        for _ in range(1 + IN_PROCESS_REPEAT):  # the first pass warms caches and is dropped
            start = time.perf_counter()
            if family.stack:
                family.validate_stack(stack_args, _ignore)
            else:
                for a in args:
                    family.validate(a, _ignore)
            runs.append(time.perf_counter() - start)
        costs[family.name] = min(runs[1:])
    return costs


def _ignore(message: str, urn: str | None) -> None:
    pass


def noop_pack(tmp: Path, resource: int, stack: int) -> Path:
    pack = tmp / f"noop-{resource}-{stack}"
    pack.mkdir()
    (pack / "PulumiPolicy.yaml").write_text("runtime: python\nversion: 0.0.1\n")
    (pack / "__main__.py").write_text(NOOP_PACK.format(resource=resource, stack=stack))
    return pack


Traffic = tuple[list[Subject], list[Subject]]
FIRST_PREVIEW = "va-guard, all rules, first preview"


def totals(update: Traffic, preview: Traffic, tmp: Path) -> dict[str, float]:
    """Seconds per pack for the whole stack, best of ROUNDS interleaved rounds: this machine
    has slow spells lasting minutes, and a round through every pack spreads them evenly."""
    resource_policies, stack_policies = policy_counts()
    packs: dict[str, tuple[dict[str, Any], Traffic]] = {
        "no-op, 1 policy (floor)": ({"pack_dir": noop_pack(tmp, 1, 0)}, update),
        f"no-op, {resource_policies}+{stack_policies} policies (SDK, unshared)": (
            {"pack_dir": noop_pack(tmp, resource_policies, stack_policies)},
            update,
        ),
        "va-guard, SDK workarounds off": ({"env": {sdk_compat.SWITCH: "0"}}, update),
        "va-guard, all rules": ({}, update),
        FIRST_PREVIEW: ({}, preview),
    }
    best = dict.fromkeys(packs, float("inf"))
    for _ in range(ROUNDS):
        for label, (kwargs, (per_resource, stack)) in packs.items():
            with PolicyPackProcess(**kwargs) as pack:
                timed(pack, per_resource[:200], stack[:200])  # warm-up
                best[label] = min(best[label], timed(pack, per_resource, stack))
    return best


def per_rule(per_resource: list[Subject], stack: list[Subject]) -> dict[str, float]:
    """Seconds for N_PER_RULE resources with one policy on and the others disabled."""
    names = [f.name for f in FAMILIES]
    every = [*names, "va-notices", "va-stack-notices"]
    small = (per_resource[:N_PER_RULE], stack[:N_PER_RULE])
    seconds = {}
    with PolicyPackProcess() as pack:
        timed(pack, per_resource[:200], stack[:200])
        for name in [*names, "va-notices"]:
            others = [other for other in every if other != name]
            pack.configure({other: {"enforcementLevel": "disabled"} for other in others})
            seconds[name] = timed(pack, *small)
    return seconds


def main() -> None:
    console = Console()
    per_resource, stack = synthetic_stack(N)
    preview = synthetic_stack(N, "preview")
    resource_policies, stack_policies = policy_counts()
    with tempfile.TemporaryDirectory() as tmp:
        best = totals((per_resource, stack), preview, Path(tmp))
    floor, sdk, unshared, full, first_preview = best.values()
    alone = per_rule(per_resource, stack)

    us = 1e6 / N
    table = Table(title=f"va-guard over gRPC, {N} resources (Analyze each + AnalyzeStack)")
    for col in ("pack", "total s", "µs/resource", "x floor"):
        table.add_column(col, justify="right")
    for label, seconds in best.items():
        table.add_row(label, f"{seconds:.2f}", f"{seconds * us:.0f}", f"{seconds / floor:.2f}")
    console.print(table)
    costs = rule_costs(per_resource, stack)
    rules = Table(title=f"what each rule costs: its own code in process, {N} resources")
    for col in ("policy", "rule code µs/resource", f"gRPC, alone, {N_PER_RULE} res. µs/resource"):
        rules.add_column(col, justify="right")
    for name, seconds in alone.items():
        own = f"{costs[name] * us:.0f}" if name in costs else "-"
        rules.add_row(name, own, f"{seconds * 1e6 / N_PER_RULE:.0f}")
    rules.add_row("all rules", f"{sum(costs.values()) * us:.0f}", "")
    console.print(rules)
    ok_ratio, ok_total = full / floor <= 2.5, full < 10
    console.print(
        f"targets: ratio {full / floor:.2f} <= 2.5 {'met' if ok_ratio else 'MISSED'}; "
        f"total {full:.1f} s < 10 s {'met' if ok_total else 'MISSED'}\n"
        f"unshared, the SDK decodes every resource once per policy: {resource_policies} "
        f"resource and {stack_policies} stack policies doing nothing take {sdk:.1f} s, va-guard "
        f"{unshared:.1f} s; sharing the decoding within a request saves {unshared - full:.1f} s\n"
        f"first preview: the same {N} resources with {unknowns(preview[0])} unknown input "
        f"values ({unknowns(preview[1])} in the stack view) take {first_preview:.1f} s, "
        f"{first_preview / floor:.2f}x the floor ({first_preview / full:.2f}x the update)"
    )


def unknowns(subjects: list[Subject]) -> int:
    return sum(count_unknowns(s.props) for s in subjects)


if __name__ == "__main__":
    main()
