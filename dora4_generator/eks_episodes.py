"""EKS as clusters really report it: rollouts, scale-to-zero, aggregated and templated events.

The pipeline counts a scale-down of a replica set to 0 only beside another replica set of
the same object scaled up within an hour (stg_eks_deployments.sql), so every EKS
deployment here comes with its new replica set's scale-up:
- RollingUpdate: the new set's scale-up 20 s to 4 min before the old set reaches 0;
  Recreate (RECREATE_SHARE): the old set reaches 0 first, the new one comes up 2 to 30 s
  later;
- AGGREGATED_SHARE of them were combined by client-go's event correlator: both messages
  start with "(combined from similar events): " and they are consecutive updates of one
  Event (same uid, count n and n ± 1, n > 10);
- ARGO_ROLLOUTS components are Argo Rollouts (kind Rollout, "Scaled down ReplicaSet <rs>
  (revision <r>) from <n> to 0").
Not deployments, with truth:
- OFF_HOURS components (staging previews) are scaled to 0 every evening and back every
  morning by a downscaler: the current replica set, "Scaled down replica set <rs> from n
  to 0", word for word a rollout's last step. Some days they also get a rollout (counted).
  Truth: `near_misses` (kind eks_scale_to_zero).
- With damage planted (`corrupt`), a legacy cluster's exporter uses the `details:` template
  of the exporter README: a dead letter per scale-down to 0 (kind eks_details_template).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from dora4_generator.catalog import Component
from dora4_generator.deployments import Deployment
from dora4_generator.firehose import EPOCH, at
from dora4_generator.k8s import (
    argo_scaling_message,
    eks_scaling_replica_set,
    exporter_details_template,
    scaling_message,
)
from dora4_generator.noise import pod_hash
from dora4_generator.specials import (
    SECOND,
    Context,
    Planned,
    eks_kwargs,
    iso_utc,
    near_miss_identity,
    rendered,
)

MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
RECREATE_SHARE = 0.1
AGGREGATED_SHARE = 0.1
OFF_HOURS_ROLLOUT_SHARE = 0.5  # of days on which a preview gets a rollout
COMBINED = "(combined from similar events): "
ARGO_ROLLOUTS = frozenset({"catalog-web"})
_PREVIEW_TAGS = {
    "Ownership.BA": "commerce",
    "Ownership.Pod": "checkout",
    "Ownership.Team": "cart",
    "Environment": "staging",
    "Compliance.Namespace": "commerce",
    "Git.Projectid": "77",
}
OFF_HOURS = tuple(
    Component(
        "k8s_deployment",
        name,
        {**_PREVIEW_TAGS, "Component.Name": name, "Git.Repository": f"commerce/{name}"},
        "eks-staging-eu-west-1",
        "previews",
        ("Git.Repository",),
    )
    for name in ("cart-api-preview", "checkout-web-preview")
)
LEGACY_CLUSTER_NAMESPACE = "legacy-shop"


def _micros(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(microseconds=1)


def _replica_set(message: str) -> str:
    return message.removeprefix(COMBINED).split()[4]


@dataclass
class _Pending:
    """A counted scale-down waiting for its new replica set's scale-up (made at day end)."""

    made: Deployment
    change_us: int
    new_replica_set: str
    replicas: int


class EksEpisodes:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.near_misses: list[dict] = []  # truth rows, filtered by survival in build.py
        self._pending: list[_Pending] = []
        self._current = {c.name: f"{c.name}-{pod_hash(ctx.rng)}" for c in OFF_HOURS}

    # counted deployments -----------------------------------------------------------------
    def rollout(self, made: Deployment) -> Deployment:
        """`made` as its rollout reports it (Argo wording, aggregation); its companion
        scale-up is planned when the day's deliveries are known (`plan_day`)."""
        if made.truth["component_type"] != "k8s_deployment":
            return made
        rng, kwargs = self.ctx.rng, dict(made.kwargs)
        moment = kwargs["last_timestamp"] or kwargs.get("event_time")
        old, replicas = _replica_set(kwargs["message"]), rng.randrange(2, 6)
        new = f"{kwargs['deployment']}-{pod_hash(rng)}"
        if kwargs["deployment"] in ARGO_ROLLOUTS:
            revision = kwargs["revision"]
            kwargs.update(
                involved_kind="Rollout",
                message=argo_scaling_message(old, revision=revision - 1, old=replicas, new=0),
            )
        identity = made.planned.identity
        if rng.random() < AGGREGATED_SHARE:
            kwargs.update(count=rng.randrange(11, 60), message=COMBINED + kwargs["message"])
            identity = f"eks:{kwargs['uid']}:{kwargs['count']}"
        planned = replace(made.planned, render=rendered(made.build, kwargs), identity=identity)
        truth = dict(made.truth, deployment_id=identity)
        made = Deployment(planned, truth, made.build, kwargs)
        self._pending.append(_Pending(made, _micros(moment), new, replicas))
        return made

    def plan_day(self, day_us: int, truth: dict[str, dict], corrupt: bool) -> list[Planned]:
        """The day's companion scale-ups, off-hours episodes and templated events."""
        out = [self._companion(p, day_us) for p in self._pending]
        self._pending = []
        for component in OFF_HOURS:
            out += self._off_hours(component, day_us, truth)
        if corrupt:
            out += self._templated(day_us)
        return out

    def _companion(self, pending: _Pending, day_us: int) -> Planned:
        """The new replica set's scale-up: before the scale-down, or after it (Recreate;
        never for a deployment planted into damage, whose object may be cut after it); never
        before the day began, so that it falls in the days its deployment is run for."""
        ctx, made = self.ctx, pending.made
        kwargs = made.kwargs
        after = made.planned.mark is None and ctx.rng.random() < RECREATE_SHARE
        if after:
            change_us = pending.change_us + SECOND * ctx.rng.randrange(2, 31)
        else:
            change_us = max(day_us, pending.change_us - ctx.between(20 * SECOND, 4 * MINUTE))
        change_us -= change_us % SECOND
        if kwargs.get("involved_kind") == "Rollout":
            message = argo_scaling_message(
                pending.new_replica_set, revision=kwargs["revision"], old=0, new=pending.replicas
            )
        else:
            message = scaling_message(
                pending.new_replica_set, old=0, new=pending.replicas, wording=kwargs["count"] % 3
            )
        companion = dict(
            kwargs,
            envelope_id=ctx.uuid(),
            envelope_time=at(change_us + SECOND * ctx.rng.randrange(1, 4)),
            last_timestamp=at(change_us),
            event_time=None,
        )
        if kwargs["message"].startswith(COMBINED):
            companion.update(
                message=COMBINED + message, count=kwargs["count"] + (1 if after else -1)
            )
        else:
            companion.update(message=message, uid=ctx.uuid(), count=1)
        envelope_us = _micros(companion["envelope_time"])
        planned = Planned(
            0,
            envelope_us,
            rendered(eks_scaling_replica_set, companion),
            "lookalike",
            near_miss_identity("eks_scale_up", f"eks:{companion['uid']}:{companion['count']}"),
        )
        if after:
            planned.arrival_us = envelope_us + ctx.between(SECOND, 60 * SECOND)
        else:  # just ahead of the scale-down, in its object or an earlier one
            planned.arrival_us, planned.rank = made.planned.arrival_us, 0
        return planned

    # off-hours downscaling ---------------------------------------------------------------
    def _off_hours(self, component: Component, day_us: int, truth: dict) -> list[Planned]:
        ctx, replicas = self.ctx, 2
        morning = day_us + 6 * HOUR + ctx.between(30 * MINUTE, 90 * MINUTE)
        out = [self._scale(component, self._current[component.name], morning, 0, replicas)]
        if ctx.rng.random() < OFF_HOURS_ROLLOUT_SHARE:
            deploy_us = day_us + ctx.between(9 * HOUR, 17 * HOUR)
            deploy_us -= deploy_us % SECOND
            new = f"{component.name}-{pod_hash(ctx.rng)}"
            up_us = deploy_us - ctx.between(20 * SECOND, 4 * MINUTE)
            out.append(self._scale(component, new, up_us, 0, replicas))
            down = self._scale(component, self._current[component.name], deploy_us, replicas, 0)
            down.role = "deployment"
            truth[down.identity] = {
                "deployment_id": down.identity,
                "event_source": "eks",
                "deployed_at": iso_utc(deploy_us),
                "day": at(deploy_us).date().isoformat(),
                "component_type": component.kind,
                "resource_id": component.resource_id(ctx.account, ctx.region),
                **component.ownership(),
            }
            out.append(down)
            self._current[component.name] = new
        evening_us = day_us + 18 * HOUR + ctx.between(30 * MINUTE, 2 * HOUR)
        evening_us -= evening_us % SECOND
        down = self._scale(component, self._current[component.name], evening_us, replicas, 0)
        self.near_misses.append(
            {
                "near_miss_kind": "eks_scale_to_zero",
                "deployment_id": down.identity,
                "changed_at": iso_utc(evening_us),
                "day": at(evening_us).date().isoformat(),
                "resource_id": component.resource_id(ctx.account, ctx.region),
            }
        )
        return [*out, down]

    def _scale(self, component: Component, replica_set: str, change_us: int, old: int, new: int):
        ctx = self.ctx
        change_us -= change_us % SECOND
        envelope_us = change_us + SECOND * ctx.rng.randrange(1, 6)
        message = scaling_message(replica_set, old=old, new=new, wording=2)
        kwargs = eks_kwargs(ctx, component, envelope_us, change_us, message)
        identity = (
            f"eks:{kwargs['uid']}:1"
            if new == 0
            else near_miss_identity("eks_scale_up", f"eks:{kwargs['uid']}:1")
        )
        planned = Planned(0, envelope_us, rendered(eks_scaling_replica_set, kwargs), "lookalike")
        planned.identity = identity
        planned.arrival_us = envelope_us + ctx.between(SECOND, 60 * SECOND)
        return planned

    # the exporter's details: template ----------------------------------------------------
    def _templated(self, day_us: int) -> list[Planned]:
        """A legacy cluster's rollout as the README's template sends it: scale-up, then the
        scale-down to 0 (a dead letter)."""
        ctx, out = self.ctx, []
        deploy_us = day_us + ctx.between(11 * HOUR, 15 * HOUR)
        steps = (
            (f"shop-{pod_hash(ctx.rng)}", 0, 3, deploy_us - 90 * SECOND),
            (f"shop-{pod_hash(ctx.rng)}", 3, 0, deploy_us),
        )
        for replica_set, old, new, change_us in steps:
            envelope_us = change_us - change_us % SECOND + SECOND * ctx.rng.randrange(1, 6)
            kwargs = dict(
                envelope_id=ctx.uuid(),
                envelope_time=at(envelope_us),
                account=ctx.account,
                region=ctx.region,
                namespace=LEGACY_CLUSTER_NAMESPACE,
                message=scaling_message(replica_set, old=old, new=new, wording=0),
            )
            planned = Planned(
                0, envelope_us, rendered(exporter_details_template, kwargs), "lookalike"
            )
            if new == 0:
                planned.role, planned.mark = "invalid", "eks_details_template"
            planned.arrival_us = envelope_us + ctx.between(SECOND, 60 * SECOND)
            out.append(planned)
        return out
