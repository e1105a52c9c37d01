"""EKS: which ScalingReplicaSet events are deployments, on hand-built events in the shapes
real clusters send, through the real landing and SQL models on a DuckDB file.

Shapes and where they come from:
- kubernetes-event-exporter's EnhancedEvent (resmoio/kubernetes-event-exporter
  pkg/kube/event.go, pkg/sinks/eventbridge.go: the whole event when no `details:` is set);
- messages of the deployment controller (kubernetes/kubernetes pkg/controller/deployment
  sync.go: "Scaled up replica set %s to %d" (old), "... from %d to %d" (new));
- "(combined from similar events): " and updates of one Event with a rising count
  (kubernetes/client-go tools/record/events_cache.go, EventAggregate and eventObserve);
  the two aggregated messages below are copied from `kubectl describe deployment` output
  published in tutorials (nginx-deployment, netology-deployment);
- Argo Rollouts >= 1.0: kind Rollout, "Scaled %s ReplicaSet %s (revision %d) from %d to %d"
  (argoproj/argo-rollouts utils/conditions/conditions.go, rollout/sync.go);
- the `details:` template of the exporter README's only EventBridge example (source `cd`,
  detail-type `deployment`, {message, namespace, reason, object: "{{ .Namespace }}"}).
"""

import logging
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
import yaml
from archive_helpers import write_object
from conftest import ARCHIVE_DAYS, ARCHIVE_START

from dora4_generator.k8s import exporter_details_template, k8s_event
from dora4_pipeline import sql
from dora4_pipeline.landing.ingest import land_days
from dora4_pipeline.resources.archive import LocalArchive
from dora4_pipeline.resources.warehouse import WarehouseResource

ACCOUNT, REGION, CLUSTER = "444455556666", "eu-west-1", "eks-prod"
DAY = date(2026, 3, 17)
COMBINED = "(combined from similar events): "
EXPORTER_CONFIG = Path(__file__).resolve().parent.parent / "deploy/kubernetes/exporter-config.yaml"


def at(hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(DAY.year, DAY.month, DAY.day, hour, minute, second, tzinfo=UTC)


def scaling(
    envelope_id: str,
    uid: str,
    message: str,
    when: datetime,
    *,
    name: str = "nginx-deployment",
    kind: str = "Deployment",
    count: int = 1,
    labels: dict | None = None,
    annotations: dict | None = None,
) -> dict:
    component = "rollouts-controller" if kind == "Rollout" else "deployment-controller"
    return k8s_event(
        envelope_id=envelope_id,
        envelope_time=when + timedelta(seconds=2),
        account=ACCOUNT,
        region=REGION,
        cluster_name=CLUSTER,
        namespace="web",
        uid=uid,
        reason="ScalingReplicaSet",
        message=message,
        involved_kind=kind,
        involved_name=name,
        involved_uid=f"uid-{kind}-{name}",
        last_timestamp=when,
        count=count,
        labels=labels,
        annotations=annotations,
        component=component,
    )


EVENTS = [
    # 1. A rolling update as `kubectl describe` shows it, the last step aggregated.
    scaling("e1", "u1", "Scaled up replica set nginx-deployment-886641336 to 4", at(9, 0, 28)),
    scaling("e2", "u2", "Scaled down replica set nginx-deployment-3441592026 to 2", at(9, 0, 28)),
    scaling(
        "e3",
        "u3",
        COMBINED + "Scaled down replica set nginx-deployment-3441592026 to 0",
        at(9, 0, 31),
    ),
    # 2. A busy Deployment whose events are aggregated: every later occurrence is an update
    #    of Event u4 (count + 1), forwarded by an exporter that sends updates; one is sent
    #    twice (same uid and count: one occurrence).
    scaling(
        "e4",
        "u4",
        COMBINED + "Scaled up replica set netology-deployment-566fcf8d84 to 4 from 3",
        at(10, 0),
        name="netology-deployment",
        count=11,
    ),
    scaling(
        "e5",
        "u4",
        COMBINED + "Scaled down replica set netology-deployment-666dcf88d to 0 from 1",
        at(10, 0, 15),
        name="netology-deployment",
        count=12,
    ),
    scaling(
        "e5-again",
        "u4",
        COMBINED + "Scaled down replica set netology-deployment-666dcf88d to 0 from 1",
        at(10, 0, 15),
        name="netology-deployment",
        count=12,
    ),
    scaling(
        "e6",
        "u4",
        COMBINED + "Scaled up replica set netology-deployment-7b8c9d0e1f from 0 to 1",
        at(10, 40),
        name="netology-deployment",
        count=13,
    ),
    scaling(
        "e7",
        "u4",
        COMBINED + "Scaled down replica set netology-deployment-566fcf8d84 from 4 to 0",
        at(10, 41),
        name="netology-deployment",
        count=14,
    ),
    # 3. Scale-to-zero at night and back in the morning: the same (current) replica set.
    scaling(
        "e8",
        "u8",
        "Scaled down replica set cart-api-5f9c7d6b8d from 3 to 0",
        at(20),
        name="cart-api",
    ),
    scaling(
        "e9",
        "u9",
        "Scaled up replica set cart-api-5f9c7d6b8d from 0 to 3",
        at(20, 30),
        name="cart-api",
    ),
    # 4. Recreate strategy: the old set goes to 0 first, the new one comes up after.
    scaling(
        "e10",
        "u10",
        "Scaled down replica set batch-api-6c7d8e9f0a from 2 to 0",
        at(12),
        name="batch-api",
    ),
    scaling(
        "e11",
        "u11",
        "Scaled up replica set batch-api-1a2b3c4d5e from 0 to 2",
        at(12, 0, 9),
        name="batch-api",
    ),
    # 5. Argo Rollouts: a promoted canary counts; an aborted one (the newer set to 0, the
    #    stable set back up) does not.
    scaling(
        "e12",
        "u12",
        "Scaled up ReplicaSet checkout-web-6b7f9c5d4e (revision 5) from 1 to 4",
        at(14),
        name="checkout-web",
        kind="Rollout",
    ),
    scaling(
        "e13",
        "u13",
        "Scaled down ReplicaSet checkout-web-5d8c7b6a9f (revision 4) from 4 to 0",
        at(14, 0, 30),
        name="checkout-web",
        kind="Rollout",
    ),
    scaling(
        "e14",
        "u14",
        "Scaled up ReplicaSet checkout-web-6b7f9c5d4e (revision 5) from 2 to 4",
        at(16),
        name="checkout-web",
        kind="Rollout",
    ),
    scaling(
        "e15",
        "u15",
        "Scaled down ReplicaSet checkout-web-0a1b2c3d4e (revision 6) from 1 to 0",
        at(16, 0, 5),
        name="checkout-web",
        kind="Rollout",
    ),
    # 6. A rollback at 18:20 (old set up, new set to 0) counts; scaling the restored set to
    #    0 at 18:40 does not, though the 18:00 rollout's set was scaled up within the hour:
    #    that set went to 0 in between.
    scaling(
        "e16", "u16", "Scaled up replica set quotes-7f6e5d4c3b from 0 to 2", at(18), name="quotes"
    ),
    scaling(
        "e17",
        "u17",
        "Scaled down replica set quotes-1b2c3d4e5f from 2 to 0",
        at(18, 1),
        name="quotes",
    ),
    scaling(
        "e18",
        "u18",
        "Scaled up replica set quotes-1b2c3d4e5f from 0 to 2",
        at(18, 20),
        name="quotes",
    ),
    scaling(
        "e19",
        "u19",
        "Scaled down replica set quotes-7f6e5d4c3b from 2 to 0",
        at(18, 21),
        name="quotes",
    ),
    scaling(
        "e20",
        "u20",
        "Scaled down replica set quotes-1b2c3d4e5f from 2 to 0",
        at(18, 40),
        name="quotes",
    ),
    # 7. A wording no release has used: visible, not counted.
    scaling("e21", "u21", "Scaled replica set quotes-1b2c3d4e5f to zero", at(19), name="quotes"),
    # 8. Ownership: annotations beside labels; the annotation wins, aliases apply to both.
    scaling(
        "e22",
        "u22",
        "Scaled up replica set owned-2b3c4d5e6f from 0 to 1",
        at(22),
        name="owned",
    ),
    scaling(
        "e23",
        "u23",
        "Scaled down replica set owned-9f8e7d6c5b from 1 to 0",
        at(22, 1),
        name="owned",
        labels={
            "Ownership.BA": "commerce",
            "Ownership.Team": "old-team",
            "Environment": "production",
        },
        annotations={
            "Ownership.Team": "cart",
            "ownership.pod": "checkout",
            "Git.Repository": "commerce/owned",
        },
    ),
]
TEMPLATED = [
    exporter_details_template(
        envelope_id="t1", envelope_time=at(11), account=ACCOUNT, region=REGION,
        namespace="web", message="Scaled down replica set nginx-deployment-3441592026 to 0",
    ),
    exporter_details_template(
        envelope_id="t2", envelope_time=at(11), account=ACCOUNT, region=REGION,
        namespace="web", message="Scaled up replica set nginx-deployment-886641336 to 4",
    ),
]  # fmt: skip


@pytest.fixture
def landed(tmp_path):
    root = tmp_path / "archive"
    write_object(root, at(23), EVENTS + TEMPLATED, name="k8s")
    warehouse = WarehouseResource(path=str(tmp_path / "w.duckdb"))
    with warehouse.connect() as conn:
        land_days(LocalArchive(str(root)), conn, [DAY], logging.getLogger("test"))
        sql.materialize_window(conn, "fct_deployments", DAY, DAY)
    return duckdb.connect(warehouse.path, read_only=True)


def test_rollouts_count_once_per_occurrence_and_scale_to_zero_does_not(landed):
    rows = landed.execute(
        "select deployment_id, deployed_at, resource_id from marts.fct_deployments"
    ).fetchall()
    found = {r[0]: r[1:] for r in rows}
    assert len(rows) == len(found)
    assert found == {
        "eks:u3:1": (at(9, 0, 31), f"{CLUSTER}/web/nginx-deployment"),
        "eks:u4:12": (at(10, 0, 15), f"{CLUSTER}/web/netology-deployment"),
        "eks:u4:14": (at(10, 41), f"{CLUSTER}/web/netology-deployment"),
        "eks:u10:1": (at(12), f"{CLUSTER}/web/batch-api"),
        "eks:u13:1": (at(14, 0, 30), f"{CLUSTER}/web/checkout-web"),
        "eks:u17:1": (at(18, 1), f"{CLUSTER}/web/quotes"),
        "eks:u19:1": (at(18, 21), f"{CLUSTER}/web/quotes"),
        "eks:u23:1": (at(22, 1), f"{CLUSTER}/web/owned"),
    }


def test_scale_downs_to_zero_not_counted_are_near_misses_by_kind(landed):
    rows = landed.execute(
        "select near_miss_kind, deployment_id, day, source_event_id "
        "from staging.stg_eks_near_misses "
        "where near_miss_kind in ('eks_scale_to_zero', 'eks_unknown_wording') "
        "order by deployment_id"
    ).fetchall()
    assert rows == [
        ("eks_scale_to_zero", "eks:u15:1", DAY, "e15"),
        ("eks_scale_to_zero", "eks:u20:1", DAY, "e20"),
        ("eks_unknown_wording", "eks:u21:1", DAY, "e21"),
        ("eks_scale_to_zero", "eks:u8:1", DAY, "e8"),
    ]


def test_a_details_template_is_a_dead_letter_that_says_how_to_fix_the_exporter(landed):
    rows = landed.execute("select reason, raw_excerpt from ops.dead_letter_events").fetchall()
    assert len(rows) == 1, "only the templated scale-down to 0 is a signal"
    reason, excerpt = rows[0]
    assert "details:" in reason and "remove" in reason
    assert "nginx-deployment-3441592026 to 0" in excerpt


def test_annotations_win_over_labels_with_the_same_aliases(landed):
    row = landed.execute(
        "select ownership_ba, ownership_team, ownership_pod, git_repository, environment "
        "from marts.fct_deployments where deployment_id = 'eks:u23:1'"
    ).fetchone()
    assert row == ("commerce", "cart", "checkout", "commerce/owned", "production")


@pytest.fixture(scope="module")
def landed_generated(generated, tmp_path_factory):
    """The session's generated archive (conftest.py) landed and built, no AWS needed."""
    days = [ARCHIVE_START + timedelta(days=i) for i in range(ARCHIVE_DAYS + 1)]
    warehouse = WarehouseResource(path=str(tmp_path_factory.mktemp("eks") / "w.duckdb"))
    with warehouse.connect() as conn:
        land_days(LocalArchive(str(generated / "archive")), conn, days, logging.getLogger("test"))
        sql.materialize_window(conn, "fct_deployments", days[0], days[-2])
    return duckdb.connect(warehouse.path, read_only=True)


OWNERSHIP = (
    "component_name", "environment", "ownership_ba", "ownership_pod", "ownership_team",
    "compliance_namespace", "git_project_id", "git_repository",
)  # fmt: skip


def test_generated_eks_deployments_and_their_owners_match_truth(landed_generated, truth):
    rows = landed_generated.execute(
        f"select deployment_id, {', '.join(OWNERSHIP)} from marts.fct_deployments "  # noqa: S608
        "where event_source = 'eks'"
    ).fetchall()
    expected = {
        d["deployment_id"]: tuple(d[c] for c in OWNERSHIP)
        for d in truth["deployments"]
        if d["event_source"] == "eks"
    }
    assert {r[0]: r[1:] for r in rows} == expected
    repositories = {r[-1] for r in rows}
    assert "payments/fraud-serving" in repositories, "ownership read from annotations only"


def test_generated_scale_to_zero_are_near_misses_and_templates_dead_letters(
    landed_generated, truth
):
    rows = landed_generated.execute(
        "select deployment_id, changed_at, resource_id from staging.stg_eks_near_misses "
        "where near_miss_kind = 'eks_scale_to_zero'"
    ).fetchall()
    assert truth["near_misses"]
    assert {r[0]: (r[1], r[2]) for r in rows} == {
        m["deployment_id"]: (datetime.fromisoformat(m["changed_at"]), m["resource_id"])
        for m in truth["near_misses"]
    }
    dead = landed_generated.execute(
        "select object_key from ops.dead_letter_events "
        "where reason like 'kubernetes-event-exporter sent a details: template%'"
    ).fetchall()
    assert sorted(key for (key,) in dead) == sorted(
        d["object_key"] for d in truth["dead_letters"] if d["kind"] == "eks_details_template"
    )


def test_the_shipped_exporter_config_sends_whole_scaling_events():
    """deploy/kubernetes/exporter-config.yaml, read as the exporter reads it (its Config and
    Route types: pkg/exporter/config.go, route.go, rule.go)."""
    config = yaml.safe_load(EXPORTER_CONFIG.read_text())
    rules = [rule for route in config["route"]["routes"] for rule in route["match"]]
    (rule,) = [r for r in rules if r.get("reason") == "ScalingReplicaSet"]
    (receiver,) = [r for r in config["receivers"] if r["name"] == rule["receiver"]]
    assert "details" not in receiver["eventbridge"], "a template sends no uid, count or labels"
    assert config["maxEventAgeSeconds"] >= 3600
    assert not config.get("omitLookup") and config["clusterName"]
