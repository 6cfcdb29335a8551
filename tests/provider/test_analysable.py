"""Pulumi's schema analyser (pulumi.provider.experimental) reads a component class's annotations
through its whole MRO: the provider's subclasses inherit the real components' annotations, so
those must be evaluated types the analyser understands."""

import inspect

import pytest
from pulumi.provider.experimental.analyzer import Analyzer

from va_platform import components
from va_platform.components.base import VaComponent

COMPONENTS = [
    getattr(components, name)
    for name in components.__all__
    if inspect.isclass(getattr(components, name))
    and issubclass(getattr(components, name), VaComponent)
]


@pytest.mark.parametrize("component", COMPONENTS, ids=lambda c: c.__name__)
def test_component_annotations_are_analysable(component):
    Analyzer("va").analyze_type(component, is_component_output=True)


def test_type_token_module_is_no_output_of_a_component():
    outputs, _ = Analyzer("va").analyze_type(components.VaSecret, is_component_output=True)
    assert not outputs


def test_network_zones_given_as_a_list_are_kept_as_a_tuple():
    ctx = components.VaContext(environment="dev", owner="platform-team")
    args = components.VaNetworkArgs(
        context=ctx, region="eu-central-1", vpc_cidr="10.20.0.0/16",
        availability_zones=["eu-central-1a", "eu-central-1b"], purpose="core",
    )  # fmt: skip
    assert args.availability_zones == ("eu-central-1a", "eu-central-1b")
