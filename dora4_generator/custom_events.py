"""Custom `Deployment` events (docs/custom-events.md) as tools send them, with truth.

Any tool (GitHub Actions, GitLab CI, Argo CD, Jenkins, Terraform) reports a deployment with
`aws events put-events`: EventBridge wraps the entry in its envelope (source
DORA4_CUSTOM_SOURCE, detail-type `Deployment`). Planned a day at a time from their own
seeded RNG, after the scenario's and the DORA keys' day, so earlier variants stay as they
were. Each day: deployments owned by the event's own tags (some naming the component only
in the tags), deployments owned by a `resource` ARN whose AWS tags apply, one failed
deployment (a failure, not a deployment), and, when damage is planted (`corrupt`), one
invalid event of each kind in turn (a dead letter with its reason).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, timedelta, timezone
from random import Random

from dora4_generator.catalog import LAMBDA_FUNCTIONS, UNASSIGNED
from dora4_generator.dora_keys import _deliverable, _failure, _order, _owner, _t
from dora4_generator.envelope import Time, envelope, iso_seconds
from dora4_generator.firehose import at
from dora4_generator.scenario import DAY, HOUR, Scenario
from dora4_generator.specials import (
    SECOND,
    Context,
    Planned,
    iso_utc,
    near_miss_identity,
    rendered,
)

DEFAULT_SOURCE = "dora4"
TOOLS = ("github-actions", "gitlab-ci", "argo-cd", "jenkins", "terraform")
ZONES = (UTC, UTC, UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-5)))
PER_DAY = 4  # successful custom deployments a day (a few tools beside AWS's own signals)
# The tools' own components: (component, environment, tags). None: the tags name it.
TOOL_COMPONENTS = (
    ("mobile-api", "production", {"Ownership.BA": "commerce", "Ownership.Pod": "checkout",
     "Ownership.Team": "cart", "Git.Projectid": "230", "Git.Repository": "commerce/mobile-api"}),
    ("partner-portal", "production", {"Ownership.BA": "logistics",
     "Ownership.Pod": "shipping", "Ownership.Team": "carriers"}),
    ("partner-portal", "staging", {"Ownership.BA": "logistics", "Ownership.Pod": "shipping",
     "Ownership.Team": "carriers"}),
    (None, None, {"Ownership.BA": "payments", "Ownership.Pod": "ledger",
     "Ownership.Team": "ledger-core", "Component.Name": "ledger-warehouse",
     "Environment": "production", "Compliance.Namespace": "pci"}),
)  # fmt: skip
# Invalid events, in turn: truth kind -> what is wrong with the detail.
INVALID = {
    "custom_missing_id": {"deployment_id": None},
    "custom_bad_time": {"finished_at": "2026-03-17 14:02:11"},  # no zone: not RFC 3339
    "custom_bad_status": {"status": "success"},
    "custom_no_owner": {"tags": None, "resource": None},
}
_TRUTH_COLUMNS = {
    "Ownership.BA": "ownership_ba", "Ownership.Pod": "ownership_pod",
    "Ownership.Team": "ownership_team", "Environment": "environment",
    "Compliance.Namespace": "compliance_namespace", "Git.Projectid": "git_project_id",
    "Git.Repository": "git_repository",
}  # fmt: skip


def custom_deployment(
    *,
    envelope_id: str,
    envelope_time: Time,
    account: str,
    region: str,
    deployment_id: str | None,
    finished_at: Time,
    status: str = "succeeded",
    component: str | None = None,
    environment: str | None = None,
    version: str | None = None,
    tags: dict[str, str] | None = None,
    resource: str | None = None,
    source: str = DEFAULT_SOURCE,
) -> dict:
    """The event EventBridge delivers for one `put-events` entry of detail-type `Deployment`
    (absent values are left out of the detail, as a tool would)."""
    detail = {
        "id": deployment_id,
        "finished_at": iso_seconds(finished_at),
        "component": component,
        "environment": environment,
        "status": status,
        "version": version,
        "tags": tags,
        "resource": resource,
    }
    return envelope(
        event_id=envelope_id,
        detail_type="Deployment",
        source=source,
        account=account,
        time=envelope_time,
        region=region,
        resources=[],
        detail={k: v for k, v in detail.items() if v is not None},
    )


class CustomEvents:
    def __init__(self, scenario: Scenario, seed: int) -> None:
        self.scenario = scenario
        self.ctx = Context(Random(f"{seed}:custom"), scenario.ctx.account, scenario.ctx.region)
        self.failed: list[dict] = []
        self.invalid = 0

    def plan_day(self, day_index: int) -> list[Planned]:
        day_us = self.scenario.start_us + day_index * DAY
        out = [self._deployment(day_us, n) for n in range(PER_DAY)]
        out.append(self._failed(day_us))
        if self.scenario.corrupt:  # dead letters are planted only when damage is
            out.append(self._invalid(day_us))
        return out

    def _time(self, day_us: int) -> int:
        moment = self.ctx.between(day_us + HOUR, day_us + DAY - 2 * HOUR)
        return moment - moment % SECOND

    def _kwargs(self, finished_us: int, status: str = "succeeded", **detail) -> dict:
        ctx = self.ctx
        return dict(
            envelope_id=ctx.uuid(),
            envelope_time=at(finished_us + SECOND * ctx.rng.randrange(1, 20)),  # PutEvents time
            account=ctx.account,
            region=ctx.region,
            deployment_id=f"{ctx.rng.choice(TOOLS)}:{ctx.rng.randrange(10**9, 10**10)}:1",
            # RFC 3339 in UTC, or in the runner's own zone (the same instant)
            finished_at=at(finished_us)
            .astimezone(ctx.rng.choice(ZONES))
            .isoformat()
            .replace("+00:00", "Z"),
            status=status,
            version=f"v1.{ctx.rng.randrange(400)}.0",
            **detail,
        )

    def _planned(self, kwargs: dict, role: str, identity: str | None, mark=None) -> Planned:
        envelope_us = int(kwargs["envelope_time"].timestamp()) * SECOND
        arrival = _deliverable(
            envelope_us + self.ctx.between(SECOND, 30 * SECOND), self.scenario.start_us
        )
        build = rendered(custom_deployment, kwargs)
        return Planned(arrival, envelope_us, build, role, identity, mark=mark)

    def _deployment(self, day_us: int, n: int) -> Planned:
        finished_us = self._time(day_us)
        if n % 2 == 0:  # owned by the event's own tags
            component, environment, tags = self.ctx.rng.choice(TOOL_COMPONENTS)
            kwargs = self._kwargs(
                finished_us, component=component, environment=environment, tags=tags
            )
            row = _tool_truth(component, environment, tags)
            resource_id = component or tags["Component.Name"]
        else:  # owned by the AWS tags of a resource the tool deployed
            function = self.ctx.rng.choice(LAMBDA_FUNCTIONS)
            resource_id = function.resource_id(self.ctx.account, self.ctx.region)
            kwargs = self._kwargs(finished_us, resource=resource_id)
            row = function.ownership()
        identity = f"custom:{kwargs['deployment_id']}"
        self.scenario.truth[identity] = {
            "deployment_id": identity,
            "event_source": "custom",
            "deployed_at": iso_utc(finished_us),
            "day": at(finished_us).date().isoformat(),
            "component_type": "custom",
            "resource_id": resource_id,
            **row,
        }
        return self._planned(kwargs, "deployment", identity)

    def _failed(self, day_us: int) -> Planned:
        component, environment, tags = TOOL_COMPONENTS[0]  # production, tagged
        finished_us = self._time(day_us)
        kwargs = self._kwargs(
            finished_us, "failed", component=component, environment=environment, tags=tags
        )
        identity = near_miss_identity("custom_failed", f"custom:{kwargs['deployment_id']}")
        self.failed.append(
            {"identity": identity, "failure_id": f"custom:{kwargs['deployment_id']}",
             "started_at": iso_utc(finished_us), "component_name": component}
        )  # fmt: skip
        return self._planned(kwargs, "lookalike", identity)

    def _invalid(self, day_us: int) -> Planned:
        kind = list(INVALID)[self.invalid % len(INVALID)]
        self.invalid += 1
        component, environment, tags = TOOL_COMPONENTS[1]
        kwargs = self._kwargs(
            self._time(day_us), component=component, environment=environment, tags=tags
        )
        kwargs.update(INVALID[kind])
        return self._planned(kwargs, "invalid", None, mark=kind)


def _tool_truth(component: str | None, environment: str | None, tags: dict) -> dict:
    """Truth's component and ownership columns: the event's component and environment win
    over its tags; missing values are `unassigned`."""
    values = dict(tags)
    if component:
        values["Component.Name"] = component
    if environment:
        values["Environment"] = environment
    row = {"component_name": values.get("Component.Name", UNASSIGNED)}
    row.update({column: values.get(key, UNASSIGNED) for key, column in _TRUTH_COLUMNS.items()})
    return row


def truth(events: CustomEvents, deployments: list[dict], survived: set[str]) -> dict:
    """`custom_deployments`: counts by outcome (`failures` holds the failed ones too, by
    the README's rules: kind `failed_deployment`), and the failures' rows."""
    rows, done = [], set()
    for event in events.failed:
        if event["identity"] not in survived or event["failure_id"] in done:
            continue
        done.add(event["failure_id"])
        started = _t(event["started_at"])
        component = [d for d in deployments if d["component_name"] == event["component_name"]]
        after = [d for d in component if _t(d["deployed_at"]) > started]
        resolved = min(after, key=_order)["deployed_at"] if after else None
        _, owner = _owner(component, event["started_at"])
        attempt = {"deployment_id": event["failure_id"]}  # the failed attempt (spec r2)
        rows.append(
            _failure(event["failure_id"], "failed_deployment", event["started_at"], resolved,
                     attempt, owner, event["component_name"], "failed_attempt")
        )  # fmt: skip
    invalid = Counter(list(INVALID)[n % len(INVALID)] for n in range(events.invalid))
    succeeded = sum(d["event_source"] == "custom" for d in deployments)
    return {
        "custom_deployments": {"succeeded": succeeded, "failed": len(rows), "invalid": invalid},
        "failures": rows,
    }
