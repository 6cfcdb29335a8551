"""Org-wide means any shape: generated resources (invented ones, and the dev stack's with
unknowns anywhere and optional fields missing) through Analyze/AnalyzeStack never break the
pack: no gRPC error, no rule crash, no proxy object shown."""

from __future__ import annotations

import grpc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.policies.strategies import KEYS, any_resources, read_names
from va_platform.preflight.analyzer import PolicyPackProcess

BATCH = 20
EXAMPLES = 110  # x BATCH = 2,200 resources
# A rule that raised (now a mandatory "could not be checked"), or a message showing an SDK
# proxy object instead of the value.
BROKEN = ("internal error", "could not be checked (", " object at 0x")


@pytest.fixture(scope="module")
def pack():
    with PolicyPackProcess() as process:
        yield process


def test_generated_resources_get_well_formed_answers(pack):
    analyzed = []

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])  # fmt: skip
    @given(st.lists(any_resources, min_size=BATCH, max_size=BATCH))
    def check(batch):
        diagnostics = []
        try:
            for r in batch:
                diagnostics += pack.analyze(r)
            diagnostics += pack.analyze_stack(batch)
        except grpc.RpcError as exc:  # pragma: no cover - the failure this test exists for
            pytest.fail(f"gRPC error {exc.code()}: {exc.details()}\n{pack.stderr()[-3000:]}")
        broken = [d.detail for d in diagnostics if any(s in d.detail for s in BROKEN)]
        assert broken == []
        analyzed.extend(batch)

    check()
    assert len(analyzed) >= 2000


def test_fuzzed_property_names_are_the_ones_the_rules_read():
    # Through a path read, a tuple of names, a subscript; and the exemption tag.
    assert {"subnetIds", "cidrBlocks", "Statement", "va:policy-exempt"} <= set(KEYS)
    source = (
        '"""Reads "docName" nowhere."""\n'
        'r.get("vpcConfig", "subnetIds")\nNAMES = ("cidrBlocks", "not a name")\n'
        'doc["Statement"]\nif x == "compared": pass\n'
    )
    assert read_names(source) == {"vpcConfig", "subnetIds", "cidrBlocks", "Statement"}
