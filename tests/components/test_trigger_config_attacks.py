"""Attack review of issue 16: trigger config AWS accepts but that never works, or that AWS refuses
half-way through `pulumi up`.

Bucket filters S3 accepts but never matches.

S3 compares a notification's prefix and suffix with the URL-encoded object key: "If your prefix
or suffix contains a space, you must replace it with the '+' character. If you use any other
special characters in the value of the prefix or suffix, you must enter them in URL-encoded
(percent-encoded) format" (S3 User Guide, "Configuring event notifications using object key name
filtering"; the safe characters are letters, digits, ``!-_.*'()`` and ``/``). A Hive-style
``year=2024/`` deploys and never starts the function; ``year%3D2024/`` does.
"""

from __future__ import annotations

import pytest

from tests.support import build_lambda, one, spec
from va_platform.components.lambda_function.triggers import (
    BucketTrigger,
    EventsTrigger,
    HttpTrigger,
    check_triggers,
)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        pytest.param("prefix", "exports/year=2024/", id="equals-sign"),
        pytest.param("prefix", "my uploads/", id="space"),
        pytest.param("suffix", "report (1)&.csv", id="ampersand"),
        pytest.param("prefix", "entwürfe/", id="non-ascii"),
    ],
)
def test_bucket_filter_with_a_character_s3_wants_url_encoded_is_refused(key, value):
    with pytest.raises(ValueError, match="URL-encoded"):
        BucketTrigger.model_validate({"kind": "bucket", key: value})


@pytest.mark.parametrize(
    ("key", "value"),
    [
        pytest.param("prefix", "exports/year%3D2024/", id="percent-encoded"),
        pytest.param("prefix", "my+uploads/", id="space-as-plus"),
        pytest.param("suffix", ".tar.gz", id="dots"),
        pytest.param("prefix", "a-b_c!d'e(f)/", id="safe-specials"),
    ],
)
def test_bucket_filter_as_s3_matches_it_passes(key, value):
    trigger = BucketTrigger.model_validate({"kind": "bucket", key: value})
    assert getattr(trigger, key) == value


# --- a function's resource policy -------------------------------------------------------------
# Each HTTP API route, events rule and bucket adds one statement (about 420 characters) to the
# function's resource policy, which Lambda caps at 20 KB: past about 45, `pulumi up` fails on
# AddPermission ("The final policy size ... is bigger than the limit"), after the API and its
# routes were created.


def test_more_invoke_permissions_than_lambdas_policy_holds_are_refused():
    routes = [f"GET /items{i}" for i in range(60)]
    with pytest.raises(ValueError, match="20 KB"):
        check_triggers(
            (HttpTrigger.model_validate({"kind": "http", "via": "api", "routes": routes}),)
        )


def test_routes_events_and_buckets_count_together_against_the_policy_size():
    routes = [f"GET /items{i}" for i in range(35)]
    events = [
        EventsTrigger.model_validate({"kind": "events", "pattern": {"source": [f"s{i}"]}})
        for i in range(10)
    ]
    api = HttpTrigger.model_validate({"kind": "http", "via": "api", "routes": routes})
    with pytest.raises(ValueError, match="20 KB"):
        check_triggers((api, *events))


def test_thirty_routes_and_a_bucket_fit_the_policy():
    api = HttpTrigger.model_validate(
        {"kind": "http", "via": "api", "routes": [f"GET /items{i}" for i in range(30)]}
    )
    check_triggers((api, BucketTrigger.model_validate({"kind": "bucket"})))


# --- releases: what the triggers invoke -------------------------------------------------------
# Lambda keeps asynchronous invocation settings (retries, event age, destinations) per function,
# version or alias: a published function's triggers invoke its `live` alias, so settings put on
# the unqualified function never apply to what S3, EventBridge and the scheduler deliver; its
# onFailure destination stays silent.

FAILURE = "arn:aws:sns:eu-central-1:123456789012:va-dev-failures-topic"
RULE = {"kind": "events", "pattern": {"source": ["va.orders"]}}


def async_config(artifact, **fields) -> dict:
    run = build_lambda(artifact, spec=spec(**fields))
    assert run.error is None, run.error
    return one(run, "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig")


def test_published_functions_async_settings_are_on_the_alias_its_triggers_invoke(artifact):
    config = async_config(
        artifact, publish=True, triggers=[RULE], destinations={"onFailure": FAILURE}
    )
    assert config.get("qualifier") == "live"


def test_unpublished_functions_async_settings_are_on_the_function(artifact):
    config = async_config(artifact, triggers=[RULE], destinations={"onFailure": FAILURE})
    assert config.get("qualifier") is None
