"""Which copy of a duplicate is "first arrival" does not depend on landing order (issue 12,
item 6).

Before, duplicates collapsed to the copy landed first (`landed_at`), so two runs that
overlapped could name a later delivery as a deployment's source, and the trace changed
with the order runs happened to land in. Now the first arrival is the earliest delivered
(Firehose's key time, to the second), then the object key: the same whatever the order.
The copies are one CloudTrail `UpdateFunctionCode20150331v2` event delivered four times in
Firehose's layout (dora4_generator/events.py; the key layout is Firehose's S3 naming:
https://docs.aws.amazon.com/firehose/latest/dev/s3-object-name.html).
"""

import json
import logging
from datetime import UTC, date, datetime

from dora4_generator.events import lambda_update_function_code
from dora4_pipeline import sql
from dora4_pipeline.landing.ingest import land_days
from dora4_pipeline.resources.archive import LocalArchive
from dora4_pipeline.resources.warehouse import WarehouseResource

DAY = date(2026, 3, 17)
DEPLOYED = datetime(2026, 3, 17, 9, 58, 30, tzinfo=UTC)
# (stream, delivered, envelope id). The earliest delivery is `early`; `alpha` came later
# but its key sorts first (another stream name), and `next-hour` in a later folder.
COPIES = [
    ("dora4-events", datetime(2026, 3, 17, 10, 5, 0, tzinfo=UTC), "env-early"),
    ("dora4-events", datetime(2026, 3, 17, 10, 20, 0, tzinfo=UTC), "env-later"),
    ("alpha-events", datetime(2026, 3, 17, 10, 30, 0, tzinfo=UTC), "env-alpha"),
    ("dora4-events", datetime(2026, 3, 17, 11, 0, 0, tzinfo=UTC), "env-next-hour"),
]


def write_copy(root, stream: str, delivered: datetime, envelope_id: str) -> str:
    event = lambda_update_function_code(
        event_id="ct-delivered-four-times",
        event_time=DEPLOYED,
        function_name_form="name",
        function_name="invoice-renderer",
        account="444455556666",
        region="eu-west-1",
        publish=True,
        envelope_id=envelope_id,
    )
    folder = root / f"{delivered:%Y/%m/%d/%H}"
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{stream}-1-{delivered:%Y-%m-%d-%H-%M-%S}-{envelope_id}"
    (folder / name).write_text(json.dumps(event))
    return f"{delivered:%Y/%m/%d/%H}/{name}"


def first_arrival(tmp_path, order: list[int], label: str) -> tuple[str, str]:
    """Lands the copies one landing at a time in `order`; the deployment's source."""
    root = tmp_path / label / "archive"
    warehouse = WarehouseResource(path=str(tmp_path / label / "w.duckdb"))
    with warehouse.connect() as conn:
        for n in order:
            write_copy(root, *COPIES[n])
            land_days(LocalArchive(str(root)), conn, [DAY], logging.getLogger("test"))
            sql.materialize_window(conn, "fct_deployments", DAY, DAY)
        rows = conn.execute(
            "select source_event_id, source_object from marts.fct_deployments"
        ).fetchall()
    assert len(rows) == 1, rows
    return rows[0]


def test_the_earliest_delivered_copy_is_first_arrival_whatever_the_landing_order(tmp_path):
    expected = ("env-early", "2026/03/17/10/dora4-events-1-2026-03-17-10-05-00-env-early")
    assert first_arrival(tmp_path, [0, 1, 2, 3], "in-order") == expected
    assert first_arrival(tmp_path, [3, 2, 1, 0], "reversed") == expected
    assert first_arrival(tmp_path, [2, 0, 3, 1], "mixed") == expected
