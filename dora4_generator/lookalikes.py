"""Candidates that must not count: failed calls, unfinished or failed rollouts, scale-ups,
scale-downs that leave replicas, and other events on the same Deployments and Pods.
"""

from __future__ import annotations

from dora4_generator.catalog import Component
from dora4_generator.events import (
    ecs_deployment_state_change,
    eks_scaling_replica_set,
    k8s_event,
    lambda_update_function_code,
    scaling_message,
)
from dora4_generator.firehose import at
from dora4_generator.noise import pod_hash
from dora4_generator.specials import (
    SECOND,
    Context,
    Planned,
    eks_kwargs,
    lambda_kwargs,
    near_miss_identity,
    rendered,
)

# Kind -> the source whose components it concerns.
LOOKALIKES = {
    "lambda_failed": "lambda",
    "ecs_in_progress": "ecs",
    "ecs_failed": "ecs",
    "eks_scale_up": "eks",
    "eks_scale_down_partial": "eks",
    "k8s_other": "eks",
}
_ERRORS = (
    "ResourceConflictException",
    "InvalidParameterValueException",
    "CodeStorageExceededException",
)
_OTHER_REASONS = (  # involved kind, reason, message, reporting component, type
    ("Pod", "Pulled", 'Successfully pulled image "{image}" in 1.2s', "kubelet", "Normal"),
    ("Pod", "Created", "Created container app", "kubelet", "Normal"),
    ("Pod", "Started", "Started container app", "kubelet", "Normal"),
    ("Pod", "BackOff", "Back-off restarting failed container app in pod {pod}", "kubelet",
     "Warning"),
    ("ReplicaSet", "SuccessfulCreate", "Created pod: {pod}", "replicaset-controller", "Normal"),
)  # fmt: skip


def lookalike(ctx: Context, kind: str, component: Component, change_us: int, turn: int) -> Planned:
    """One look-alike of `kind`; `turn` (how many of this kind came before) rotates variants."""
    change_us -= change_us % SECOND
    envelope_us = change_us + SECOND * ctx.rng.randrange(1, 6)
    if kind == "lambda_failed":
        envelope_us, build = change_us, lambda_update_function_code
        kwargs = lambda_kwargs(
            ctx, component, change_us, turn,
            publish=ctx.rng.random() < 0.5, error_code=_ERRORS[turn % len(_ERRORS)],
        )  # fmt: skip
    elif kind.startswith("ecs_"):
        build, kwargs = ecs_deployment_state_change, _ecs(ctx, kind, component, envelope_us, turn)
        kwargs["updated_at"] = at(change_us + 1000 * ctx.rng.randrange(1000))
    elif kind.startswith("eks_"):
        old, new = (0, 3) if kind == "eks_scale_up" else (3, 1)
        replica_set = f"{component.name}-{pod_hash(ctx.rng)}"
        message = scaling_message(replica_set, old=old, new=new, wording=turn % 3)
        build, kwargs = (
            eks_scaling_replica_set,
            eks_kwargs(ctx, component, envelope_us, change_us, message),
        )
    else:
        build, kwargs = k8s_event, _k8s_other(ctx, component, envelope_us, change_us, turn)
        return Planned(0, envelope_us, rendered(build, kwargs), "lookalike")  # no signal
    near_miss = near_miss_identity(kind, kwargs["envelope_id"])
    return Planned(0, envelope_us, rendered(build, kwargs), "lookalike", near_miss)


def _ecs(ctx: Context, kind: str, component: Component, envelope_us: int, turn: int) -> dict:
    reason = None
    if kind == "ecs_in_progress" and turn % 3 == 0:
        reason = (
            "ECS deployment circuit breaker: rolling back to deploymentId "
            f"{ctx.ecs_deployment_id()}."
        )
    failed = kind == "ecs_failed"
    return dict(
        envelope_id=ctx.uuid(),
        envelope_time=at(envelope_us),
        service_arn=component.resource_id(ctx.account, ctx.region),
        event_name="SERVICE_DEPLOYMENT_FAILED" if failed else "SERVICE_DEPLOYMENT_IN_PROGRESS",
        deployment_id=ctx.ecs_deployment_id(),
        account=ctx.account,
        region=ctx.region,
        reason=reason,
    )


def _k8s_other(
    ctx: Context, component: Component, envelope_us: int, change_us: int, turn: int
) -> dict:
    kind, reason, message, reporter, level = _OTHER_REASONS[turn % len(_OTHER_REASONS)]
    replica_set = f"{component.name}-{pod_hash(ctx.rng)}"
    pod = f"{replica_set}-{pod_hash(ctx.rng, 5)}"
    image = f"{ctx.account}.dkr.ecr.{ctx.region}.amazonaws.com/{component.name}:release"
    labels = None if component.tags is None else {"app": component.name, **component.tags}
    return dict(
        envelope_id=ctx.uuid(),
        envelope_time=at(envelope_us),
        account=ctx.account,
        region=ctx.region,
        cluster_name=component.cluster,
        namespace=component.namespace,
        uid=ctx.uuid(),
        reason=reason,
        message=message.format(image=image, pod=pod),
        involved_kind=kind,
        involved_name=replica_set if kind == "ReplicaSet" else pod,
        involved_uid=ctx.uuid(),
        last_timestamp=at(change_us),
        labels=labels,
        type=level,
        component=reporter,
    )
