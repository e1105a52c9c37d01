"""Hostile archive objects never stop landing (issue 12, item 2).

Before, one record larger than DuckDB's maximum_object_size stopped the landing step with
a RuntimeError, and JSON nested 10,000 levels deep with a RecursionError, so nothing of the
range landed. Each object here mixes hostile records with good deployments: every good
deployment must land and count, every hostile record must be one dead letter with its
reason, and a rerun must change nothing. The deployments are hand-built CloudTrail
`UpdateFunctionCode20150331v2` events (dora4_generator/events.py, shaped on the CloudTrail
record in AWS's Lambda docs: https://docs.aws.amazon.com/lambda/latest/dg/logging-using-cloudtrail.html).
"""

import gzip
import json
import logging
import random
import zlib
from datetime import UTC, date, datetime

import dagster as dg
import duckdb
import pytest
from archive_helpers import lambda_deploy

from dora4_pipeline import sql
from dora4_pipeline.assembly import build_definitions
from dora4_pipeline.errors import ConfigError
from dora4_pipeline.events.records import DEFAULT_MAX_RECORD_BYTES
from dora4_pipeline.landing.ingest import land_days
from dora4_pipeline.resources.archive import LocalArchive
from dora4_pipeline.resources.warehouse import WarehouseResource
from dora4_pipeline.settings import Settings

DAY = date(2026, 3, 17)
DEEP = 10_000
# DuckDB reads a record up to about twice its maximum_object_size before it gives up:
# this one is past that, as in the issue (a record that made the whole landing fail).
OVERSIZED = 2 * DEFAULT_MAX_RECORD_BYTES + (1 << 20)


def at(hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(DAY.year, DAY.month, DAY.day, hour, minute, second, tzinfo=UTC)


class Objects:
    """Writes objects into Firehose's layout and remembers the deployments they carry."""

    def __init__(self, root):
        self.root = root
        self.expected: set[str] = set()
        self.sequence = 0

    def good(self) -> bytes:
        self.sequence += 1
        event_id = f"ct-good-{self.sequence}"
        self.expected.add(f"lambda:{event_id}")
        return json.dumps(lambda_deploy(event_id, at(9, self.sequence))).encode()

    def write(self, name: str, body: bytes, *, minute: int, gz: bool = False) -> str:
        delivered = at(10, minute)
        folder = self.root / f"{delivered:%Y/%m/%d/%H}"
        folder.mkdir(parents=True, exist_ok=True)
        key = f"dora4-events-1-{delivered:%Y-%m-%d-%H-%M-%S}-{name}" + (".gz" if gz else "")
        (folder / key).write_bytes(gzip.compress(body) if gz else body)
        return f"{delivered:%Y/%m/%d/%H}/{key}"


def noise_event(detail: object) -> dict:
    """An EventBridge envelope around any detail (the shape of every event on the bus)."""
    return {
        "version": "0",
        "id": "noise-hostile",
        "detail-type": "Object Created",
        "source": "aws.s3",
        "account": "444455556666",
        "time": "2026-03-17T10:00:00Z",
        "region": "eu-west-1",
        "resources": [],
        "detail": detail,
    }


def deep_text(levels: int) -> str:
    return "[" * levels + "]" * levels


def json_event_text(detail: str) -> bytes:
    """An event whose detail is the given JSON text, written as is."""
    envelope = json.dumps(noise_event(None))
    return envelope.replace('"detail": null', f'"detail": {detail}').encode()


def gzip_cut_in_last_record(body: bytes) -> bytes:
    """The gzip of `body` cut so that its readable prefix ends inside the last record."""
    whole = gzip.compress(body)
    last_start = body.rindex(b'{"version"')
    for cut in range(len(whole) - 1, 0, -1):
        readable = len(zlib.decompressobj(wbits=31).decompress(whole[:cut]))
        if last_start < readable < len(body):
            return whole[:cut]
        if readable <= last_start:
            break
    raise AssertionError("no cut ends inside the last record")


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """The objects, landed once and again; the warehouse's rows for the assertions."""
    root = tmp_path_factory.mktemp("archive")
    objects = Objects(root)
    keys: dict[str, str] = {}
    oversized = json.dumps(noise_event({"blob": "x" * OVERSIZED})).encode()
    keys["oversized"] = objects.write(
        "oversized", objects.good() + oversized + objects.good(), minute=1
    )
    keys["oversized_gzip"] = objects.write(
        "oversized-gz",
        objects.good() + b"\n" + oversized + b"\n" + objects.good(),
        minute=2,
        gz=True,
    )
    # A bare deep array is no event: the object goes record by record, where it recursed.
    keys["deep_array"] = objects.write(
        "deep-array", objects.good() + deep_text(DEEP).encode() + objects.good(), minute=3
    )
    # Deep events beside a malformed record (record by record again): 10,000 levels, past
    # what Python's parser can recurse, and 300, which it can but the limit (128) refuses.
    keys["deep_event"] = objects.write(
        "deep-event",
        objects.good()
        + b"{oops}"
        + objects.good()
        + json_event_text(deep_text(DEEP))
        + objects.good()
        + json_event_text(deep_text(300))
        + objects.good(),
        minute=4,
    )
    noise = random.Random(12).randbytes(4096)
    keys["random_bytes"] = objects.write("random", b"R" + noise, minute=5)
    body = objects.good() + objects.good() + objects.good()
    cut_off = f"lambda:ct-good-{objects.sequence}"
    keys["truncated_gzip"] = objects.write("truncated", gzip_cut_in_last_record(body), minute=6)
    objects.expected.discard(cut_off)  # it never arrived whole
    bom = b"\xef\xbb\xbf"
    keys["bom"] = objects.write("bom", bom + objects.good() + objects.good(), minute=7)
    keys["bom_per_record"] = objects.write(
        "bom-each", bom + objects.good() + b"\n" + bom + objects.good(), minute=8
    )
    good = objects.good()
    bad_utf8 = good.replace(b'"eventSource"', b'"note": "caf\xe9 \xff", "eventSource"', 1)
    assert bad_utf8 != good
    keys["invalid_utf8"] = objects.write("utf8", bad_utf8 + objects.good(), minute=9)
    surrogate = json.dumps(noise_event({"name": "\ud800"})).encode()  # a lone surrogate
    keys["lone_surrogate"] = objects.write(
        "surrogate", objects.good() + surrogate + objects.good(), minute=10
    )

    warehouse = WarehouseResource(path=str(tmp_path_factory.mktemp("w") / "w.duckdb"))
    log = logging.getLogger("test")
    with warehouse.connect() as conn:
        first = land_days(LocalArchive(str(root)), conn, [DAY], log)
        state = conn.execute("select * from ops.landed_objects order by all").fetchall()
        again = land_days(LocalArchive(str(root)), conn, [DAY], log)
        assert conn.execute("select * from ops.landed_objects order by all").fetchall() == state
        sql.materialize_window(conn, "fct_deployments", DAY, DAY)
    return {
        "keys": keys,
        "expected": objects.expected,
        "first": first,
        "again": again,
        "conn": duckdb.connect(warehouse.path, read_only=True),
    }


def dead_letters(hostile, name: str) -> list[str]:
    rows = (
        hostile["conn"]
        .execute(
            "select reason from ops.dead_letter_events where object_key = ? order by record_index",
            [hostile["keys"][name]],
        )
        .fetchall()
    )
    return [reason for (reason,) in rows]


def test_every_good_deployment_lands_beside_hostile_records(hostile):
    found = {
        deployment_id
        for (deployment_id,) in hostile["conn"]
        .execute("select deployment_id from marts.fct_deployments")
        .fetchall()
    }
    assert found == hostile["expected"]
    assert len(found) == 20
    assert hostile["first"].objects_landed == len(hostile["keys"])
    assert (hostile["again"].objects_landed, hostile["again"].objects_unchanged) == (
        0,
        len(hostile["keys"]),
    )


@pytest.mark.parametrize(
    "name, reasons",
    [
        ("oversized", ["is larger than the limit of 16,777,216 (DORA4_MAX_RECORD_BYTES)"]),
        ("oversized_gzip", ["is larger than the limit of 16,777,216 (DORA4_MAX_RECORD_BYTES)"]),
        ("deep_array", ["JSON nested deeper than 128 levels (DORA4_MAX_JSON_DEPTH)"]),
        (
            "deep_event",
            [
                "malformed JSON record",
                "JSON nested deeper than 128 levels (DORA4_MAX_JSON_DEPTH)",
                "JSON nested deeper than 128 levels (DORA4_MAX_JSON_DEPTH)",
            ],
        ),
        ("random_bytes", ["malformed JSON record"]),
        ("truncated_gzip", ["truncated gzip"]),
        ("bom", []),
        ("bom_per_record", []),
        ("invalid_utf8", []),
        ("lone_surrogate", ["DuckDB's JSON reader refuses the record"]),
    ],
)
def test_each_hostile_record_is_one_dead_letter_with_its_reason(hostile, name, reasons):
    found = dead_letters(hostile, name)
    assert len(found) == len(reasons), found
    for reason, expected in zip(found, reasons, strict=True):
        assert expected in reason


def test_the_record_limits_are_settings_checked_before_a_run():
    settings = Settings.from_env(
        {"DORA4_MAX_RECORD_BYTES": "33554432", "DORA4_MAX_JSON_DEPTH": "64"}
    )
    assert settings.record_limits.max_record_bytes == 32 << 20
    assert settings.record_limits.max_json_depth == 64
    assert Settings.from_env({}).record_limits.max_record_bytes == DEFAULT_MAX_RECORD_BYTES
    for name, value in [
        ("DORA4_MAX_RECORD_BYTES", "16MB"),
        ("DORA4_MAX_RECORD_BYTES", "1024"),
        ("DORA4_MAX_JSON_DEPTH", "10000"),
        ("DORA4_MAX_JSON_DEPTH", "-1"),
    ]:
        with pytest.raises(ConfigError, match=name):
            Settings.from_env({name: value})


def test_the_configured_depth_limit_reaches_the_landing_step(tmp_path):
    """DORA4_MAX_JSON_DEPTH=16 through Settings and the landing asset, not only the reader:
    an event 20 levels deep in an object read record by record is a dead letter."""
    objects = Objects(tmp_path / "archive")
    body = objects.good() + b"{oops}" + objects.good() + json_event_text(deep_text(20))
    key = objects.write("depth-setting", body + objects.good(), minute=30)
    settings = Settings.from_env(
        {
            "DORA4_ARCHIVE_URI": str(tmp_path / "archive"),
            "DORA4_WAREHOUSE": str(tmp_path / "w.duckdb"),
            "DORA4_PARTITIONS_START": "2026-01-01",
            "DORA4_MAX_JSON_DEPTH": "16",
        }
    )
    defs = build_definitions(settings)
    result = dg.materialize(
        [defs.get_assets_def(dg.AssetKey(["raw", "candidate_events"]))],
        resources={name: defs.resources[name] for name in ("archive", "warehouse")},
        partition_key=DAY.isoformat(),
    )
    assert result.success
    with duckdb.connect(settings.warehouse, read_only=True) as conn:
        reasons = conn.execute(
            "select reason from ops.dead_letter_events where object_key = ? order by record_index",
            [key],
        ).fetchall()
    assert [r for (r,) in reasons][1:] == [
        "JSON nested deeper than 16 levels (DORA4_MAX_JSON_DEPTH)"
    ]
