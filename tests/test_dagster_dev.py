"""`dagster dev` on workspace.yaml: the webserver loads the code location with its assets
and checks. The whole process tree it starts is ended, whatever happens."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUERY = """{ repositoriesOrError { ... on RepositoryConnection { nodes {
  assetNodes { assetKey { path } }
  schedules { name } sensors { name } } } } }"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _post(url: str, query: str) -> dict:
    request = urllib.request.Request(
        url,
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def _wait_for(url: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer within {seconds}s")


def test_dagster_dev_serves_the_code_location(tmp_path, generated):
    port = _free_port()
    dagster = Path(sys.executable).with_name("dagster")
    env = {
        **os.environ,
        "DAGSTER_HOME": str(tmp_path),
        "DORA4_ARCHIVE_URI": str(generated / "archive"),
        "DORA4_WAREHOUSE": str(tmp_path / "w.duckdb"),
    }
    process = subprocess.Popen(
        [
            str(dagster),
            "dev",
            "-w",
            str(ROOT / "workspace.yaml"),
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: we can end all of it
    )
    try:
        _wait_for(f"http://127.0.0.1:{port}/server_info", 120)
        nodes = []
        deadline = time.monotonic() + 60
        while not nodes and time.monotonic() < deadline:  # the code server loads after
            data = _post(f"http://127.0.0.1:{port}/graphql", QUERY)["data"]
            nodes = data["repositoriesOrError"].get("nodes") or []
            time.sleep(0.5)
        keys = {"/".join(a["assetKey"]["path"]) for n in nodes for a in n["assetNodes"]}
        assert {
            "raw/candidate_events",
            "raw/resource_tag_snapshots",
            "marts/fct_deployments",
            "marts/deployment_frequency_daily",
        } <= keys
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
