"""What a child agent costs its parent: only what its handler proves under the parent's key."""

from __future__ import annotations

import json
import urllib.request

from faalf import children
from faalf.proxy import CHILD_PATH, Session

NONCE = bytes(range(32))
SECRET = "sk-ant-api03-only-handlers-hold-this"
KEY = children.cost_key(NONCE, SECRET)
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


def test_the_childs_event_carries_a_nonce_and_no_key():
    event = children.child_request({"task": "t"}, 0, GRANT, NONCE)

    assert event[children.COST_NONCE] == NONCE.hex()
    assert KEY.hex() not in json.dumps(event)


def test_a_proof_keyed_by_the_nonce_alone_is_charged_the_grant():
    """What an agent that reads its event through the Runtime API can make, without the API
    key: the Bedrock-mode key."""
    forged = children.cost_proof(children.cost_key(NONCE, None), 0.0)

    assert children.cost_of(answer({"cost_proof": forged}), GRANT, KEY) == GRANT


def test_a_proof_for_another_nonce_is_charged_the_grant():
    other = children.cost_proof(children.cost_key(bytes(32), SECRET), 0.0)

    assert children.cost_of(answer({"cost_proof": other}), GRANT, KEY) == GRANT


def child_through_the_proxy(api_key: str | None, child_proofs: bool, proven: float) -> float:
    """A parent's proxy asks for one child, whose handler proves ``proven`` with the key it
    derives from its event's nonce and ``api_key``; what the parent was charged."""
    from faalf.proxy import KeyProxy

    def honest_child(function: str, event: dict[str, object]) -> dict[str, object]:
        key = children.cost_key(bytes.fromhex(str(event[children.COST_NONCE])), api_key)
        return answer({"cost_proof": children.cost_proof(key, proven)})

    proxy = KeyProxy("http://127.0.0.1:9", (lambda: api_key) if api_key else None,
                     invoker=lambda: honest_child)  # fmt: skip
    try:
        with proxy.session(["m"], GRANT, 100, on_spend=lambda usd: None, max_depth=1,
                           child_proofs=child_proofs) as session:  # fmt: skip
            request = urllib.request.Request(
                proxy.url + CHILD_PATH, data=json.dumps({"task": "t"}).encode(),
                headers={"x-api-key": session.token}, method="POST")  # fmt: skip
            urllib.request.urlopen(request, timeout=10).read()
            return session.children_usd
    finally:
        proxy.close()


def test_a_child_proving_its_cost_with_the_api_key_is_charged_that_cost():
    assert child_through_the_proxy(SECRET, child_proofs=True, proven=0.01) == 0.01


def test_where_proofs_cannot_be_believed_every_child_is_charged_its_grant():
    """Bedrock mode where the fence does not close the Runtime API: the key comes from the nonce
    alone, which the child's agent can read, so even a valid-looking proof is not believed."""
    assert child_through_the_proxy(None, child_proofs=False, proven=0.01) == GRANT
