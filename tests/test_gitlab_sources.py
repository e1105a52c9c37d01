"""GitLab as it really reaches the archive: push hooks through different relays (recognised
by their content, unwrapped), and pushes of more than 20 commits, whose left-out commits come
from GitLab's compare API (a stand-in over real HTTP) once, or are counted as missing.
Hand-written events, through the real landing and SQL."""

import base64
import json
import logging
from datetime import UTC, date, datetime, timedelta, timezone

import dagster as dg
import duckdb
import pytest
from archive_helpers import write_object
from gitlab_double import GitLabDouble
from test_dora_keys_sources import cart_deploy  # a rollout of cart-api (project 77)

from dora4_pipeline import sql
from dora4_pipeline.landing.ingest import land_days
from dora4_pipeline.metrics.periods import materialize_periods
from dora4_pipeline.normalize.checks import lead_time_commits_complete
from dora4_pipeline.normalize.gitlab_commits import fetch_left_out_commits
from dora4_pipeline.report import keys_report
from dora4_pipeline.resources.archive import LocalArchive
from dora4_pipeline.resources.gitlab import GitLabResource
from dora4_pipeline.resources.warehouse import WarehouseResource
from dora4_pipeline.spec import MetricSpec

ACCOUNT, REGION = "444455556666", "eu-west-1"
DAY = date(2026, 3, 17)
TOKEN = "glpat-Zx9sTq3vR7mN2kLw"
LOG = logging.getLogger("test")


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(DAY.year, DAY.month, DAY.day, hour, minute, tzinfo=UTC)


def sha(n: int) -> str:
    return f"{n:040x}"


def commit(n: int, when: datetime) -> dict:
    """A commit as GitLab's push hook lists it (`timestamp` is its committed_date)."""
    return {
        "id": sha(n),
        "message": f"Change {n}\n",
        "title": f"Change {n}",
        "timestamp": when.astimezone(timezone(timedelta(hours=1))).isoformat(timespec="seconds"),
        "url": f"https://gitlab.example.com/commerce/cart-api/-/commit/{sha(n)}",
        "author": {"name": "Jordi Mallach", "email": "jordi@example.com"},
        "added": ["CHANGELOG"],
        "modified": ["app/controllers/application_controller.rb"],
        "removed": [],
    }


def push_body(before: str, commits: list[dict], total: int | None = None) -> dict:
    """A push hook body in the shape of GitLab's documented example (docs.gitlab.com,
    user/project/integrations/webhook_events.md, "Push events"): only the newest 20 commits
    are listed, `total_commits_count` has the real number (Gitlab::DataBuilder::Push)."""
    return {
        "object_kind": "push",
        "event_name": "push",
        "before": before,
        "after": commits[-1]["id"],
        "ref": "refs/heads/main",
        "ref_protected": True,
        "checkout_sha": commits[-1]["id"],
        "message": None,
        "user_id": 4,
        "user_name": "John Smith",
        "user_username": "jsmith",
        "user_email": "",
        "user_avatar": "https://s.gravatar.com/avatar/d4c74594d841139328695756648b6bd6?s=8://s.gravatar.com/avatar/d4c74594d841139328695756648b6bd6?s=80",
        "project_id": 77,
        "project": {
            "id": 77,
            "name": "cart-api",
            "description": "",
            "web_url": "https://gitlab.example.com/commerce/cart-api",
            "avatar_url": None,
            "git_ssh_url": "git@gitlab.example.com:commerce/cart-api.git",
            "git_http_url": "https://gitlab.example.com/commerce/cart-api.git",
            "namespace": "commerce",
            "visibility_level": 0,
            "path_with_namespace": "commerce/cart-api",
            "default_branch": "main",
            "ci_config_path": None,
            "homepage": "https://gitlab.example.com/commerce/cart-api",
            "url": "git@gitlab.example.com:commerce/cart-api.git",
            "ssh_url": "git@gitlab.example.com:commerce/cart-api.git",
            "http_url": "https://gitlab.example.com/commerce/cart-api.git",
        },
        "commits": commits[-20:],
        "total_commits_count": total or len(commits),
        "push_options": {},
        "repository": {
            "name": "cart-api",
            "url": "git@gitlab.example.com:commerce/cart-api.git",
            "description": "",
            "homepage": "https://gitlab.example.com/commerce/cart-api",
            "git_http_url": "https://gitlab.example.com/commerce/cart-api.git",
            "git_ssh_url": "git@gitlab.example.com:commerce/cart-api.git",
            "visibility_level": 0,
        },
    }


def event(event_id: str, when: datetime, detail_type: str, detail: dict, source="gitlab") -> dict:
    return {
        "version": "0", "id": event_id, "detail-type": detail_type, "source": source,
        "account": ACCOUNT, "time": when.strftime("%Y-%m-%dT%H:%M:%SZ"), "region": REGION,
        "resources": [], "detail": detail,
    }  # fmt: skip


GITLAB_HEADERS = {  # what GitLab sends with a webhook (its secret X-Gitlab-Token left out)
    "Content-Type": "application/json",
    "User-Agent": "GitLab/17.6.1",
    "X-Gitlab-Event": "Push Hook",
    "X-Gitlab-Instance": "https://gitlab.example.com",
    "X-Gitlab-Webhook-UUID": "0e7ac9b7-1a54-4a6a-b4b6-9f1b3d3e7c21",
    "X-Gitlab-Event-UUID": "13792a34-cac6-4fda-95a8-c58e00a3954e",
}


def rest_proxy(body: str, headers: dict = GITLAB_HEADERS) -> dict:
    """API Gateway REST API → Lambda proxy input, payload format 1.0 (AWS API Gateway
    developer guide, set-up-lambda-proxy-integrations.html#api-gateway-simple-proxy-for-
    lambda-input-format), forwarded whole as `detail` by the relay Lambda."""
    return {
        "resource": "/gitlab", "path": "/gitlab", "httpMethod": "POST",
        "headers": headers, "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None, "multiValueQueryStringParameters": None,
        "pathParameters": None, "stageVariables": None,
        "requestContext": {"resourcePath": "/gitlab", "httpMethod": "POST", "stage": "prod",
                           "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
                           "identity": {"sourceIp": "203.0.113.10"}},
        "body": body, "isBase64Encoded": False,
    }  # fmt: skip


def http_proxy(body: str) -> dict:
    """API Gateway HTTP API → Lambda, payload format 2.0 (same guide, http-api-develop-
    integrations-lambda.html): header names lowercased, a binary-typed body base64-encoded."""
    return {
        "version": "2.0", "routeKey": "POST /gitlab", "rawPath": "/gitlab", "rawQueryString": "",
        "headers": {k.lower(): v for k, v in GITLAB_HEADERS.items()},
        "requestContext": {"http": {"method": "POST", "path": "/gitlab"}, "stage": "$default"},
        "body": base64.b64encode(body.encode()).decode(), "isBase64Encoded": True,
    }  # fmt: skip


def build(tmp_path, events: list[dict], gitlab: GitLabResource | None = None) -> str:
    """Lands the events, asks GitLab (when given) and builds the facts; the warehouse path."""
    root = tmp_path / "archive"
    write_object(root, at(16), events, name="gitlab")
    warehouse = WarehouseResource(path=str(tmp_path / "w.duckdb"))
    with warehouse.connect() as conn:
        land_days(LocalArchive(str(root)), conn, [DAY], LOG)
        refresh(conn, gitlab)
    return warehouse.path


def refresh(conn, gitlab: GitLabResource | None):
    fetch_left_out_commits(conn, gitlab or GitLabResource(), LOG)
    for table in ("fct_deployments", "fct_changes", "fct_change_gaps"):
        sql.materialize_window(conn, table, DAY, DAY)


# relays -------------------------------------------------------------------------------------
def test_a_push_is_recognised_by_its_content_whatever_the_relay(tmp_path):
    def body(n: int) -> dict:
        return push_body(sha(100 + n), [commit(n, at(8, n))])

    merge_request = {"object_kind": "merge_request", "project": {"id": 77}, "commits": []}
    events = [
        *cart_deploy("uid-1", at(10)),
        event("e-direct", at(9), "Push Hook", body(1)),  # X-Gitlab-Event copied
        event("e-own", at(9), "GitLab Webhook Received", body(2)),  # the relay's own name
        event("e-rest", at(9), "Webhook Request", rest_proxy(json.dumps(body(3)))),
        event("e-http", at(9), "webhook", http_proxy(json.dumps(body(4)))),
        event("e-mr", at(9), "Webhook Request",
              rest_proxy(json.dumps(merge_request), GITLAB_HEADERS | {
                  "X-Gitlab-Event": "Merge Request Hook"})),  # not a push: not a change
        event("e-other", at(9), "Push Hook", body(5), source="com.example.other"),
        event("e-bad", at(9), "Webhook Request", rest_proxy('{"object_kind": "push", ')),
    ]  # fmt: skip
    with duckdb.connect(build(tmp_path, events), read_only=True) as conn:
        changes = conn.execute(
            "select source_event_id, commit_sha, lead_time_seconds from marts.fct_changes "
            "order by 1"
        ).fetchall()
        dead = conn.execute("select reason from ops.dead_letter_events").fetchall()
    assert changes == [
        ("e-direct", sha(1), 3600 + 59 * 60),
        ("e-http", sha(4), 3600 + 56 * 60),
        ("e-own", sha(2), 3600 + 58 * 60),
        ("e-rest", sha(3), 3600 + 57 * 60),
    ]
    assert dead == [("unreadable detail.body (a wrapped GitLab push hook)",)]


# pushes of more than 20 commits ------------------------------------------------------------
COMMITS = [commit(n, at(2) + timedelta(minutes=10 * n)) for n in range(1, 26)]  # 25, oldest first
BEFORE = sha(999)
BIG_PUSH = event("e-big", at(9), "Push Hook", push_body(BEFORE, COMMITS))


def compare_answer(commits: list[dict]) -> list[dict]:
    """`commits` of GitLab's compare answer (docs.gitlab.com, api/repositories.md, "Compare
    branches, tags, or commits"): oldest first, committed_date as the hook's timestamp."""
    return [
        {"id": c["id"], "short_id": c["id"][:8], "title": c["title"], "message": c["message"],
         "author_name": "Jordi Mallach", "author_email": "jordi@example.com",
         "authored_date": c["timestamp"], "committer_name": "Jordi Mallach",
         "committer_email": "jordi@example.com", "committed_date": c["timestamp"],
         "created_at": c["timestamp"], "parent_ids": []}
        for c in commits
    ]  # fmt: skip


@pytest.fixture
def gitlab():
    double = GitLabDouble(token=TOKEN, compares={f"77 {BEFORE} {sha(25)}": compare_answer(COMMITS)})
    url = double.start()
    yield double, GitLabResource(url=url, token=TOKEN, backoff_seconds=0.01)
    double.stop()


def test_left_out_commits_are_fetched_once_with_retries_and_a_rerun_asks_nothing(tmp_path, gitlab):
    double, resource = gitlab
    double.fail_next(429, headers={"Retry-After": "0"})
    double.fail_next(503)
    path = build(tmp_path, [*cart_deploy("uid-1", at(10)), BIG_PUSH, BIG_PUSH], resource)
    assert len(double.compare_requests()) == 3  # 429, 503, then the answer
    assert {h.get("PRIVATE-TOKEN") for _, h, _ in double.requests} == {TOKEN}
    first = double.compare_requests()[0]
    assert first.startswith(f"/api/v4/projects/77/repository/compare?from={BEFORE}&to={sha(25)}")
    assert "straight=true" in first
    with WarehouseResource(path=path).connect() as conn:
        refresh(conn, resource)  # a rerun: GitLab is not asked again
        changes = conn.execute(
            "select commit_sha, lead_time_seconds from marts.fct_changes order by 2 desc"
        ).fetchall()
        fetches = conn.execute(
            "select status, commits, error from ops.gitlab_commit_fetches"
        ).fetchall()
        (gaps,) = conn.execute("select count(*) from marts.fct_change_gaps").fetchone()
    assert len(double.compare_requests()) == 3
    assert changes == [(sha(n), 8 * 3600 - 600 * n) for n in range(1, 26)]  # the oldest too
    assert fetches == [("fetched", 25, None)] and gaps == 0


def test_without_gitlab_the_left_out_commits_are_counted_per_push_and_period(tmp_path):
    path = build(tmp_path, [*cart_deploy("uid-1", at(10)), BIG_PUSH])
    warehouse = WarehouseResource(path=path)
    with warehouse.connect() as conn:
        materialize_periods(conn, "week", MetricSpec(), DAY - timedelta(days=1), DAY)
        (changes,) = conn.execute("select count(*) from marts.fct_changes").fetchone()
        gaps = conn.execute(
            "select deployment_id, push_event_id, commits_missing from marts.fct_change_gaps"
        ).fetchall()
        weekly = conn.execute(
            "select grouping, lead_time_samples, lead_time_commits_missing from marts.dora_weekly "
            "where environment = 'production' order by 1"
        ).fetchall()
        (asked,) = conn.execute("select count(*) from ops.gitlab_commit_fetches").fetchone()
    assert changes == 20 and gaps == [("eks:uid-1:1", "e-big", 5)]
    assert weekly == [("ba", 20, 5), ("org", 20, 5), ("pod", 20, 5), ("team", 20, 5)]
    assert asked == 0  # set GITLAB_URL/GITLAB_TOKEN later and the next run asks
    check = lead_time_commits_complete(warehouse=warehouse)
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    assert check.metadata["lead_time_commits_missing"].value == 5
    assert "warning: 5 commits of pushes cut at 20 commits have no lead time" in keys_report(
        path, "week"
    )


def test_gitlab_refusing_is_final_a_timeout_is_asked_again_and_the_token_stays_secret(
    tmp_path, gitlab
):
    double, resource = gitlab
    wrong = GitLabResource(url=resource.url, token="glpat-wrong-token-123", backoff_seconds=0.01)
    path = build(tmp_path, [*cart_deploy("uid-1", at(10)), BIG_PUSH], wrong)  # 401
    with WarehouseResource(path=path).connect() as conn:
        refresh(conn, wrong)
        refused = conn.execute("select status, error from ops.gitlab_commit_fetches").fetchall()
        (missing,) = conn.execute(
            "select sum(commits_missing) from marts.fct_change_gaps"
        ).fetchone()
    assert refused == [("refused", "HTTP 401: 401 Unauthorized")] and missing == 5
    assert len(double.compare_requests()) == 1  # refused once: not asked again
    assert not any("glpat-wrong" in (e or "") for _, e in refused)

    slow = tmp_path / "slow"
    slow.mkdir()
    double.delay_seconds = 0.5
    hasty = GitLabResource(url=resource.url, token=TOKEN, read_timeout_seconds=0.1, max_retries=0)
    path = build(slow, [*cart_deploy("uid-1", at(10)), BIG_PUSH], hasty)
    double.delay_seconds = 0.0
    with WarehouseResource(path=path).connect() as conn:
        (status,) = conn.execute("select status from ops.gitlab_commit_fetches").fetchone()
        assert status == "failed"
        refresh(conn, resource)  # the next run asks again, and GitLab answers
        fetched = conn.execute("select status, commits from ops.gitlab_commit_fetches").fetchall()
    assert fetched == [("fetched", 25)]


def test_the_token_is_an_env_var_and_a_push_that_created_the_branch_is_not_asked(tmp_path, gitlab):
    resource = GitLabResource.from_env({"GITLAB_URL": "https://gitlab.example.com"})
    assert not resource.configured  # no token: nothing is asked
    configured = GitLabResource.from_env({"GITLAB_URL": "u", "GITLAB_TOKEN": TOKEN})
    assert isinstance(configured.token, dg.EnvVar) and TOKEN not in repr(configured)
    double, resource = gitlab
    created = event("e-new", at(9), "Push Hook", push_body("0" * 40, COMMITS))
    path = build(tmp_path, [*cart_deploy("uid-1", at(10)), created], resource)
    with duckdb.connect(path, read_only=True) as conn:
        rows = conn.execute("select status from ops.gitlab_commit_fetches").fetchall()
    assert rows == [("not_comparable",)] and double.compare_requests() == []
