"""GitLab pushes, Opsgenie alerts, Lambda rollbacks and ECS circuit breakers, with truth.

Planned a day at a time after the scenario's own day (it sees that day's deployments), from
its own seeded RNG, so the deployments, look-alikes and noise of a seed stay as they were.
Truth (`changes`, `failures`) is computed at the end from the deployments that survived
and the records that were written whole, with the README's rules:
- pushes: several a day per GitLab project, commits minutes to days old, committer clocks in
  several zones; one push a day to a feature branch (ignored), one delivered twice, one whose
  commit is stamped after its deployment (clock skew: a non-positive lead time).
- alerts: P1/P2 named by details["Component.Name"] or a `component:<name>` tag, P3 (not
  counted), Acknowledge actions, one still open, one before any deployment of its component.
- Lambda: every deployment has its own codeSha256, and some redeploy the one before the
  previous (a rollback); after a rollback, some deploy the newer code again (a
  roll-forward: no rollback, and like every redeploy it ships no commits; spec r2).
- ECS: a circuit breaker a day: FAILED, the rollback's IN_PROGRESS ("rolling back to
  deploymentId ...") and its COMPLETED (a deployment); plus the scenario's FAILED look-alikes.
  Spec r2: the failed attempt is the failure's deployment_id; the rollback ships no commits.
"""

from __future__ import annotations

import base64
import hashlib
import inspect
import json
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from random import Random

from dora4_generator.catalog import COMPONENTS, ECS_SERVICES
from dora4_generator.codedeploy import BLUE_GREEN_COMPONENTS
from dora4_generator.deployments import deployment
from dora4_generator.events import ecs_deployment_state_change, lambda_update_function_code
from dora4_generator.firehose import at
from dora4_generator.incidents import custom_truth, explicit_link
from dora4_generator.migrations import history_arn, history_resource_id
from dora4_generator.relays import (
    HOOK_COMMITS,
    gitlab_compare,
    partner_alert,
    relay_of,
    relayed_push,
)
from dora4_generator.scenario import CORRUPTIONS, DAY, HOUR, WINDOW, Scenario
from dora4_generator.specials import (
    SECOND,
    Context,
    Planned,
    iso_utc,
    near_miss_identity,
    rendered,
)
from dora4_generator.webhooks import iso_with_offset

MINUTE = 60 * SECOND
ROLLBACK_SHARE = 0.15  # Lambda deployments that redeploy the code before the previous one
ROLL_FORWARD_SHARE = 0.5  # after a rollback: the newer code deployed again
_OFFSETS = (0, 60, 120, -300, 330)  # committers' UTC offsets, minutes
_PRODUCTION = [c for c in COMPONENTS if (c.tags or {}).get("Environment") == "production"]
_PROJECTS = sorted(
    {(c.tags["Git.Projectid"], c.tags["Git.Repository"])
     for c in COMPONENTS + BLUE_GREEN_COMPONENTS if c.tags
     and "Git.Projectid" in c.tags}
)  # fmt: skip
_ALERT_COMPONENTS = sorted({c.tags["Component.Name"] for c in _PRODUCTION})
_PRODUCTION_SERVICES = [c for c in ECS_SERVICES if c in _PRODUCTION]


def _us_of(text: str) -> int:
    """Microseconds since the epoch of a truth timestamp."""
    moment = datetime.fromisoformat(text)
    return int(moment.timestamp()) * SECOND + moment.microsecond


def _deliverable(arrival_us: int, start_us: int) -> int:
    """Moved past the five-minute windows of planted damage: a record added there would
    change where the truncated object is cut, and so the scenario's truth."""
    while 0 <= arrival_us - start_us < DAY and (arrival_us - start_us) // WINDOW in _DAMAGED:
        arrival_us += WINDOW
    return arrival_us


class DoraKeys:
    def __init__(self, scenario: Scenario, seed: int) -> None:
        self.scenario = scenario
        self.ctx = Context(Random(f"{seed}:dora-keys"), scenario.ctx.account, scenario.ctx.region)
        self.pushes: list[dict] = []
        self.alerts: list[dict] = []  # one per alert event
        self.ecs_failed: list[dict] = []
        self.code_sha: dict[str, str] = {}  # lambda deployment_id -> codeSha256
        self.heads: dict[str, str] = {}  # project -> its default branch's last pushed commit
        self.gitlab_api: dict[str, list[dict]] = {}  # "<project> <before> <after>" -> commits
        self.ecs_rollbacks: dict[str, str] = {}  # IN_PROGRESS identity -> rollback's deployment
        self._code_history: dict[str, list[str]] = defaultdict(list)

    # planning ---------------------------------------------------------------------------
    def plan_day(self, day_index: int, scenario_planned: list[Planned]) -> list[Planned]:
        day_us = self.scenario.start_us + day_index * DAY
        made, self.scenario.made[:] = list(self.scenario.made), []
        self._code_shas(made)
        self._track_failed_lookalikes(scenario_planned)
        out = self._pushes(day_us) + self._alerts(day_index, day_us)
        return out + self._circuit_breaker(day_us)

    def _time(self, low_us: int, high_us: int) -> int:
        """A whole second in [low, high)."""
        moment = self.ctx.between(low_us, high_us)
        return moment - moment % SECOND

    def _code_shas(self, made: list) -> None:
        """Each Lambda deployment's codeSha256, in time order; some redeploy an older one."""
        lambdas = [m for m in made if m.truth["event_source"] == "lambda"]
        for m in sorted(lambdas, key=lambda m: (m.truth["deployed_at"], m.planned.identity)):
            history = self._code_history[m.truth["resource_id"]]
            rolled_back = len(history) >= 3 and history[-1] == history[-3] != history[-2]
            if rolled_back and self.ctx.rng.random() < ROLL_FORWARD_SHARE:
                sha = history[-2]  # the fix goes out again: N5 → N3 → N5 (a roll-forward)
            elif len(history) >= 2 and self.ctx.rng.random() < ROLLBACK_SHARE:
                sha = history[-2]
            else:
                digest = hashlib.sha256(m.planned.identity.encode()).digest()
                sha = base64.b64encode(digest).decode()
            history.append(sha)
            m.kwargs["code_sha256"] = sha  # rendered when its object is written, later
            self.code_sha[m.planned.identity] = sha

    def _track_failed_lookalikes(self, planned: list[Planned]) -> None:
        for p in planned:
            if p.role != "lookalike" or "SERVICE_DEPLOYMENT_FAILED" not in (text := p.render()):
                continue
            event = json.loads(text)
            p.identity = f"ecs-failed:{event['detail']['deploymentId']}"  # to see it survive
            self.ecs_failed.append(
                {
                    "identity": p.identity,
                    "deployment_id": event["detail"]["deploymentId"],
                    "started_at": event["detail"]["updatedAt"],
                    "service_arn": history_arn(event["resources"][0]),
                }
            )

    def _planned(self, envelope_us: int, build, kwargs: dict, identity: str, **kw) -> Planned:
        arrival = envelope_us + self.ctx.between(SECOND, 30 * SECOND)
        arrival = _deliverable(arrival, self.scenario.start_us)
        return Planned(arrival, envelope_us, rendered(build, kwargs), "lookalike", identity, **kw)

    # GitLab -----------------------------------------------------------------------------
    def _pushes(self, day_us: int) -> list[Planned]:
        rng, out = self.ctx.rng, []
        for project_id, repository in _PROJECTS:
            for _ in range(rng.randint(1, 3)):
                push_us = self._time(day_us + 2 * MINUTE, day_us + DAY - 10 * MINUTE)
                commits = [
                    self._commit(push_us - self.ctx.between(MINUTE, 2 * DAY))
                    for _ in range(rng.randint(1, 3))
                ]
                out.append(self._push(push_us, project_id, repository, commits))
        feature = rng.choice(_PROJECTS)
        push_us = self._time(day_us + HOUR, day_us + DAY - HOUR)
        commits = [self._commit(push_us - 5 * MINUTE)]
        out.append(self._push(push_us, *feature, commits, ref="refs/heads/feature/faster"))
        early = [p for p in out[:-1] if p.envelope_us < day_us + DAY - HOUR]
        again = rng.choice(early)  # the same bytes delivered again, in a later object
        arrival = _deliverable(again.arrival_us + 7 * WINDOW, self.scenario.start_us)
        out.append(
            Planned(arrival, again.envelope_us, again.render, "lookalike", again.identity,
                    copy=True)
        )  # fmt: skip
        return out + self._skewed_push(day_us) + self._big_push(day_us)

    def _big_push(self, day_us: int) -> list[Planned]:
        """A push of 21 to 45 commits: the hook lists the newest 20 (relays.py); its own RNG,
        so the rest of the day stays as it was."""
        rng = Random(f"big-push:{day_us}")
        project_id, repository = rng.choice(_PROJECTS)
        push_us = day_us + rng.randrange(3 * HOUR, 20 * HOUR) // SECOND * SECOND
        oldest_us = push_us - rng.randrange(DAY, 4 * DAY)
        count = rng.randint(HOOK_COMMITS + 1, 45)
        commits = []
        for n in range(count):
            when_us = oldest_us + (push_us - 10 * MINUTE - oldest_us) * n // count
            when_us -= when_us % SECOND
            commits.append(
                {
                    "id": f"{rng.getrandbits(160):040x}",
                    "timestamp": iso_with_offset(at(when_us), rng.choice(_OFFSETS)),
                    "committed_at": iso_utc(when_us),
                    "message": "Squash the migration",
                }
            )
        saved, self.ctx = self.ctx, Context(rng, self.ctx.account, self.ctx.region)
        try:
            return [self._push(push_us, project_id, repository, commits)]
        finally:
            self.ctx = saved

    def _skewed_push(self, day_us: int) -> list[Planned]:
        """A push just before a production deployment, its commit stamped after that deploy."""
        rows = sorted(
            (
                row
                for row in self.scenario.truth.values()
                if row["environment"] == "production"
                and row["git_project_id"] != "unassigned"
                and day_us + 2 * HOUR <= _us_of(row["deployed_at"]) < day_us + DAY
            ),
            key=lambda row: row["deployment_id"],
        )
        if not rows:
            return []
        row = self.ctx.rng.choice(rows)
        deployed_us = _us_of(row["deployed_at"])
        push_us = deployed_us - 2 * MINUTE
        push_us -= push_us % SECOND
        repository = dict(_PROJECTS)[row["git_project_id"]]
        commit = self._commit(deployed_us + 10 * MINUTE)
        return [self._push(push_us, row["git_project_id"], repository, [commit])]

    def _commit(self, when_us: int) -> dict:
        rng = self.ctx.rng
        when_us -= when_us % SECOND
        return {
            "id": f"{rng.getrandbits(160):040x}",
            "timestamp": iso_with_offset(at(when_us), rng.choice(_OFFSETS)),
            "committed_at": iso_utc(when_us),
            "message": rng.choice(("Fix rounding", "Add retry", "Bump deps", "Tidy logs")),
        }

    def _push(
        self,
        push_us: int,
        project_id: str,
        repository: str,
        commits: list[dict],
        ref: str = "refs/heads/main",
    ) -> Planned:
        envelope_id = self.ctx.uuid()
        before = f"{Random(f'{project_id}:{ref}').getrandbits(160):040x}"
        if ref == "refs/heads/main":
            before = self.heads.get(project_id, before)
            self.heads[project_id] = commits[-1]["id"]
        kwargs = dict(
            envelope_id=envelope_id, time=at(push_us), project_id=int(project_id),
            path_with_namespace=repository, ref=ref, commits=commits,
            account=self.ctx.account, region=self.ctx.region, before=before,
            relay=relay_of(envelope_id),
        )  # fmt: skip
        identity = f"gitlab:{envelope_id}"
        left_out = [c["id"] for c in commits[:-HOOK_COMMITS]]
        if left_out:
            key = f"{project_id} {before} {commits[-1]['id']}"
            self.gitlab_api[key] = gitlab_compare(commits)
        self.pushes.append(
            {
                "identity": identity,
                "event_id": envelope_id,
                "project_id": project_id,
                "default_branch": ref == "refs/heads/main",
                "pushed_at": iso_utc(push_us),
                "commits": [(c["id"], c["committed_at"]) for c in commits],
                "left_out": left_out,
                "before": before,
                "after": commits[-1]["id"],
            }
        )
        return self._planned(push_us, relayed_push, kwargs, identity)

    # Opsgenie ---------------------------------------------------------------------------
    def _alerts(self, day_index: int, day_us: int) -> list[Planned]:
        rng, out = self.ctx.rng, []
        plans = [("P1", True), ("P2", True), (rng.choice(("P1", "P2")), True)]
        plans += [("P3", True), ("P3", True)]
        if day_index == 0:
            plans += [("P2", False)]  # still open
        for number, (priority, closes) in enumerate(plans):
            component = rng.choice(_ALERT_COMPONENTS)
            created_us = self._time(day_us + HOUR, day_us + DAY - 4 * HOUR)
            out += self._alert(created_us, priority, component, number % 2, closes)
        if day_index == 0:
            out += self._alert_before_any_deployment(day_us)
        return out

    def _alert_before_any_deployment(self, day_us: int) -> list[Planned]:
        created_us = self._time(day_us + 2 * MINUTE, day_us + 4 * MINUTE)
        created = at(created_us)
        deployed = {
            row["component_name"]
            for row in self.scenario.truth.values()
            if datetime.fromisoformat(row["deployed_at"]) <= created
        }
        component = next((c for c in _ALERT_COMPONENTS if c not in deployed), None)
        if component is None:  # a day so busy that every component deployed in minutes
            return []
        return self._alert(created_us, "P1", component, 0, True)

    def _alert(
        self, created_us: int, priority: str, component: str, by_tag: int, closes: bool
    ) -> list[Planned]:
        alert_id = self.ctx.uuid()
        created_us += self.ctx.rng.randrange(1000) * 1000  # createdAt has milliseconds
        actions = [("Create", created_us)]
        acknowledged_us = created_us + self.ctx.between(MINUTE, 5 * MINUTE)
        actions.append(("Acknowledge", acknowledged_us - acknowledged_us % 1000))
        if closes:
            closed_us = created_us + self.ctx.between(10 * MINUTE, 3 * HOUR)
            actions.append(("Close", closed_us - closed_us % 1000))
        out = []
        for action, updated_us in actions:
            envelope_id = self.ctx.uuid()
            envelope_us = updated_us - updated_us % SECOND + SECOND
            kwargs = dict(
                envelope_id=envelope_id, time=at(envelope_us), action=action,
                alert_id=alert_id, created_at=at(created_us), updated_at=at(updated_us),
                priority=priority, account=self.ctx.account, region=self.ctx.region,
                component=component, component_by="tag" if by_tag else "details",
            )  # fmt: skip
            identity = f"opsgenie:{envelope_id}"
            self.alerts.append(
                {
                    "identity": identity,
                    "action": action,
                    "alert_id": alert_id,
                    "priority": priority,
                    "component_name": component,
                    "created_at": iso_utc(created_us),
                    "updated_at": iso_utc(updated_us),
                }
            )
            out.append(self._planned(envelope_us, partner_alert, kwargs, identity))
        return out

    # ECS circuit breaker ----------------------------------------------------------------
    def _circuit_breaker(self, day_us: int) -> list[Planned]:
        ctx = self.ctx
        service = ctx.rng.choice(_PRODUCTION_SERVICES)
        failed_us = self._time(day_us + 16 * HOUR, day_us + DAY - 3 * HOUR) + 123_000
        arn = service.resource_id(ctx.account, ctx.region)
        history = history_resource_id(service, ctx.account, ctx.region)  # short ARN: long one
        back_to = self._last_completed(history, failed_us) or ctx.ecs_deployment_id()
        completed = deployment(ctx, service, failed_us + ctx.between(3 * MINUTE, 15 * MINUTE), 0,
                               SECOND * ctx.rng.randrange(1, 9))  # fmt: skip
        self.scenario.truth[completed.planned.identity] = completed.truth
        completed.planned.arrival_us = _deliverable(
            completed.planned.envelope_us + ctx.between(SECOND, 60 * SECOND), self.scenario.start_us
        )
        rollback_id = completed.kwargs["deployment_id"]
        failed_id = ctx.ecs_deployment_id()
        out = []
        for name, deployment_id, when_us, reason in (
            ("SERVICE_DEPLOYMENT_FAILED", failed_id, failed_us, None),
            (
                "SERVICE_DEPLOYMENT_IN_PROGRESS", rollback_id, failed_us + SECOND,
                f"ECS deployment circuit breaker: rolling back to deploymentId {back_to}.",
            ),
        ):  # fmt: skip
            envelope_us = when_us - when_us % SECOND + 2 * SECOND
            kwargs = dict(
                envelope_id=ctx.uuid(), envelope_time=at(envelope_us), service_arn=arn,
                event_name=name, deployment_id=deployment_id, updated_at=at(when_us),
                account=ctx.account, region=ctx.region, reason=reason,
            )  # fmt: skip
            if reason is None:
                identity = f"ecs-failed:{failed_id}"
            else:  # a near miss (ecs_in_progress) that marks the circuit breaker's rollback
                identity = near_miss_identity("ecs_in_progress", kwargs["envelope_id"])
                self.ecs_rollbacks[identity] = f"ecs:{rollback_id}"
            out.append(self._planned(envelope_us, ecs_deployment_state_change, kwargs, identity))
            if reason is None:
                self.ecs_failed.append(
                    {
                        "identity": identity,
                        "deployment_id": failed_id,
                        "started_at": iso_utc(failed_us),
                        "service_arn": history,
                    }
                )
        return [*out, completed.planned]

    def _last_completed(self, arn: str, before_us: int) -> str | None:
        done = [
            (_us_of(row["deployed_at"]), row["deployment_id"])
            for row in self.scenario.truth.values()
            if row["resource_id"] == arn and _us_of(row["deployed_at"]) <= before_us
        ]
        return max(done)[1].removeprefix("ecs:") if done else None


_DAMAGED = {w + d for w in CORRUPTIONS.values() for d in (-1, 0, 1)}


# truth ---------------------------------------------------------------------------------
def _t(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def _order(row: dict) -> tuple:
    return _t(row["deployed_at"]), row["deployment_id"]


def truth(keys: DoraKeys, deployments: list[dict], survived: set[str], incidents=None) -> dict:
    """`changes` and `failures` by the README's rules (spec r2), from what the pipeline can
    see: the deployments that survived and the records written whole. `incidents`: the
    custom incidents and named links of generator/incidents.py."""
    code = _code(keys, deployments)
    earlier = _earlier_code(keys, deployments, survived, code)
    changes = _changes(keys.pushes, deployments, survived, earlier)
    custom = custom_truth(incidents, survived) if incidents else []
    rollbacks = _rollbacks(code, deployments)
    return {
        "changes": changes,
        "commits_left_out": _left_out(keys.pushes, survived),
        # fct_deployments.version: each Lambda deployment's codeSha256 (others have none)
        "deployment_versions": {
            d["deployment_id"]: keys.code_sha[d["deployment_id"]]
            for d in deployments
            if d["deployment_id"] in keys.code_sha
        },
        "earlier_code_deployments": sorted(earlier),  # ship no commits (spec r2)
        "roll_forwards": _roll_forwards(code, deployments, rollbacks),
        "failures": sorted(
            _incidents(keys.alerts, custom, deployments, survived, changes, code)
            + _circuit_breakers(keys.ecs_failed, deployments, survived)
            + rollbacks,
            key=lambda f: (f["started_at"], f["failure_id"]),
        ),
    }


def _left_out(pushes: list[dict], survived: set[str]) -> list[dict]:
    """Default-branch pushes whose hook listed only the newest 20 commits."""
    return [
        {
            "event_id": push["event_id"],
            "project_id": push["project_id"],
            "before": push["before"],
            "after": push["after"],
            "total_commits_count": len(push["commits"]),
            "left_out": len(push["left_out"]),
        }
        for push in pushes
        if push["identity"] in survived and push["default_branch"] and push["left_out"]
    ]


_DEFAULT_SHA = inspect.signature(lambda_update_function_code).parameters["code_sha256"].default


def _code(keys: DoraKeys, deployments: list[dict]) -> dict[str, str]:
    """Each Lambda deployment's codeSha256 as written (the builder's default when unset)."""
    return {
        d["deployment_id"]: keys.code_sha.get(d["deployment_id"], _DEFAULT_SHA)
        for d in deployments
        if d["event_source"] == "lambda"
    }


def _earlier_code(keys: DoraKeys, deployments: list, survived: set[str], code: dict) -> set:
    """Deployments of code deployed before on their resource: Lambda code seen earlier on the
    function, ECS circuit-breaker rollbacks whose IN_PROGRESS was seen. They ship no commits."""
    seen: set[tuple] = set()
    earlier = {rolled for seen_as, rolled in keys.ecs_rollbacks.items() if seen_as in survived}
    for row in sorted(deployments, key=_order):
        if row["deployment_id"] in code:
            key = (row["resource_id"], code[row["deployment_id"]])
            if key in seen:
                earlier.add(row["deployment_id"])
            seen.add(key)
    return earlier


def _changes(
    pushes: list[dict], deployments: list[dict], survived: set[str], earlier: set[str]
) -> list[dict]:
    """Every commit, those the hook left out too (`beyond_hook`: only GitLab's API has them),
    credited to the first production deployment of new code after its push (spec r2)."""
    first_push: dict[tuple, tuple] = {}  # (project, sha) -> (pushed, committed, beyond hook)
    for push in pushes:
        if push["identity"] in survived and push["default_branch"]:
            left_out = set(push["left_out"])
            for sha, committed in push["commits"]:
                key = (push["project_id"], sha)
                value = (_t(push["pushed_at"]), committed, sha in left_out)
                first_push[key] = min(first_push.get(key, value), value)
    components: dict[tuple, list[dict]] = defaultdict(list)
    for row in sorted(deployments, key=_order):
        if (
            row["environment"] == "production"
            and row["git_project_id"] != "unassigned"
            and row["deployment_id"] not in earlier
        ):
            components[(row["component_name"], row["git_project_id"])].append(row)
    rows = []
    for (project, sha), (pushed, committed, beyond_hook) in first_push.items():
        for (_, component_project), history in components.items():
            shipped = next((d for d in history if _t(d["deployed_at"]) >= pushed), None)
            if component_project != project or shipped is None:
                continue
            lead = (_t(shipped["deployed_at"]) - _t(committed)) // timedelta(seconds=1)
            rows.append(
                {
                    "deployment_id": shipped["deployment_id"],
                    "commit_sha": sha,
                    "committed_at": committed,
                    "deployed_at": shipped["deployed_at"],
                    "lead_time_seconds": lead,
                    "beyond_hook": beyond_hook,
                    **{k: shipped[k] for k in _OWNER_COLUMNS},
                }
            )
    return sorted(rows, key=lambda r: (_t(r["deployed_at"]), r["deployment_id"], r["commit_sha"]))


_OWNER_COLUMNS = (
    "component_name",
    "environment",
    "ownership_ba",
    "ownership_pod",
    "ownership_team",
)


def _failure(
    failure_id: str, kind: str, started: str, resolved: str | None, linked: dict | None,
    owner: dict | None, component: str, rule: str | None = None, environment: str | None = None,
) -> dict:  # fmt: skip
    row = {
        "failure_id": failure_id,
        "kind": kind,
        "started_at": started,
        "resolved_at": resolved,
        "deployment_id": linked["deployment_id"] if linked else None,
        "link_rule": rule if linked else None,
    }
    if owner is None:
        unassigned = dict.fromkeys(_OWNER_COLUMNS, "unassigned")
        return row | unassigned | {"component_name": component,
                                   "environment": environment or "unassigned"}  # fmt: skip
    return row | {k: owner[k] for k in _OWNER_COLUMNS}


def _owner(candidates: list[dict], started: str) -> tuple[dict | None, dict | None]:
    """(linked, owner): the latest production deployment at or before `started`, else the
    latest of any environment (owner only)."""
    before = [d for d in candidates if _t(d["deployed_at"]) <= _t(started)]
    if not before:
        return None, None
    owner = max(before, key=lambda d: (d["environment"] == "production", *_order(d)))
    return (owner if owner["environment"] == "production" else None), owner


def _incidents(
    alerts: list[dict], custom: list[dict], deployments: list[dict], survived: set[str],
    changes: list[dict], code: dict,
) -> list[dict]:  # fmt: skip
    seen = [a for a in alerts if a["identity"] in survived]
    closes: dict[str, list[str]] = defaultdict(list)
    for alert in seen:
        if alert["action"] == "Close":
            closes[alert["alert_id"]].append(alert["updated_at"])
    subjects, done = [], set()
    for alert in seen:
        if alert["action"] != "Create" or alert["priority"] not in ("P1", "P2"):
            continue
        if alert["alert_id"] in done:
            continue
        done.add(alert["alert_id"])
        resolved = min(closes[alert["alert_id"]], key=_t, default=None)
        subjects.append(alert | {"failure_id": f"opsgenie:{alert['alert_id']}",
                                 "started_at": alert["created_at"], "resolved_at": resolved,
                                 "environment": None})  # fmt: skip
    rows = []
    for incident in subjects + custom:
        component, started = incident["component_name"], incident["started_at"]
        linked, rule = explicit_link(incident, started, deployments, changes, code)
        owner = linked
        if linked is None:
            environment = incident["environment"]
            candidates = [d for d in deployments if d["component_name"] == component
                          and environment in (None, d["environment"])]  # fmt: skip
            linked, owner = _owner(candidates, started)
            rule = "component_time"
        rows.append(
            _failure(incident["failure_id"], "incident", iso(started),
                     incident["resolved_at"] and iso(incident["resolved_at"]), linked, owner,
                     component, rule, incident["environment"])
        )  # fmt: skip
    return rows


def _circuit_breakers(failed: list[dict], deployments: list[dict], survived: set[str]) -> list:
    """The failed attempt is the failed change (spec r2): deployment_id is its own id, never
    the deployment ECS rolls back to; owners are the service's."""
    rows, done = [], set()
    for event in failed:
        if event["identity"] not in survived or event["deployment_id"] in done:
            continue
        done.add(event["deployment_id"])
        started = _t(event["started_at"])
        service = [d for d in deployments if d["resource_id"] == event["service_arn"]]
        after = [
            d for d in service if _t(d["deployed_at"]) > started and d["event_source"] == "ecs"
        ]
        resolved = min(after, key=_order)["deployed_at"] if after else None
        _, owner = _owner(service, event["started_at"])
        name = event["service_arn"].rsplit("/", 1)[-1]
        attempt = {"deployment_id": f"ecs:{event['deployment_id']}"}
        rows.append(
            _failure(f"ecs:{event['deployment_id']}", "circuit_breaker", iso(event["started_at"]),
                     resolved, attempt, owner, name, "failed_attempt")
        )  # fmt: skip
    return rows


def _roll_forwards(code: dict, deployments: list[dict], rollbacks: list[dict]) -> list[str]:
    """Lambda deployments of code deployed before, different from the previous code, that
    are no rollback: N5 → N3 → N5's last step."""
    rolled = {f["failure_id"].removeprefix("rollback:") for f in rollbacks}
    out, history = [], defaultdict(list)
    for row in sorted(deployments, key=_order):
        if row["deployment_id"] in code:
            seen, sha = history[row["resource_id"]], code[row["deployment_id"]]
            if seen and sha != seen[-1] and sha in seen and row["deployment_id"] not in rolled:
                out.append(row["deployment_id"])
            seen.append(sha)
    return out


def _rollbacks(code: dict[str, str], deployments: list[dict]) -> list[dict]:
    """Back to older code: the code differs from the previous deployment's and was first
    deployed before the previous code was (N5 → N3). N5 again after that is a roll-forward."""
    functions: dict[str, list[dict]] = defaultdict(list)
    for row in sorted(deployments, key=_order):
        if row["event_source"] == "lambda":
            functions[row["resource_id"]].append(row)
    rows = []
    for history in functions.values():
        shas = [code[d["deployment_id"]] for d in history]
        first = {}
        for n, sha in enumerate(shas):
            first.setdefault(sha, n)
        for n in range(1, len(history)):
            if shas[n] != shas[n - 1] and first[shas[n]] < first[shas[n - 1]]:
                previous = history[n - 1]
                rows.append(
                    _failure(f"rollback:{history[n]['deployment_id']}", "rollback",
                             previous["deployed_at"], history[n]["deployed_at"], previous,
                             previous, previous["component_name"], "rolled_back")
                )  # fmt: skip
    return rows


def iso(text: str) -> str:
    """A timestamp as truth writes them: UTC with Z, microseconds only when present."""
    return _t(text).isoformat().replace("+00:00", "Z")
