"""va-runtime-patch (advisory): each message says who patches what."""

from __future__ import annotations

from policies.va_guard import runtime_patch
from tests.policies.support import violations

FN = "aws:lambda/function:Function"


def test_managed_runtime_on_auto_is_silent():
    assert violations(runtime_patch.FAMILY, FN, {"runtime": "python3.11"}) == []


def test_manual_update_mode_says_aws_stops_patching():
    props = {"updateRuntimeOn": "Manual", "runtimeVersionArn": "arn:aws:lambda:x:runtime:abc"}
    (message,) = violations(runtime_patch.FAMILY, runtime_patch.RUNTIME_MANAGEMENT_TYPE, props)
    assert "AWS applies no security patches" in message
    assert "You patch" in message


def test_container_image_says_you_patch_the_image():
    (message,) = violations(runtime_patch.FAMILY, FN, {"packageType": "Image"})
    assert "You patch the base image's OS packages, the language runtime" in message


def test_custom_runtime_says_you_patch_the_runtime_you_ship():
    (message,) = violations(runtime_patch.FAMILY, FN, {"runtime": "provided.al2023"})
    assert (
        "AWS patches the Amazon Linux 2023 execution environment; you patch the runtime" in message
    )
