"""ECS services created before the long ARN format and later recreated under it.

A short-ARN service (`service/<name>`) cannot carry tags; once recreated in a cluster its
long ARN (`service/<cluster>/<name>`) carries them. Both forms are one component with one
history, so truth keys every deployment of such a service by the long ARN.
"""

from __future__ import annotations

from dora4_generator.catalog import Component
from dora4_generator.events import ecs_service_arn

# Short-ARN service name → the cluster its long ARN is in.
MIGRATED = {"warehouse-legacy": "logistics"}


def history_resource_id(component: Component, account: str, region: str) -> str:
    """Truth's resource id: a migrated short-ARN service is keyed by its long ARN."""
    cluster = MIGRATED.get(component.name) if component.kind == "ecs_service" else None
    if cluster and component.cluster is None:
        return ecs_service_arn(
            service=component.name, account=account, region=region, cluster=cluster
        )
    return component.resource_id(account, region)


def long_form(component: Component) -> Component | None:
    """The migrated service under its long ARN (same tags), or None if not migrated."""
    cluster = MIGRATED.get(component.name)
    if component.kind != "ecs_service" or component.cluster is not None or not cluster:
        return None
    return Component(component.kind, component.name, component.tags, cluster)


def history_arn(service_arn: str) -> str:
    """An event's service ARN as truth keys it: a migrated short ARN becomes the long one."""
    prefix, _, path = service_arn.partition(":service/")
    if "/" in path or path not in MIGRATED:
        return service_arn
    return f"{prefix}:service/{MIGRATED[path]}/{path}"
