"""ElastiCache: every cache encrypted at rest and in transit (part of va-data).

- **Replication groups** (Redis OSS, Valkey) set ``atRestEncryptionEnabled`` and
  ``transitEncryptionEnabled``; unset, Redis OSS's default is off for both (Valkey's is on at
  rest, off in transit; an unset ``engine`` is Redis OSS). ``transitEncryptionMode:
  preferred`` (the migration mode) still accepts clients in clear text. A secondary group of a
  global datastore (``globalReplicationGroupId``) takes its encryption from the datastore's
  primary group: judged there.
- **Cache clusters** (``elasticache.Cluster``) of Redis OSS or Valkey can encrypt neither at rest
  nor in transit (the API offers neither for them: only a replication group, one node or more,
  does); one of Memcached (no data at rest) sets ``transitEncryptionEnabled`` (Memcached 1.6.12
  and later). A cluster added to a replication group (``replicationGroupId``) is the group's.
- **Serverless caches** are always encrypted, at rest and in transit: nothing to check.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .framework import Finding, Resource, unchecked, violation
from .props import UNKNOWN, shown

REPLICATION_GROUP_TYPE = "aws:elasticache/replicationGroup:ReplicationGroup"
CLUSTER_TYPE = "aws:elasticache/cluster:Cluster"
TYPES = frozenset([REPLICATION_GROUP_TYPE, CLUSTER_TYPE])
ENCRYPTED_ALTERNATIVES = (
    "an aws.elasticache.ReplicationGroup (one node: numCacheClusters=1) with "
    "atRestEncryptionEnabled=true and transitEncryptionEnabled=true, or an "
    "aws.elasticache.ServerlessCache (always encrypted)"
)


def _state(value: Any) -> str:
    return "not set" if value is None else f"={shown(value)}"


def _replication_group(r: Resource) -> Iterator[Finding]:
    if r.get("globalReplicationGroupId") is UNKNOWN or r.get("globalReplicationGroupId"):
        return  # a secondary of a global datastore: encrypted, or not, by its primary group
    at_rest, engine = r.get("atRestEncryptionEnabled"), r.get("engine")
    if at_rest is UNKNOWN or (at_rest is None and engine is UNKNOWN):
        yield unchecked("the cache's encryption at rest (atRestEncryptionEnabled)")
    elif at_rest is None and isinstance(engine, str) and engine.lower() == "valkey":
        pass  # Valkey's default: encrypted at rest
    elif at_rest is not True:
        yield violation(
            f"the replication group is not encrypted at rest (atRestEncryptionEnabled "
            f"{_state(at_rest)}; Redis OSS's default is off): its data, snapshots and swap sit "
            "in clear on AWS's disks; set atRestEncryptionEnabled=true (and kmsKeyId for a "
            "customer managed key); an existing group is replaced to change it"
        )
    transit = r.get("transitEncryptionEnabled")
    mode = r.get("transitEncryptionMode")
    if transit is UNKNOWN:
        yield unchecked("the cache's encryption in transit (transitEncryptionEnabled)")
    elif transit is not True:
        yield violation(
            f"the replication group is not encrypted in transit (transitEncryptionEnabled "
            f"{_state(transit)}): clients and replicas talk to it in clear text inside the VPC; "
            "set transitEncryptionEnabled=true (and connect over TLS)"
        )
    elif mode is UNKNOWN:
        yield unchecked("whether the cache refuses clients in clear text (transitEncryptionMode)")
    elif mode == "preferred":
        yield violation(
            "transitEncryptionMode='preferred' still accepts clients in clear text (a mode "
            "for migrating them); once they connect over TLS, set "
            "transitEncryptionMode='required'"
        )


def _cluster(r: Resource) -> Iterator[Finding]:
    if r.get("replicationGroupId") is UNKNOWN or r.get("replicationGroupId"):
        return  # a node of a replication group: encrypted, or not, by the group
    engine = r.get("engine")
    if engine is UNKNOWN:
        yield unchecked("the cache's encryption (engine)")
        return
    if engine is None:
        return  # AWS refuses a cluster with no engine outside a replication group
    if isinstance(engine, str) and engine.lower() == "memcached":
        transit = r.get("transitEncryptionEnabled")
        if transit is UNKNOWN:
            yield unchecked("the cache's encryption in transit (transitEncryptionEnabled)")
        elif transit is not True:
            yield violation(
                f"the Memcached cluster is not encrypted in transit (transitEncryptionEnabled "
                f"{_state(transit)}): clients talk to it in clear text inside the VPC; set "
                "transitEncryptionEnabled=true (Memcached 1.6.12 or later) and connect over TLS"
            )
        return
    yield violation(
        f"a cache cluster of engine {shown(engine)} encrypts neither at rest nor in transit "
        "(aws.elasticache.Cluster offers neither for Redis OSS or Valkey): its data sits in "
        f"clear on AWS's disks and travels in clear text; use {ENCRYPTED_ALTERNATIVES}"
    )


def check(r: Resource) -> Iterator[Finding]:
    if r.type == REPLICATION_GROUP_TYPE:
        yield from _replication_group(r)
    elif r.type == CLUSTER_TYPE:
        yield from _cluster(r)
