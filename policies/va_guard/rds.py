"""RDS databases: never publicly accessible, storage always encrypted (part of va-data).

An instance in an Aurora cluster (``clusterIdentifier``) is encrypted by its cluster, and a read
replica (``replicateSourceDb``) by its source; both are judged there. A cluster with
``engineMode: serverless`` is encrypted unless ``storageEncrypted`` is set to false (AWS's
default for that mode).
"""

from __future__ import annotations

from collections.abc import Iterator

from .framework import Finding, Resource, unchecked, violation
from .props import UNKNOWN

INSTANCE_TYPE = "aws:rds/instance:Instance"
CLUSTER_TYPE = "aws:rds/cluster:Cluster"
TYPES = frozenset([INSTANCE_TYPE, CLUSTER_TYPE])


def check(r: Resource) -> Iterator[Finding]:
    public = r.get("publiclyAccessible")
    if public is UNKNOWN:
        yield unchecked("public accessibility (publiclyAccessible)")
    elif public is True:
        yield violation(
            "publiclyAccessible=true gives the database a public address; set it to false and "
            "reach it from inside the VPC (VA standard: nothing public)"
        )
    if r.type == INSTANCE_TYPE and (r.get("clusterIdentifier") or r.get("replicateSourceDb")):
        return  # encrypted, or not, by its cluster or source
    encrypted = r.get("storageEncrypted")
    if encrypted is UNKNOWN:
        yield unchecked("storage encryption (storageEncrypted)")
        return
    serverless = r.type == CLUSTER_TYPE and r.get("engineMode") == "serverless"
    if encrypted is not True and not (serverless and encrypted is None):
        yield violation(
            "the database's storage is not encrypted; set storageEncrypted=true (and kmsKeyId "
            "for a customer-managed key) (VA standard: all data encrypted)"
        )
