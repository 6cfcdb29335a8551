"""Attack review of issue 16: bucket trigger filters S3 accepts but never matches.

S3 compares a notification's prefix and suffix with the URL-encoded object key: "If your prefix
or suffix contains a space, you must replace it with the '+' character. If you use any other
special characters in the value of the prefix or suffix, you must enter them in URL-encoded
(percent-encoded) format" (S3 User Guide, "Configuring event notifications using object key name
filtering"; the safe characters are letters, digits, ``!-_.*'()`` and ``/``). A Hive-style
``year=2024/`` deploys and never starts the function; ``year%3D2024/`` does.
"""

from __future__ import annotations

import pytest

from components.lambda_function.triggers import BucketTrigger


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
