"""Kubernetes events as kubernetes-event-exporter sends them to EventBridge.

The detail is the exporter's whole EnhancedEvent: the Kubernetes Event, `clusterName`,
and `involvedObject` with its labels looked up. With the exporter's `omitLookup` there
are no labels: pass `labels=None` and the key is absent, as the exporter omits it.
"""

from __future__ import annotations

from dora4_generator.envelope import Time, envelope, iso_micros, iso_seconds

EXPORTER_SOURCE = "kubernetes-event-exporter"
EXPORTER_DETAIL_TYPE = "Kubernetes Event"
_API_VERSIONS = {
    "Deployment": "apps/v1",
    "ReplicaSet": "apps/v1",
    "Pod": "v1",
    "Rollout": "argoproj.io/v1alpha1",
}
# The three wordings of ScalingReplicaSet the deployment controller has used.
WORDINGS = ("to {new}", "to {new} from {old}", "from {old} to {new}")


def scaling_message(replica_set: str, *, old: int, new: int, wording: int) -> str:
    """`Scaled down replica set rs to 0` and its variants; `wording` indexes WORDINGS."""
    direction = "up" if new > old else "down"
    return f"Scaled {direction} replica set {replica_set} " + WORDINGS[wording].format(
        old=old, new=new
    )


def argo_scaling_message(replica_set: str, *, revision: int, old: int, new: int) -> str:
    """Argo Rollouts >= 1.0 (utils/conditions/conditions.go, ScalingReplicaSetMessage)."""
    direction = "up" if new > old else "down"
    return f"Scaled {direction} ReplicaSet {replica_set} (revision {revision}) from {old} to {new}"


def _optional(value: Time | None, render) -> str | None:
    return None if value is None else render(value)


def k8s_event(
    *,
    envelope_id: str,
    envelope_time: Time,
    account: str,
    region: str,
    cluster_name: str,
    namespace: str,
    uid: str,
    reason: str,
    message: str,
    involved_kind: str,
    involved_name: str,
    involved_uid: str,
    last_timestamp: Time | None,
    count: int = 1,
    first_timestamp: Time | None = None,
    event_time: Time | None = None,
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
    type: str = "Normal",
    component: str = "deployment-controller",
    name: str | None = None,
    source: str = EXPORTER_SOURCE,
    detail_type: str = EXPORTER_DETAIL_TYPE,
) -> dict:
    """Any Kubernetes Event; `last_timestamp=None` with `event_time` is the events.k8s.io form."""
    created = last_timestamp if last_timestamp is not None else event_time
    involved: dict = {
        "kind": involved_kind,
        "namespace": namespace,
        "name": involved_name,
        "uid": involved_uid,
        "apiVersion": _API_VERSIONS.get(involved_kind, "v1"),
        "resourceVersion": "1234",
    }
    if labels:  # `omitempty` in the exporter's EnhancedObjectReference
        involved["labels"] = dict(labels)
    if annotations:
        involved["annotations"] = dict(annotations)
    involved["deleted"] = False
    first = first_timestamp if first_timestamp is not None else last_timestamp
    detail = {
        "metadata": {
            "name": name or f"{involved_name}.{uid.replace('-', '')[:16]}",
            "namespace": namespace,
            "uid": uid,
            "resourceVersion": "4242",
            "creationTimestamp": _optional(created, iso_seconds),
        },
        "reason": reason,
        "message": message,
        "source": {"component": component},
        "firstTimestamp": _optional(first, iso_seconds),
        "lastTimestamp": _optional(last_timestamp, iso_seconds),
        "count": count,
        "type": type,
        "eventTime": _optional(event_time, iso_micros),
        "reportingComponent": component,
        "reportingInstance": "",
        "clusterName": cluster_name,
        "involvedObject": involved,
    }
    return envelope(
        event_id=envelope_id,
        detail_type=detail_type,
        source=source,
        account=account,
        time=envelope_time,
        region=region,
        resources=[],
        detail=detail,
    )


def eks_scaling_replica_set(
    *,
    envelope_id: str,
    envelope_time: Time,
    account: str,
    region: str,
    cluster_name: str,
    namespace: str,
    deployment: str,
    uid: str,
    message: str,
    last_timestamp: Time | None,
    count: int = 1,
    event_time: Time | None = None,
    labels: dict[str, str] | None = None,
    revision: int = 7,
    deployment_uid: str | None = None,
    annotations: dict[str, str] | None = None,
    involved_kind: str = "Deployment",
) -> dict:
    """`ScalingReplicaSet` on a Deployment (or Argo Rollouts' Rollout): a deploy when `message`
    scales the old set to 0 beside another set's scale-up. The exporter adds the object's
    labels and annotations (the revision annotation only from exporters that keep
    `kubernetes.io/` keys: resmoio's since v1.6)."""
    return k8s_event(
        envelope_id=envelope_id,
        envelope_time=envelope_time,
        account=account,
        region=region,
        cluster_name=cluster_name,
        namespace=namespace,
        uid=uid,
        reason="ScalingReplicaSet",
        message=message,
        involved_kind=involved_kind,
        involved_name=deployment,
        involved_uid=deployment_uid or f"uid-{namespace}-{deployment}",
        last_timestamp=last_timestamp,
        count=count,
        event_time=event_time,
        labels=labels,
        annotations=None
        if labels is None and annotations is None
        else {"deployment.kubernetes.io/revision": str(revision), **(annotations or {})},
        component="rollouts-controller" if involved_kind == "Rollout" else "deployment-controller",
    )


def exporter_details_template(
    *,
    envelope_id: str,
    envelope_time: Time,
    account: str,
    region: str,
    namespace: str,
    message: str,
    reason: str = "ScalingReplicaSet",
    source: str = "cd",
    detail_type: str = "deployment",
) -> dict:
    """What the exporter sends with the `details:` template of its README's only EventBridge
    example: `{message: "{{ .Message }}", namespace: "{{ .Namespace }}", reason: "{{ .Reason }}",
    object: "{{ .Namespace }}"}` (sic), source `cd`, detail-type `deployment`. Every value is a
    rendered string; no uid, no count, no labels, no times."""
    detail = {"message": message, "namespace": namespace, "reason": reason, "object": namespace}
    return envelope(
        event_id=envelope_id,
        detail_type=detail_type,
        source=source,
        account=account,
        time=envelope_time,
        region=region,
        resources=[],
        detail=detail,
    )
