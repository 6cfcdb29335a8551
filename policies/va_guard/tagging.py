"""va-tagging: the five VA tags on every taggable AWS resource, provider defaultTags included."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from . import exemptions, standard
from .framework import (
    EXEMPT_TAG,
    Config,
    Family,
    Finding,
    Resource,
    string_list,
    text,
    unchecked,
    violation,
    warning,
)
from .props import UNKNOWN, get, json_document, string_map
from .taggable import taggable_types

SETTINGS = {
    "requiredTags": string_list(standard.REQUIRED_TAGS, "Tags every taggable resource must carry."),
    "environments": string_list(standard.ENVIRONMENTS, "Allowed values of the Environment tag."),
    "project": text(standard.PROJECT, "Required value of the Project tag."),
}


def default_tags(provider: Mapping[str, Any]) -> dict[str, Any] | Any:
    """The provider's ``defaultTags.tags``; the engine may send the object as a JSON string."""
    value = get(provider, "defaultTags")
    if value is UNKNOWN:
        return UNKNOWN
    if isinstance(value, str):
        value = json_document(value)
    tags = get(value, "tags")
    return UNKNOWN if tags is UNKNOWN else string_map(tags)


def _check_exempt_tag(value: Any) -> Iterator[Finding]:
    """The tag names the exemptions granted to the resource (``EX-12``, ``EX-12 EX-13``). Its
    former form, ``<policy>: <reason>``, exempts nothing any more: a warning, not a violation
    (nothing it does is harmful; the violations it used to hide are back and say why)."""
    if value is None or value is UNKNOWN or exemptions.tag_ids(value) is not None:
        return
    if exemptions.parse_legacy_tag(value) is not None:
        yield warning(
            f"tag {EXEMPT_TAG}={value!r} uses the old '<policy>: <reason>' form, which exempts "
            f"nothing since va-guard {exemptions.SINCE}; ask the platform team for an "
            "exemption and tag the resource with its id"
        )
        return
    yield violation(
        f"tag {EXEMPT_TAG}={value!r} is malformed; write the ids of the exemptions granted to "
        "the resource, e.g. 'EX-12' (several: 'EX-12 EX-13')"
    )


def check(r: Resource, config: Config) -> Iterator[Finding]:
    if r.type not in taggable_types():
        return
    own = r.get("tags")
    defaults = default_tags(r.provider)
    if own is UNKNOWN or defaults is UNKNOWN:
        yield unchecked("the tags (tags, or the provider's defaultTags)")
        return
    tags = {**defaults, **r.tags}
    missing = [key for key in config["requiredTags"] if tags.get(key) in (None, "")]
    if missing:
        yield violation(
            f"missing tags {', '.join(missing)}; every taggable resource carries "
            f"{', '.join(config['requiredTags'])} (in tags or the provider's defaultTags)"
        )
    env = tags.get("Environment")
    if isinstance(env, str) and env and env not in config["environments"]:
        yield violation(
            f"tag Environment={env!r} is not allowed; use one of "
            f"{', '.join(config['environments'])}"
        )
    project = tags.get("Project")
    if isinstance(project, str) and project and project != config["project"]:
        yield violation(f"tag Project={project!r} must be {config['project']!r}")
    unknown_values = sorted(k for k, v in tags.items() if v is UNKNOWN)
    if unknown_values:
        yield unchecked(f"the values of tags {', '.join(unknown_values)}")
    yield from _check_exempt_tag(tags.get(EXEMPT_TAG))


FAMILY = Family(
    name="va-tagging",
    description=(
        "Every taggable AWS resource carries Name, Environment, Purpose, Project and Owner; "
        "Environment is dev/test/prod and Project is VirtualAgentics."
    ),
    remediation=(
        "Add the missing tags to the resource or to the provider's defaultTags.tags (VA "
        "tagging standard); a va:policy-exempt tag names the ids of the exemptions the "
        "organisation granted to the resource ('EX-12 EX-13')."
    ),
    check=check,
    settings=SETTINGS,
    applies_to=lambda type_: type_ in taggable_types(),
)
