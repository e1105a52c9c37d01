"""The whole graph end to end: S3 over HTTP (moto) or a folder, a DuckDB file, Dagster
materializations; compared with the generator's truth, rerun, fed late and fixed objects."""

import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import dagster as dg
import duckdb
import pytest
from archive_helpers import lambda_deploy, write_object
from aws_estate import ROLE_TEMPLATE, create_generated_deployment_groups
from conftest import ARCHIVE_DAYS, ARCHIVE_START, REGION, upload_folder

from dora4_pipeline.assembly import build_definitions
from dora4_pipeline.cli import main
from dora4_pipeline.settings import Settings

FIRST = ARCHIVE_START
LAST = FIRST + timedelta(days=ARCHIVE_DAYS - 1)
REASON_OF_KIND = {
    "truncated_gzip": "truncated gzip",
    "malformed_record": "malformed JSON record",
    "not_an_event": "not an EventBridge event",
    "missing_field": "missing ",
    "implausible_time": "change time 1970-01-01T00:00:00Z is more than 7 days before",
    "eks_details_template": "kubernetes-event-exporter sent a details: template",
    "custom_missing_id": "custom Deployment: missing detail.id",
    "custom_bad_time": "custom Deployment: missing or unreadable detail.finished_at",
    "custom_bad_status": "custom Deployment: detail.status must be",
    "custom_no_owner": "custom Deployment: neither detail.tags nor detail.resource",
}


def per_day_and_source(conn) -> dict[str, dict[str, int]]:
    found = {
        d.isoformat(): {"lambda": 0, "ecs": 0, "eks": 0, "custom": 0}
        for d in (FIRST + timedelta(days=n) for n in range(ARCHIVE_DAYS))
    }
    for day, source, n in conn.execute(
        "select day, event_source, count(*) from marts.fct_deployments group by all"
    ).fetchall():
        found[day.isoformat()][source] = n
    return found


def warehouse_state(conn) -> dict:
    """Everything a rerun must leave as it was."""
    return {
        "deployments": conn.execute("select * from marts.fct_deployments order by all").fetchall(),
        "candidates": conn.execute("select count(*) from raw.candidate_events").fetchone(),
        "objects": conn.execute(
            "select object_key, etag, records, candidates, dead_letters, landed_at "
            "from ops.landed_objects order by all"
        ).fetchall(),
        "counts": conn.execute("select * from ops.object_event_counts order by all").fetchall(),
        "dead_letters": conn.execute(
            "select * exclude (recorded_at) from ops.dead_letter_events order by all"
        ).fetchall(),
    }


def test_s3_archive_gives_the_generators_truth_and_a_rerun_changes_nothing(
    aws, generated, truth, tmp_path, monkeypatch, capsys
):
    boto3.client("s3").create_bucket(
        Bucket="org-eventbridge-archive",
        CreateBucketConfiguration={"LocationConstraint": REGION},
    )
    upload_folder(generated / "archive", "org-eventbridge-archive", "firehose/events/")
    warehouse = tmp_path / "dora4.duckdb"
    monkeypatch.setenv("DORA4_ARCHIVE_URI", "s3://org-eventbridge-archive/firehose/events/")
    monkeypatch.setenv("DORA4_WAREHOUSE", str(warehouse))
    # CodeDeploy's deployment groups live in the events' own accounts, read through the role
    create_generated_deployment_groups((generated / "tags.json").read_text())
    monkeypatch.setenv("DORA4_TAG_ROLE_ARN", ROLE_TEMPLATE)
    argv = ["run", "--start", FIRST.isoformat(), "--end", LAST.isoformat()]

    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert f"{len(truth['deployments'])} deployments" in printed

    with duckdb.connect(str(warehouse), read_only=True) as conn:
        assert per_day_and_source(conn) == truth["deployments_per_day"]
        found = {
            row[0]: row[1:]
            for row in conn.execute(
                "select deployment_id, deployed_at, event_source, resource_id "
                "from marts.fct_deployments"
            ).fetchall()
        }
        assert found == {
            d["deployment_id"]: (
                datetime.fromisoformat(d["deployed_at"]).astimezone(UTC),
                d["event_source"],
                d["resource_id"],
            )
            for d in truth["deployments"]
        }
        dead = conn.execute(
            "select object_key, reason from ops.dead_letter_events where resolved_at is null"
        ).fetchall()
        for expected in truth["dead_letters"]:
            reasons = [r for key, r in dead if key == expected["object_key"]]
            assert any(r.startswith(REASON_OF_KIND[expected["kind"]]) for r in reasons), expected
        assert {key for key, _ in dead} == {d["object_key"] for d in truth["dead_letters"]}
        before = warehouse_state(conn)

    assert main(argv) == 0
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        assert warehouse_state(conn) == before


def _landing_metadata(result: dg.ExecuteInProcessResult) -> dict:
    (event,) = [
        e
        for e in result.get_asset_materialization_events()
        if e.asset_key == dg.AssetKey(["raw", "candidate_events"])
    ]
    return {k: v.value for k, v in event.materialization.metadata.items()}


def test_late_and_fixed_objects_reach_the_day_they_belong_to(generated, truth, tmp_path):
    archive = tmp_path / "archive"
    shutil.copytree(generated / "archive", archive)
    settings = Settings(
        archive_uri=str(archive),
        warehouse=str(tmp_path / "w.duckdb"),
        partitions_start="2026-01-01",
    )
    defs = build_definitions(settings)
    everything = [*defs.assets, *defs.asset_checks]
    resources = defs.resources
    fct = dg.AssetSelection.assets(dg.AssetKey(["marts", "fct_deployments"]))
    landing = dg.AssetSelection.assets(dg.AssetKey(["raw", "candidate_events"]))

    def count_first_day() -> int:
        with duckdb.connect(settings.warehouse, read_only=True) as conn:
            return conn.execute(
                "select count(*) from marts.fct_deployments where day = ?", [FIRST]
            ).fetchone()[0]

    # Without the tag step CodeDeploy's deployment groups are never resolved: its SUCCESS
    # events stay near misses here (stg_codedeploy_near_misses), not deployments.
    expected_first = sum(
        1
        for d in truth["deployments"]
        if d["day"] == FIRST.isoformat() and not d["deployment_id"].startswith("codedeploy:")
    )
    with dg.instance_for_test() as instance:

        def run(selection, day):
            return dg.materialize(
                everything,
                selection=selection,
                partition_key=day.isoformat(),
                instance=instance,
                resources=resources,
            )

        run(landing | fct, FIRST)
        on_time = count_first_day()
        assert 0 < on_time < expected_first, "the generator delivers some of day 1 late"
        run(landing, LAST)
        run(fct, FIRST)
        assert count_first_day() == expected_first

        # A new object arrives, delivered the next evening, with one more deployment of day 1.
        late = lambda_deploy("ct-very-late", datetime(2026, 3, 16, 23, 59, 30, tzinfo=UTC))
        write_object(archive, datetime(2026, 3, 17, 20, tzinfo=UTC), [late], name="late")
        metadata = _landing_metadata(run(landing, LAST))
        assert (metadata["objects_landed"], metadata["objects_relanded"]) == (1, 0)
        run(fct, FIRST)
        assert count_first_day() == expected_first + 1

        # A damaged object is dead-lettered; once fixed and re-uploaded, it is landed again.
        fixed = lambda_deploy("ct-fixed", datetime(2026, 3, 16, 22, tzinfo=UTC))
        path = write_object(archive, datetime(2026, 3, 17, 21, tzinfo=UTC), [fixed], name="fix")
        good = path.read_bytes()
        path.write_bytes(good[:-40] + good[-20:])
        run(landing, LAST)
        run(fct, FIRST)
        assert count_first_day() == expected_first + 1
        path.write_bytes(good)
        metadata = _landing_metadata(run(landing, LAST))
        assert (metadata["objects_landed"], metadata["objects_relanded"]) == (1, 1)
        run(fct, FIRST)
        assert count_first_day() == expected_first + 2
        with duckdb.connect(settings.warehouse, read_only=True) as conn:
            open_on_fixed = conn.execute(
                "select count(*) from ops.dead_letter_events "
                "where object_key like '%-fix' and resolved_at is null"
            ).fetchone()[0]
        assert open_on_fixed == 0


@pytest.mark.parametrize(
    "env, argv, message",
    [
        ({}, ["run", "--start", "2026-13-01", "--end", "2026-03-17"], "YYYY-MM-DD"),
        ({}, ["run", "--start", "2026-03-18", "--end", "2026-03-17"], "is after --end"),
        ({"DORA4_ARCHIVE_URI": "/nonexistent/archive"}, None, "does not exist"),
        ({"DORA4_ARCHIVE_URI": "s3://no-such-bucket/events/"}, None, "does not exist"),
        (
            {"DORA4_ARCHIVE_URI": "s3://bucket/events/", "AWS_ACCESS_KEY_ID": ""},
            None,
            "no AWS credentials",
        ),
        ({"DORA4_LATENESS_HOURS": "a day"}, None, "DORA4_LATENESS_HOURS"),
        ({"DORA4_TIMEZONE": "Mars/Base"}, None, "not an IANA timezone"),
        ({"DORA4_BANDS": "dora2099"}, None, "DORA4_BANDS"),
    ],
)
def test_bad_configuration_ends_in_one_line_naming_the_fix(
    aws, monkeypatch, capsys, tmp_path, env, argv, message
):
    monkeypatch.setenv("DORA4_WAREHOUSE", str(tmp_path / "w.duckdb"))
    for name, value in env.items():
        if value:
            monkeypatch.setenv(name, value)
        else:
            monkeypatch.delenv(name)
            monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    assert main(argv or ["run", "--start", "2026-03-16", "--end", "2026-03-17"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert message in err


def test_the_installed_command_reports_bad_configuration_in_one_line(tmp_path):
    """The console script itself, in a fresh process: no import-time traceback."""
    dora4 = Path(sys.executable).with_name("dora4")
    env = {**os.environ, "DORA4_WAREHOUSE": str(tmp_path / "w.duckdb"), "DORA4_BANDS": "x"}
    done = subprocess.run(
        [str(dora4), "run", "--start", "2026-03-16", "--end", "2026-03-16"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "dora4: DORA4_BANDS: 'x' is not one of ['dora2021', 'dora2023']"
    ]
