"""What a child agent costs its parent: only what its handler proves under the parent's key."""

from __future__ import annotations

from faalf import children
from faalf.proxy import Session

KEY = bytes(range(32))
GRANT = 0.05


def answer(body: dict[str, object], status: int = 200) -> dict[str, object]:
    return {"statusCode": status, "body": body}


def test_a_child_whose_proof_verifies_is_charged_its_proven_cost():
    proof = children.cost_proof(KEY, 0.0123)

    assert children.cost_of(answer({"cost_usd": 0, "cost_proof": proof}), GRANT, KEY) == 0.0123


def test_a_child_reporting_its_cost_without_a_proof_is_charged_its_grant():
    assert children.cost_of(answer({"cost_usd": 0}), GRANT, KEY) == GRANT


def test_a_proof_made_under_another_key_is_charged_the_grant():
    forged = children.cost_proof(bytes(32), 0.0)

    assert children.cost_of(answer({"cost_proof": forged}), GRANT, KEY) == GRANT


def test_a_proof_whose_amount_was_lowered_is_charged_the_grant():
    proof = children.cost_proof(KEY, 0.04) | {"usd": 0.0}

    assert children.cost_of(answer({"cost_proof": proof}), GRANT, KEY) == GRANT


def test_a_proven_cost_above_the_grant_is_clamped_to_it():
    proof = children.cost_proof(KEY, 9.0)

    assert children.cost_of(answer({"cost_proof": proof}), GRANT, KEY) == GRANT


def test_a_child_still_running_when_the_invocation_ends_is_charged_its_grant():
    session = Session("t", frozenset({"m"}), budget_usd=0.05, max_output_tokens=10, max_depth=1)
    grant = session.admit_child()
    session.close()
    session.settle_child(grant, 0.0)  # it answers later, claiming nothing: too late to count

    assert session.children_usd == grant.reservation
