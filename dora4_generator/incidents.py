"""Custom `Incident` events and incidents that name what failed, with truth (spec r2).

Planned a day at a time after DoraKeys (it sees that day's deployments, code and pushes),
from its own seeded RNG, so everything else of a seed stays as it was:
- custom incidents (source `dora4`, detail-type `Incident`, docs/custom-events.md): one
  linked by component and time, one naming a deployment by its id (as fct_deployments has
  it or as its source does), one naming a Lambda codeSha256, one naming a commit by a
  10-digit prefix, one naming a deployment that does not exist (linked by component and
  time instead), one sent when it starts and again when it is resolved, one still open,
  one in an environment its component never deployed to (no link);
- Opsgenie P1 alerts naming an ECS deployment in details["deployment_id"] and a commit in
  a `commit:<sha>` tag.
Truth (`explicit_link`) follows docs/metrics.md independently of the SQL.
"""

from __future__ import annotations

from datetime import UTC, datetime
from random import Random

from dora4_generator.envelope import Time, envelope, iso_seconds
from dora4_generator.firehose import at
from dora4_generator.scenario import DAY, HOUR
from dora4_generator.specials import SECOND, Context, Planned, iso_utc, rendered
from dora4_generator.webhooks import iso_with_offset, opsgenie_alert

MINUTE = 60 * SECOND
CUSTOM_SOURCE = "dora4"


def custom_incident(
    *, envelope_id: str, time: Time, account: str, region: str, incident: dict,
    source: str = CUSTOM_SOURCE,
) -> dict:  # fmt: skip
    """The documented custom event: detail {id, started_at, resolved_at?, severity, component,
    environment, deployment_id?, commit?}, times ISO 8601 with an offset."""
    return envelope(
        event_id=envelope_id, detail_type="Incident", source=source, account=account,
        time=time, region=region, resources=[], detail=incident,
    )  # fmt: skip


def _t(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def _us(text: str) -> int:
    moment = _t(text)
    return int(moment.timestamp()) * SECOND + moment.microsecond


class Incidents:
    def __init__(self, keys, seed: int) -> None:
        self.keys = keys  # DoraKeys: its scenario, code, pushes and alerts
        self.ctx = Context(Random(f"{seed}:incidents"), keys.ctx.account, keys.ctx.region)
        self.custom: list[dict] = []  # one per custom event written

    def plan_day(self, day_index: int) -> list[Planned]:
        day_us = self.keys.scenario.start_us + day_index * DAY
        rng, out = self.ctx.rng, []
        late = day_us + DAY - 3 * HOUR  # every failure starts on its own day
        rows = sorted(
            (r for r in self.keys.scenario.truth.values()
             if r["environment"] == "production" and day_us <= _us(r["deployed_at"]) < late),
            key=lambda r: (r["deployed_at"], r["deployment_id"]),
        )  # fmt: skip
        if not rows:
            return []
        components = sorted({r["component_name"] for r in rows})

        def start_after(row: dict) -> int:
            return self._time(_us(row["deployed_at"]) + MINUTE, late + 2 * HOUR)

        time_row = rng.choice(rows)
        out += self._custom(start_after(time_row), time_row["component_name"])
        named = rng.choice(rows)
        reference = named["deployment_id"]
        if rng.random() < 0.5 and named["event_source"] in ("lambda", "ecs"):
            reference = reference.split(":", 1)[1]  # as its source names it
        out += self._custom(start_after(named), named["component_name"], deployment_id=reference)
        lambdas = [r for r in rows if r["deployment_id"] in self.keys.code_sha]
        if lambdas:
            row = rng.choice(lambdas)
            out += self._custom(start_after(row), row["component_name"],
                                deployment_id=self.keys.code_sha[row["deployment_id"]])  # fmt: skip
        pushed = [(p, sha) for p in self.keys.pushes if p["default_branch"]
                  and day_us <= _us(p["pushed_at"]) < late for sha, _ in p["commits"]]  # fmt: skip
        if pushed:
            push, sha = rng.choice(pushed)
            out += self._custom(self._time(_us(push["pushed_at"]), late + 2 * HOUR),
                                rng.choice(components), commit=sha[:10])  # fmt: skip
        out += self._custom(start_after(time_row), time_row["component_name"],
                            deployment_id="release-that-never-was")  # fmt: skip
        out += self._custom(start_after(time_row), time_row["component_name"], resolve_later=True)
        out += self._custom(start_after(time_row), time_row["component_name"], environment="qa")
        if day_index == 0:
            out += self._custom(start_after(time_row), time_row["component_name"], open_=True)
        ecs = [r for r in rows if r["event_source"] == "ecs"]
        if ecs:
            row = rng.choice(ecs)
            named = {"deployment_id": row["deployment_id"].split(":", 1)[1]}
            out += self._alert(start_after(row), row["component_name"], named, [])
        if pushed:
            push, sha = rng.choice(pushed)
            out += self._alert(self._time(_us(push["pushed_at"]), late + 2 * HOUR),
                               rng.choice(components), {}, [f"commit:{sha}"])  # fmt: skip
        return out

    def _time(self, low_us: int, high_us: int) -> int:
        moment = self.ctx.between(low_us, max(high_us, low_us + MINUTE))
        return moment - moment % SECOND

    def _planned(self, envelope_us: int, build, kwargs: dict, identity: str) -> Planned:
        from dora4_generator.dora_keys import _deliverable

        arrival = _deliverable(envelope_us + self.ctx.between(SECOND, 30 * SECOND),
                               self.keys.scenario.start_us)  # fmt: skip
        return Planned(arrival, envelope_us, rendered(build, kwargs), "lookalike", identity)

    def _custom(
        self, started_us: int, component: str, *, environment: str = "production",
        open_: bool = False, resolve_later: bool = False, **reference: str,
    ) -> list[Planned]:  # fmt: skip
        rng = self.ctx.rng
        incident_id = f"INC-{rng.randrange(10**6, 10**7)}"
        resolved_us = started_us + self.ctx.between(5 * MINUTE, 2 * HOUR)
        resolved_us -= resolved_us % SECOND
        detail = {
            "id": incident_id,
            "started_at": iso_with_offset(at(started_us), rng.choice((0, 60, -300))),
            "severity": rng.choice(("critical", "high")),
            "component": component,
            "environment": environment,
            **reference,
        }
        sends = [(started_us, dict(detail))]
        if resolve_later:
            sends.append((resolved_us, detail | {"resolved_at": iso_seconds(at(resolved_us))}))
        elif not open_:
            sends[0][1]["resolved_at"] = iso_seconds(at(resolved_us))
        out = []
        for envelope_us, body in sends:
            envelope_id = self.ctx.uuid()
            identity = f"custom:{envelope_id}"
            kwargs = dict(envelope_id=envelope_id, time=at(envelope_us + SECOND),
                          account=self.ctx.account, region=self.ctx.region,
                          incident=body)  # fmt: skip
            out.append(self._planned(envelope_us + SECOND, custom_incident, kwargs, identity))
            self.custom.append({"identity": identity, **body})
        return out

    def _alert(self, created_us: int, component: str, details: dict, tags: list) -> list:
        """A P1 Create and its Close, as DoraKeys records alerts (with the references)."""
        alert_id, ctx = self.ctx.uuid(), self.ctx
        created_us += ctx.rng.randrange(1000) * 1000
        closed_us = created_us + ctx.between(10 * MINUTE, HOUR)
        closed_us -= closed_us % 1000
        out = []
        for action, updated_us in (("Create", created_us), ("Close", closed_us)):
            envelope_id = ctx.uuid()
            envelope_us = updated_us - updated_us % SECOND + SECOND
            kwargs = dict(
                envelope_id=envelope_id, time=at(envelope_us), action=action, alert_id=alert_id,
                created_at=at(created_us), updated_at=at(updated_us), priority="P1",
                account=ctx.account, region=ctx.region, component=component,
                extra_details=details, extra_tags=tags,
            )  # fmt: skip
            identity = f"opsgenie:{envelope_id}"
            self.keys.alerts.append(
                {
                    "identity": identity, "action": action, "alert_id": alert_id,
                    "priority": "P1", "component_name": component,
                    "created_at": iso_utc(created_us), "updated_at": iso_utc(updated_us),
                    "deployment_reference": details.get("deployment_id"),
                    "commit_reference": next((t[7:] for t in tags if t.startswith("commit:")),
                                             None),
                }
            )  # fmt: skip
            out.append(self._planned(envelope_us, opsgenie_alert, kwargs, identity))
        return out


# truth ---------------------------------------------------------------------------------
def _latest_live(rows: list[dict], started: str) -> dict | None:
    """Of several deployments: the latest at or before `started`, else the first after."""
    before = [r for r in rows if _t(r["deployed_at"]) <= _t(started)]
    if before:
        return max(before, key=lambda r: (_t(r["deployed_at"]), r["deployment_id"]))
    return min(rows, key=lambda r: (_t(r["deployed_at"]), r["deployment_id"]), default=None)


def explicit_link(
    incident: dict, started: str, deployments: list[dict], changes: list[dict], code: dict,
) -> tuple[dict | None, str | None]:  # fmt: skip
    """(deployment, rule) for what an incident names, else (None, None)."""
    ref, commit = incident.get("deployment_reference"), incident.get("commit_reference")
    if ref:
        for rule, match in (
            ("deployment_id", lambda d: ref in (d["deployment_id"], d["deployment_id"].split(
                ":", 1)[1] if d["event_source"] in ("lambda", "ecs") else None)),
            ("code_sha256", lambda d: code.get(d["deployment_id"]) == ref),
        ):  # fmt: skip
            found = _latest_live([d for d in deployments if match(d)], started)
            if found:
                return found, rule
    if commit and len(commit) >= 7:
        shipped = [c for c in changes if c["commit_sha"].startswith(commit.lower())]
        own = [c for c in shipped if c["component_name"] == incident.get("component_name")]
        found = _latest_live(own or shipped, started)
        if found:
            by_id = {d["deployment_id"]: d for d in deployments}
            return by_id[found["deployment_id"]], "commit"
    return None, None


def custom_truth(incidents: Incidents, survived: set[str]) -> list[dict]:
    """One incident per id: each field from its first arrival that gives it, resolved_at the
    earliest given (as docs/custom-events.md says)."""
    merged: dict[str, dict] = {}
    for body in incidents.custom:
        if body["identity"] not in survived:
            continue
        row = merged.setdefault(body["id"], {})
        for key, value in body.items():
            row.setdefault(key, value)
        if body.get("resolved_at"):
            row["resolved_at"] = min(row.get("resolved_at") or body["resolved_at"],
                                     body["resolved_at"], key=_t)  # fmt: skip
    return [
        {
            "failure_id": f"custom:{incident_id}",
            "started_at": row["started_at"],
            "resolved_at": row.get("resolved_at"),
            "component_name": row["component"],
            "environment": row["environment"],
            "deployment_reference": row.get("deployment_id"),
            "commit_reference": row.get("commit"),
        }
        for incident_id, row in merged.items()
    ]
