"""va-compute: EC2 instances and launch templates keep their disks encrypted and their role's
credentials behind IMDSv2.

- **Encrypted volumes.** An instance's root volume (``rootBlockDevice``) and extra EBS volumes
  (``ebsBlockDevices``), a launch template's mapped EBS volumes, set ``encrypted``. Unset, the
  volume is encrypted only if the account turned EBS encryption on by default, which the stack
  does not show; the VA standard (Control Tower: all data encrypted) says so explicitly.
- **IMDSv2 only.** With ``metadataOptions.httpTokens`` not ``required`` the instance answers
  IMDSv1: one server-side request forgery in any software on it reads the credentials of its
  role from ``169.254.169.254``. Unset, most AMIs default to ``optional``. A metadata service
  turned off (``httpEndpoint: disabled``) is fine too.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .framework import Config, Family, Finding, Resource, unchecked, violation
from .props import UNKNOWN, get, items_of, shown

INSTANCE_TYPE = "aws:ec2/instance:Instance"
LAUNCH_TEMPLATE_TYPE = "aws:ec2/launchTemplate:LaunchTemplate"


def _on(value: Any) -> bool:
    """``true`` as the provider takes it: a bool, or (launch templates) the string "true"."""
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _metadata(r: Resource, what: str) -> Iterator[Finding]:
    options = r.get("metadataOptions")
    tokens, endpoint = get(options, "httpTokens"), get(options, "httpEndpoint")
    if UNKNOWN in (options, tokens, endpoint):
        yield unchecked("the instance metadata service (metadataOptions)")
    elif tokens != "required" and endpoint != "disabled":
        now = (
            f"httpTokens={shown(tokens)}" if tokens else "httpTokens not set (most AMIs: optional)"
        )
        yield violation(
            f"{what} answers IMDSv1 ({now}): a request forgery in any software on it reads its "
            "role's credentials from the metadata service; set metadataOptions.httpTokens="
            "'required' (IMDSv2 only)"
        )


def _instance_volumes(r: Resource) -> Iterator[Finding]:
    root = r.get("rootBlockDevice")
    encrypted = get(root, "encrypted")
    if UNKNOWN in (root, encrypted):
        yield unchecked("the root volume's encryption (rootBlockDevice.encrypted)")
    elif not _on(encrypted):
        yield violation(
            f"the root volume is not encrypted (rootBlockDevice.encrypted={shown(encrypted)}; "
            "unset, only an account-wide EBS default would encrypt it): set "
            "rootBlockDevice.encrypted=true (and kmsKeyId for a customer managed key)"
        )
    devices = r.get("ebsBlockDevices")
    if devices is UNKNOWN:
        yield unchecked("the EBS volumes' encryption (ebsBlockDevices)")
        return
    for device in items_of(devices):
        flag = get(device, "encrypted")
        if flag is UNKNOWN:
            yield unchecked(f"the encryption of volume {shown(get(device, 'deviceName'))}")
        elif not _on(flag):
            yield violation(
                f"EBS volume {shown(get(device, 'deviceName'))} is not encrypted: set "
                "ebsBlockDevices[].encrypted=true"
            )


def _template_volumes(r: Resource) -> Iterator[Finding]:
    mappings = r.get("blockDeviceMappings")
    if mappings is UNKNOWN:
        yield unchecked("the volumes' encryption (blockDeviceMappings)")
        return
    for mapping in items_of(mappings):
        ebs = get(mapping, "ebs")
        if ebs is None:
            continue  # an instance store or a suppressed device: nothing to encrypt here
        flag = get(ebs, "encrypted")
        if flag is UNKNOWN:
            yield unchecked(f"the encryption of volume {shown(get(mapping, 'deviceName'))}")
        elif not _on(flag):
            yield violation(
                f"EBS volume {shown(get(mapping, 'deviceName'))} of the template is not "
                "encrypted: set blockDeviceMappings[].ebs.encrypted='true'"
            )


def check(r: Resource, config: Config) -> Iterator[Finding]:
    if r.type == INSTANCE_TYPE:
        yield from _instance_volumes(r)
        yield from _metadata(r, "the instance")
    elif r.type == LAUNCH_TEMPLATE_TYPE:
        yield from _template_volumes(r)
        yield from _metadata(r, "an instance launched from the template")


FAMILY = Family(
    name="va-compute",
    description=(
        "EC2 instances and launch templates encrypt their EBS volumes and take IMDSv2 only "
        "(metadataOptions.httpTokens required)."
    ),
    remediation=(
        "Set rootBlockDevice.encrypted / ebsBlockDevices[].encrypted (launch templates: "
        "blockDeviceMappings[].ebs.encrypted) and metadataOptions.httpTokens='required'."
    ),
    check=check,
    applies_to=frozenset([INSTANCE_TYPE, LAUNCH_TEMPLATE_TYPE]).__contains__,
)
