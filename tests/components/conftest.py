"""Fixtures the component tests share."""

from __future__ import annotations

import pytest

from tests.support import package


@pytest.fixture(scope="module")
def artifact(tmp_path_factory):
    """A zip package for a VaLambda, built once per test module."""
    return package(tmp_path_factory.mktemp("pkg"))
