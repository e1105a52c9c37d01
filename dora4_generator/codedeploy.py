"""ECS blue/green through CodeDeploy, a second AWS account, and a service migrated from the
short ECS ARN to the long one: the events, the fake accounts' state, and truth.

CodeDeploy's state-change event names the application and deployment group, never the
service (AWS docs: https://docs.aws.amazon.com/codedeploy/latest/userguide/monitoring-cloudwatch-events.html
and https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-codedeploy.html). The
group's ECS services are what GetDeploymentGroup answers; the generator writes them into
tags.json keyed by the group's ARN, beside the tags, as the fake accounts' state.

Each blue/green deployment sends START, then SUCCESS (counted: a deployment of the group's
service) or, now and then, FAILURE. SUCCESS of a group that does not deploy ECS (Server)
or that no longer exists is a near miss (truth `codedeploy_near_misses`).
"""

from __future__ import annotations

from dataclasses import dataclass
from random import Random

from dora4_generator.catalog import ECS_SERVICES, Component
from dora4_generator.deployments import deployment
from dora4_generator.envelope import envelope
from dora4_generator.firehose import at
from dora4_generator.migrations import history_resource_id, long_form
from dora4_generator.specials import SECOND, Context, Planned, iso_utc, rendered

SECOND_ACCOUNT = "777788889999"  # a second account archived into the same bus
SHARE = 0.08  # CodeDeploy deployments per counted deployment of the day
FAILURE_SHARE = 0.1
LATE_SHARE = 0.05
HOUR = 3600 * SECOND


@dataclass(frozen=True)
class Group:
    """A CodeDeploy deployment group: where it lives and what it deploys."""

    account: str  # "main" or the second account
    application: str
    name: str
    platform: str | None  # "ECS" | "Server"; None: deleted (GetDeploymentGroup fails)
    service: Component | None  # the ECS service it deploys

    def account_id(self, main: str) -> str:
        return main if self.account == "main" else self.account

    def arn(self, main: str, region: str) -> str:
        return (
            f"arn:aws:codedeploy:{region}:{self.account_id(main)}:deploymentgroup:"
            f"{self.application}/{self.name}"
        )


def _tags(ba: str, pod: str, team: str, component: str, project: str) -> dict[str, str]:
    compliance = {"payments": "pci", "commerce": "commerce"}[ba]
    return {
        "Ownership.BA": ba,
        "Ownership.Pod": pod,
        "Ownership.Team": team,
        "Environment": "production",
        "Component.Name": component,
        "Compliance.Namespace": compliance,
        "Git.Projectid": project,
        "Git.Repository": f"{ba}/{component}",
    }


PAYOUTS = Component(
    "ecs_service",
    "payouts-api",
    _tags("payments", "ledger", "payouts", "payouts-api", "112"),
    "payments",
)
STOREFRONT = Component(
    "ecs_service",
    "storefront",
    _tags("commerce", "checkout", "cart", "storefront", "212"),
    "edge",
)
EDGE_ROUTER = Component(
    "ecs_service",
    "edge-router",
    _tags("commerce", "catalog", "search", "edge-router", "213"),
    "edge",
)
BLUE_GREEN_COMPONENTS = (PAYOUTS, STOREFRONT, EDGE_ROUTER)  # their Git projects get pushes
GROUPS = (
    Group("main", "AppECS-payments-payouts-api", "DgpECS-payments-payouts-api", "ECS", PAYOUTS),
    Group(SECOND_ACCOUNT, "AppECS-edge-storefront", "DgpECS-edge-storefront", "ECS", STOREFRONT),
    Group(SECOND_ACCOUNT, "batch-hosts", "batch-hosts-prod", "Server", None),
    Group("main", "AppECS-retired-reports", "DgpECS-retired-reports", None, None),
)
# Each day's CodeDeploy deployments, in turn: mostly ECS, some near misses.
_ROTATION = (0, 1, 0, 1, 2, 0, 1, 3)


def codedeploy_deployment_state_change(
    *,
    envelope_id: str,
    envelope_time,
    account: str,
    region: str,
    application: str,
    deployment_group: str,
    deployment_id: str,
    state: str,
    instance_group_id: str,
) -> dict:
    """`CodeDeploy Deployment State-change Notification`, shaped as AWS documents it."""
    prefix = f"arn:aws:codedeploy:{region}:{account}"
    return envelope(
        event_id=envelope_id,
        detail_type="CodeDeploy Deployment State-change Notification",
        source="aws.codedeploy",
        account=account,
        time=envelope_time,
        region=region,
        resources=[
            f"{prefix}:application:{application}",
            f"{prefix}:deploymentgroup:{application}/{deployment_group}",
        ],
        detail={
            "instanceGroupId": instance_group_id,
            "region": region,
            "application": application,
            "deploymentId": deployment_id,
            "state": state,
            "deploymentGroup": deployment_group,
        },
    )


def estate(tags: dict[str, dict[str, str]], account: str, region: str) -> dict[str, dict]:
    """tags.json: the catalog's tags, the migrated services under their long ARN only (a
    short ARN cannot carry tags), the CodeDeploy services' tags in both accounts, and the
    deployment groups as GetDeploymentGroup would answer (a deleted group is absent)."""
    out = dict(tags)
    for component in ECS_SERVICES:
        if long_form(component) and component.tags:
            out.pop(component.resource_id(account, region), None)
            out[history_resource_id(component, account, region)] = dict(component.tags)
    for group in GROUPS:
        if group.service:
            service_arn = group.service.resource_id(group.account_id(account), region)
            out[service_arn] = dict(group.service.tags or {})
        if group.platform:
            services = []
            if group.service:
                services = [
                    {"serviceName": group.service.name, "clusterName": group.service.cluster}
                ]
            out[group.arn(account, region)] = {
                "deploymentGroupName": group.name,
                "applicationName": group.application,
                "computePlatform": group.platform,
                "ecsServices": services,
            }
    second = EDGE_ROUTER.resource_id(SECOND_ACCOUNT, region)
    out[second] = dict(EDGE_ROUTER.tags or {})
    return out


class CodeDeployPlanner:
    """Plans each day's CodeDeploy events and second-account ECS deployments, with truth.

    Its own seeded RNG: the rest of the archive is the same with or without it.
    """

    def __init__(self, seed: int, account: str, region: str, truth: dict[str, dict]) -> None:
        self.rng = Random(f"{seed}:codedeploy")
        self.main = Context(self.rng, account, region)
        self.second = Context(self.rng, SECOND_ACCOUNT, region)
        self.truth = truth  # the scenario's deployment truth, shared
        self.near_misses: dict[str, dict] = {}

    def plan_day(self, day_us: int, deployments: int) -> list[Planned]:
        """Blue/green deployments (and near misses), rolling ECS deployments in the second
        account, and rolling deployments of migrated services under their long ARN."""
        out: list[Planned] = []
        day = 24 * HOUR
        for turn in range(max(len(_ROTATION), round(deployments * SHARE))):
            group = GROUPS[_ROTATION[turn % len(_ROTATION)]]
            change_us = self.main.between(day_us + 600 * SECOND, day_us + day - 600 * SECOND)
            out += self._blue_green(group, change_us - change_us % SECOND)
        rolling = [(self.second, EDGE_ROUTER)] * max(2, round(deployments * SHARE / 2))
        rolling += [(self.main, c) for c in filter(None, map(long_form, ECS_SERVICES))]
        for ctx, component in rolling:
            change_us = ctx.between(day_us, day_us + day - 60 * SECOND)
            made = deployment(ctx, component, change_us, 0, SECOND)
            self.truth[made.planned.identity] = made.truth
            out.append(made.planned)
        for planned in out:
            late = self.rng.random() < LATE_SHARE
            low, high = (HOUR, 20 * HOUR) if late else (SECOND, 60 * SECOND)
            planned.arrival_us = planned.envelope_us + self.main.between(low, high)
        return out

    def _blue_green(self, group: Group, change_us: int) -> list[Planned]:
        ctx = self.main if group.account == "main" else self.second
        deployment_id = "d-" + "".join(
            self.rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") for _ in range(9)
        )
        failed = self.rng.random() < FAILURE_SHARE
        started_us = change_us - SECOND * self.rng.randrange(120, 900)
        common = dict(
            account=ctx.account,
            region=ctx.region,
            application=group.application,
            deployment_group=group.name,
            deployment_id=deployment_id,
            instance_group_id=ctx.uuid(),
        )
        start = self._event(ctx, started_us, "START", common, "lookalike")
        if failed:
            return [start, self._event(ctx, change_us, "FAILURE", common, "lookalike")]
        identity = f"codedeploy:{deployment_id}"
        if group.platform == "ECS" and group.service:
            success = self._event(ctx, change_us, "SUCCESS", common, "deployment", identity)
            self.truth[identity] = {
                "deployment_id": identity,
                "event_source": "ecs",
                "deployed_at": iso_utc(change_us),
                "day": at(change_us).date().isoformat(),
                "component_type": "ecs_service",
                "resource_id": group.service.resource_id(ctx.account, ctx.region),
                **group.service.ownership(),
            }
        else:
            success = self._event(ctx, change_us, "SUCCESS", common, "lookalike", identity)
            self.near_misses[identity] = {
                "deployment_id": identity,
                "near_miss_kind": "codedeploy_not_ecs"
                if group.platform
                else "codedeploy_group_unresolved",
                "day": at(change_us).date().isoformat(),
                "resource_id": group.arn(self.main.account, ctx.region),
            }
        return [start, success]

    def _event(
        self, ctx: Context, when_us: int, state: str, common: dict, role: str, identity=None
    ):
        kwargs = dict(common, envelope_id=ctx.uuid(), envelope_time=at(when_us), state=state)
        render = rendered(codedeploy_deployment_state_change, kwargs)
        return Planned(0, when_us, render, role, identity)

    def truth_near_misses(self, survived: set[str]) -> list[dict]:
        rows = (r for k, r in self.near_misses.items() if k in survived)
        return sorted(rows, key=lambda r: (r["day"], r["deployment_id"]))
