"""A Datadog endpoint that accepts the connection and never answers (issue 12, item 3).

Before, the run waited forever: no message, no ledger row, and the warehouse pool's slot
held. Now every request has a read timeout: the payload is recorded as failed like any
other failure, the run fails saying so, and the rerun against a live Datadog sends it.
"""

import time

import duckdb
from datadog_double import DatadogDouble
from test_publish import (
    API_KEY,
    APP_KEY,
    assert_sent_exactly_once,
    copy_of,
    dry_run_warehouse,  # noqa: F401 (the module-scoped fixture: one dry run of the archive)
    expected_points,
    ledger,
    publish,
)

from dora4_pipeline.resources.datadog import DatadogResource


def test_a_datadog_that_never_answers_fails_the_payload_and_the_rerun_sends_it(
    dry_run_warehouse,  # noqa: F811
    generated,
    truth,
    tmp_path,
):
    warehouse = copy_of(dry_run_warehouse, tmp_path)
    expected = expected_points(truth)
    double = DatadogDouble(api_key=API_KEY, app_key=APP_KEY)
    double.start()
    try:
        double.hang()
        hanging = DatadogResource(
            api_key=API_KEY, url=double.url, max_retries=1, read_timeout_seconds=0.5
        )
        started = time.monotonic()
        result = publish(generated, warehouse, hanging)
        assert time.monotonic() - started < 60, "the read timeout ended the wait"
        assert not result.success
        assert double.submissions(), "the stand-in saw the payload and kept silent"
        assert double.accepted_series() == []
        assert ledger(warehouse) == [
            ("dry_run", "new", len(expected), float(sum(expected.values()))),
            ("failed", "new", len(expected), float(sum(expected.values()))),
        ]
        with duckdb.connect(str(warehouse), read_only=True) as conn:
            (errors,) = conn.execute(
                "select list(distinct error) from ops.datadog_publications where status = 'failed'"
            ).fetchone()
        assert len(errors) == 1 and "timed out" in errors[0].lower(), errors

        double.hang(False)
        live = DatadogResource(api_key=API_KEY, url=double.url, max_retries=1)
        assert publish(generated, warehouse, live).success
        assert_sent_exactly_once(double, expected)
    finally:
        double.stop()


def test_the_timeouts_are_settings_with_defaults(monkeypatch):
    assert DatadogResource.from_env({}).read_timeout_seconds == 60.0
    resource = DatadogResource.from_env(
        {"DORA4_HTTP_CONNECT_TIMEOUT": "3", "DORA4_HTTP_READ_TIMEOUT": "7.5"}
    )
    assert (resource.connect_timeout_seconds, resource.read_timeout_seconds) == (3.0, 7.5)
    client = resource.api_client()
    assert client.configuration.request_timeout == (3.0, 7.5)
