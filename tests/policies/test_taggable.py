"""The taggable-types data file: generated from pulumi-aws, committed beside the pack."""

from __future__ import annotations

from policies.va_guard import taggable


def test_taggable_types_file_matches_the_installed_pulumi_aws():
    """Fails after a pulumi-aws upgrade until ``python -m policies.va_guard.taggable --write``."""
    assert taggable.DATA_FILE.read_text(encoding="utf-8") == taggable.generated_text()


def test_taggable_types_include_what_the_program_creates():
    types = taggable.taggable_types()
    assert "aws:lambda/function:Function" in types
    assert "aws:s3/bucket:Bucket" in types
    assert "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig" not in types
