"""Landing's marker prefilter lands exactly what the plain predicates land (issue 16).

dbt_like_sql/landing/scan_objects.sql parses a record's `detail` only where it may hold a
signal: Lambda's by source, Kubernetes' where the text holds `ScalingReplicaSet`. The
plain form parsed every detail. Both land the same generated archive here (every kind of
event and its damage: truncated gzip, malformed records, non-events) plus hand-built
records written to trip a text test (escaped markers, markers outside `reason`), and
every landed table and the deployments mart must be equal row for row.
"""

import gzip
import json
import logging
import shutil
from datetime import UTC, datetime, timedelta

import aws_event_samples as samples
import duckdb
import pytest
from archive_helpers import lambda_deploy
from conftest import ARCHIVE_DAYS, ARCHIVE_START

from dora4_pipeline import sql
from dora4_pipeline.landing import ingest
from dora4_pipeline.landing.ingest import land_days
from dora4_pipeline.resources.archive import LocalArchive
from dora4_pipeline.resources.warehouse import WarehouseResource

# the prefiltered predicates as shipped, and the plain ones they replace
PREFILTERED_TO_PLAIN = {
    "case when source = 'aws.lambda' and contains(detail::varchar, 'UpdateFunctionCode')\n"
    "                then detail ->> 'eventName' like 'UpdateFunctionCode%' end": (
        "(source = 'aws.lambda' and detail ->> 'eventName' like 'UpdateFunctionCode%')"
    ),
    "case when contains(detail::varchar, 'ScalingReplicaSet') then detail ->> 'reason' = "
    "'ScalingReplicaSet' end": "detail ->> 'reason' = 'ScalingReplicaSet'",
}
DAYS = [ARCHIVE_START + timedelta(days=n) for n in range(ARCHIVE_DAYS + 1)]  # + lateness
TABLES = {
    "raw.candidate_events": "* exclude (landed_at)",
    "ops.object_event_counts": "*",
    "ops.dead_letter_events": "* exclude (recorded_at, resolved_at)",
    "ops.landed_objects": "* exclude (landed_at)",
}


def plain_scan() -> str:
    text = sql.load("landing/scan_objects")
    for prefiltered, plain in PREFILTERED_TO_PLAIN.items():
        assert prefiltered in text, "the shipped scan no longer has this prefilter"
        text = text.replace(prefiltered, plain)
    return text


def envelope(detail_text: str, n: int, source: str = "kubernetes") -> bytes:
    """An EventBridge envelope (the shape of every event on the bus) around raw detail text."""
    return (
        f'{{"version": "0", "id": "prefilter-{n}", "detail-type": "Kubernetes Event", '
        f'"source": "{source}", "account": "444455556666", "time": "2026-03-16T10:00:0{n}Z", '
        f'"region": "eu-west-1", "resources": [], "detail": {detail_text}}}'
    ).encode()


def tricky_object(root) -> None:
    """Records a byte-level test could get wrong, in one gzip object."""
    when = datetime(2026, 3, 16, 10, 5, tzinfo=UTC)
    escaped_lambda = json.dumps(lambda_deploy("prefilter-lambda", when)).replace(
        '"UpdateFunctionCode', '"\\u0055pdateFunctionCode'
    )
    assert "UpdateFunctionCode20150331v2" not in escaped_lambda
    records = [
        envelope('{"reason": "Scaling\\u0052eplicaSet", "message": "Scaled down"}', 1),
        envelope('{"re\\u0061son": "ScalingReplicaSet"}', 2),
        envelope('{"reason": "Started", "message": "not ScalingReplicaSet"}', 3),
        envelope('{"note": {"reason": "ScalingReplicaSet"}}', 4),
        envelope('{"reason": "ScalingReplicaSetX"}', 5, source="aws.s3"),
        escaped_lambda.encode(),
    ]
    folder = root / f"{when:%Y/%m/%d/%H}"
    folder.mkdir(parents=True, exist_ok=True)
    name = f"dora4-events-1-{when:%Y-%m-%d-%H-%M-%S}-prefilter.gz"
    (folder / name).write_bytes(gzip.compress(b"".join(records)))


# Hand-written real shapes (tests/aws_event_samples.py names each one's public source):
# the signals and their look-alikes the markers must let through, and noise they must not.
REAL_SIGNAL_SHAPES = [
    samples.LAMBDA_UPDATE_FUNCTION_CODE,
    samples.LAMBDA_UPDATE_FUNCTION_CODE_FAILED,
    samples.EKS_SCALED_DOWN_TO_ZERO,
    samples.EKS_SCALED_UP,
]
REAL_NOISE_SHAPES = [samples.ECS_TASK_STATE_CHANGE]


def real_shapes_object(root) -> None:
    """The real-shaped samples in one plain object, concatenated as Firehose writes them."""
    when = datetime(2026, 3, 17, 14, 5, tzinfo=UTC)
    folder = root / f"{when:%Y/%m/%d/%H}"
    folder.mkdir(parents=True, exist_ok=True)
    body = "".join(json.dumps(e) for e in REAL_NOISE_SHAPES + REAL_SIGNAL_SHAPES)
    (folder / f"dora4-events-1-{when:%Y-%m-%d-%H-%M-%S}-real-shapes").write_text(body)


def land(root, path, monkeypatch, scan: str | None) -> duckdb.DuckDBPyConnection:
    if scan is not None:
        real = sql.load
        monkeypatch.setattr(
            ingest.sql, "load", lambda name: scan if name == "landing/scan_objects" else real(name)
        )
    warehouse = WarehouseResource(path=str(path))
    with warehouse.connect() as conn:
        land_days(LocalArchive(str(root)), conn, DAYS, logging.getLogger("test"))
        sql.materialize_window(conn, "fct_deployments", DAYS[0], DAYS[-2])
    monkeypatch.undo()
    return duckdb.connect(str(path), read_only=True)


@pytest.fixture(scope="module")
def landed(generated, tmp_path_factory):
    root = tmp_path_factory.mktemp("prefilter") / "archive"
    shutil.copytree(generated / "archive", root)
    tricky_object(root)
    real_shapes_object(root)
    work = tmp_path_factory.mktemp("warehouses")
    with pytest.MonkeyPatch.context() as monkeypatch:
        shipped = land(root, work / "shipped.duckdb", monkeypatch, None)
        plain = land(root, work / "plain.duckdb", monkeypatch, plain_scan())
    return shipped, plain


@pytest.mark.parametrize("table", [*TABLES, "marts.fct_deployments"])
def test_prefiltered_landing_equals_the_plain_scan(landed, table):
    shipped, plain = landed
    columns = TABLES.get(table, "*")
    query = f"select {columns} from {table} order by all"  # noqa: S608 (our table names)
    rows = shipped.execute(query).fetchall()
    assert rows, f"{table} is empty: the comparison would prove nothing"
    assert rows == plain.execute(query).fetchall()


def test_the_archive_had_damage_and_tricky_records(landed):
    """The comparison covers damaged objects and records that only look like markers."""
    shipped, _ = landed
    (dead,) = shipped.execute("select count(*) from ops.dead_letter_events").fetchone()
    assert dead > 0
    kept = shipped.execute(
        "select list(if(contains(detail::varchar, 'prefilter-lambda'), 'lambda', event_id) "
        ") from raw.candidate_events "
        "where event_id like 'prefilter-%' or contains(detail::varchar, 'prefilter-lambda')"
    ).fetchone()[0]
    # escaped markers are the same values once parsed: kept; text elsewhere is not enough
    assert sorted(kept) == ["lambda", "prefilter-1", "prefilter-2"]


def test_each_landed_object_is_recorded_with_its_own_facts(landed, generated, truth):
    """ops.landed_objects, row by row against the archive and truth: the key's folder hour,
    the file's size, and the damaged objects (and only those) read record by record."""
    shipped, _ = landed
    rows = shipped.execute(
        "select object_key, size_bytes, strftime(timezone('UTC', delivery_hour), "
        "'%Y/%m/%d/%H %M:%S'), parse_path from ops.landed_objects"
    ).fetchall()
    assert len(rows) == truth["objects"] + 2  # and the test's two objects
    for key, size, hour, _ in rows:
        if "prefilter" not in key and "real-shapes" not in key:  # only in the test's copy
            assert size == (generated / "archive" / key).stat().st_size
        assert hour == f"{key[:13]} 00:00"  # the folder's hour, to the second
    whole_object_damage = {"truncated_gzip", "malformed_record", "not_an_event"}
    assert {key for key, *_, parse_path in rows if parse_path == "python"} == {
        d["object_key"] for d in truth["dead_letters"] if d["kind"] in whole_object_damage
    }


def test_real_shaped_signals_are_candidates_and_their_noise_is_not(landed):
    """The markers let every hand-written real signal shape through (look-alikes too: the
    staging rules decide those), and leave the real noise beside them to the counts."""
    shipped, _ = landed
    kept = {
        event_id
        for (event_id,) in shipped.execute(
            "select event_id from raw.candidate_events where object_key like '%real-shapes'"
        ).fetchall()
    }
    assert kept == {event["id"] for event in REAL_SIGNAL_SHAPES}
    counted = shipped.execute(
        "select sum(events) from ops.object_event_counts where object_key like '%real-shapes'"
    ).fetchone()[0]
    assert counted == len(REAL_SIGNAL_SHAPES) + len(REAL_NOISE_SHAPES)
