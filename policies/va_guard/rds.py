"""RDS databases: never publicly accessible, storage always encrypted (part of va-data).

An instance in an Aurora cluster (``clusterIdentifier``) is encrypted by its cluster, and a read
replica (``replicateSourceDb``) by its source; both are judged there. A cluster with
``engineMode: serverless`` is encrypted unless ``storageEncrypted`` is set to false (AWS's
default for that mode). DocumentDB and Neptune clusters (same API family) leave their storage
unencrypted unless ``storageEncrypted`` is true.
"""

from __future__ import annotations

from collections.abc import Iterator

from .framework import Finding, Resource, unchecked, violation
from .props import UNKNOWN, shown

INSTANCE_TYPE = "aws:rds/instance:Instance"
CLUSTER_TYPE = "aws:rds/cluster:Cluster"
# Clusters of the RDS family whose storage is unencrypted unless storageEncrypted is true (the
# provider's and AWS's default is false): service and key property, for the message.
OTHER_CLUSTERS = {
    "aws:docdb/cluster:Cluster": ("DocumentDB", "kmsKeyId"),
    "aws:neptune/cluster:Cluster": ("Neptune", "kmsKeyArn"),
}
TYPES = frozenset([INSTANCE_TYPE, CLUSTER_TYPE, *OTHER_CLUSTERS])


def _other_cluster(r: Resource, service: str, key: str) -> Iterator[Finding]:
    encrypted = r.get("storageEncrypted")
    if encrypted is UNKNOWN:
        yield unchecked("storage encryption (storageEncrypted)")
    elif encrypted is not True:
        now = "not set" if encrypted is None else f"={shown(encrypted)}"
        yield violation(
            f"the cluster's storage is not encrypted (storageEncrypted {now}; {service}'s "
            "default is false): its data, backups and snapshots sit in clear on AWS's disks; "
            f"set storageEncrypted=true (and {key} for a customer managed key); an existing "
            "cluster is replaced to change it (VA standard: all data encrypted)"
        )


def check(r: Resource) -> Iterator[Finding]:
    other = OTHER_CLUSTERS.get(r.type)
    if other is not None:
        yield from _other_cluster(r, *other)
        return
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
