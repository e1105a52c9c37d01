"""S3 that throttles, errs, drops connections and lags, through a fault proxy in front of
moto's server (issue 12, item 4). A fifth of requests failing is ridden out by the retry
budget (botocore's standard mode, DORA4_AWS_MAX_ATTEMPTS); an outage ends in one line
naming the endpoint and what failed, exit 1; an endpoint that is not S3 is named as such."""

import functools
import http.server
import threading

import boto3
import duckdb
import pytest
from conftest import REGION, upload_folder
from fault_proxy import FaultProxy
from test_pipeline import FIRST, LAST, per_day_and_source

from dora4_pipeline.cli import main

BUCKET = "org-eventbridge-archive"
PREFIX = "firehose/events/"
ARGV = ["run", "--start", FIRST.isoformat(), "--end", LAST.isoformat()]


@pytest.fixture
def bucket(aws, generated, tmp_path, monkeypatch):
    """An empty archive bucket in moto's S3, and the settings of a run over it."""
    boto3.client("s3").create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    monkeypatch.setenv("DORA4_ARCHIVE_URI", f"s3://{BUCKET}/{PREFIX}")
    monkeypatch.setenv("DORA4_WAREHOUSE", str(tmp_path / "w.duckdb"))
    monkeypatch.setenv("DORA4_TAGS_FILE", str(generated / "tags.json"))
    return aws


@pytest.fixture
def proxy_in_front(bucket, monkeypatch):
    """Starts a FaultProxy in front of moto and points AWS_ENDPOINT_URL at it. Call it
    after uploading: uploads go to moto directly."""
    proxies = []

    def start(**faults) -> FaultProxy:
        proxy = FaultProxy(bucket, **faults)
        monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.start())
        proxies.append(proxy)
        return proxy

    yield start
    for proxy in proxies:
        proxy.stop()


@pytest.mark.slow
def test_a_fifth_of_s3_requests_failing_is_ridden_out(
    proxy_in_front, generated, truth, tmp_path, capsys
):
    upload_folder(generated / "archive", BUCKET, PREFIX)
    proxy = proxy_in_front(share=0.2, latency_share=0.1, latency_seconds=0.05)
    assert main(ARGV) == 0, capsys.readouterr().err
    assert {"slowdown", "error", "reset", "latency"} <= set(proxy.counts), proxy.counts
    faulted = proxy.counts["slowdown"] + proxy.counts["error"] + proxy.counts["reset"]
    assert faulted >= 0.15 * sum(proxy.counts.values())

    objects = [p for p in (generated / "archive").rglob("*") if p.is_file()]
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as conn:
        assert per_day_and_source(conn) == truth["deployments_per_day"]
        landed, distinct = conn.execute(
            "select count(*), count(distinct object_key) from ops.landed_objects"
        ).fetchone()
    assert landed == distinct == len(objects)


@pytest.mark.parametrize(
    ("fault", "said"),
    [
        ("slowdown", "HTTP 503"),
        ("error", "HTTP 500"),
        ("reset", "the connection was closed before an answer on every attempt"),
        ("hang", "no answer within DORA4_HTTP_READ_TIMEOUT on every attempt"),
    ],
)
def test_an_s3_outage_at_the_pre_flight_check_ends_in_one_line(
    proxy_in_front, monkeypatch, capsys, fault, said
):
    monkeypatch.setenv("DORA4_AWS_MAX_ATTEMPTS", "2")  # the default budget would take a minute
    monkeypatch.setenv("DORA4_HTTP_READ_TIMEOUT", "0.5")
    proxy = proxy_in_front(share=1.0, faults=(fault,))
    assert main(ARGV) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert err.startswith(f"dora4: S3 at {proxy.url} failed for s3://{BUCKET}/{PREFIX}")
    assert said in err and "DORA4_AWS_MAX_ATTEMPTS" in err
    assert proxy.counts[fault] == 2, "each request got the configured attempts"


def test_an_endpoint_that_is_not_s3_is_named_with_what_answered(aws, tmp_path, monkeypatch, capsys):
    """A web server (say, a proxy's status page) where S3 should be: before, 'the bucket
    does not exist'; now what answered."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    monkeypatch.setenv("DORA4_ARCHIVE_URI", f"s3://{BUCKET}/{PREFIX}")
    monkeypatch.setenv("DORA4_WAREHOUSE", str(tmp_path / "w.duckdb"))
    try:
        assert main(ARGV) == 2
    finally:
        server.shutdown()
        server.server_close()
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert f"AWS_ENDPOINT_URL: {url} is not S3" in err
    assert "HTTP 404" in err and "SimpleHTTP" in err and "does not exist" not in err


def test_a_bucket_that_does_not_exist_is_still_said_so(aws, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DORA4_ARCHIVE_URI", "s3://no-such-bucket-here/events/")
    monkeypatch.setenv("DORA4_WAREHOUSE", str(tmp_path / "w.duckdb"))
    assert main(ARGV) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        "dora4: DORA4_ARCHIVE_URI: bucket of s3://no-such-bucket-here/events/ does not exist "
        f"at {aws}"
    )


def test_a_tagging_api_outage_ends_in_one_line(proxy_in_front, monkeypatch, capsys):
    """The Tagging API (moto, behind the proxy) throttles every GetResources; S3 is fine."""
    monkeypatch.delenv("DORA4_TAGS_FILE")
    monkeypatch.setenv("DORA4_AWS_MAX_ATTEMPTS", "2")
    proxy = proxy_in_front(share=1.0, faults=("slowdown",), target="ResourceGroupsTaggingAPI")
    assert main(ARGV) == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("dora4: the run failed: raw__resource_tag_snapshots: ")
    assert f"the Tagging API at {proxy.url} failed GetResources after its retries (503" in err
    assert proxy.counts["slowdown"] == 2
