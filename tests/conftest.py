"""Real parts for tests: a moto server over HTTP for S3 and the Tagging API, generated
archives with known truth, and a fresh DuckDB file per test."""

import json
import logging
import os
import urllib.request
from datetime import date
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

from dora4_generator import generate

logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto logs every request

REGION = "eu-west-1"
ARCHIVE_START = date(2026, 3, 16)
ARCHIVE_DAYS = 2


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch, tmp_path):
    """No test sees the developer's AWS, Datadog or dora4 settings."""
    for name in list(os.environ):
        if name.startswith(("AWS_", "DD_", "DORA4_", "GITLAB_", "DAGSTER_HOME")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture(scope="session")
def moto_endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws(moto_endpoint, monkeypatch):
    """boto3 pointed at the moto server with fake credentials; moto's state reset."""
    urllib.request.urlopen(urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST"))
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    return moto_endpoint


@pytest.fixture(scope="session")
def generated(tmp_path_factory) -> Path:
    """Two days of archive with every kind of event and damage, and the generator's truth."""
    out = tmp_path_factory.mktemp("generated")
    generate(out, start=ARCHIVE_START, days=ARCHIVE_DAYS, events_per_day=3000, seed=11)
    return out


@pytest.fixture(scope="session")
def truth(generated) -> dict:
    return json.loads((generated / "truth.json").read_text())


def upload_folder(folder: Path, bucket: str, prefix: str) -> None:
    s3 = boto3.client("s3")
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        s3.upload_file(str(path), bucket, prefix + path.relative_to(folder).as_posix())


@pytest.fixture(scope="session")
def gitlab_api(generated):
    """GitLab's compare API on 127.0.0.1, answering for the generated pushes of more than 20
    commits (token `glpat-test`)."""
    from gitlab_double import GitLabDouble

    double = GitLabDouble(
        token="glpat-test", compares=json.loads((generated / "gitlab_api.json").read_text())
    )
    url = double.start()
    yield double, url
    double.stop()
