"""The GitLab relay (deploy/aws/gitlab_relay/relay.py) against moto's server over HTTP: the
token comes from Secrets Manager, events go to EventBridge, and what EventBridge delivers is
read back from SQS queues behind two rules: the archive stack's GitLab rule and a rule that
takes every event of the account (so "nothing was put" is observed, not assumed). The
relayed event is then landed by the pipeline and read by its staging SQL."""

import base64
import importlib.util
import json
import logging
from datetime import UTC, datetime

import boto3
import pytest
from archive_helpers import write_object
from aws_event_samples import GITLAB_PUSH_BODY
from cfn_templates import ARCHIVE, ROOT, Stack

from dora4_pipeline.landing.ingest import land_days
from dora4_pipeline.resources.archive import LocalArchive
from dora4_pipeline.resources.warehouse import WarehouseResource

MOTO_ACCOUNT = "123456789012"
TOKEN = "s3cr3t-token-from-secrets-manager"
spec = importlib.util.spec_from_file_location("relay", ROOT / "deploy/aws/gitlab_relay/relay.py")
relay = importlib.util.module_from_spec(spec)
spec.loader.exec_module(relay)


def request(body, *, token: str | None = TOKEN, event: str = "Push Hook", method="POST", b64=False):
    """A function URL invocation (payload format 2.0, AWS Lambda developer guide,
    "Invoking Lambda function URLs"): lowercase headers, the body as text or base64."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"content-type": "application/json", "x-gitlab-event": event}
    if token is not None:
        headers["x-gitlab-token"] = token
    try:
        raw.decode()
    except UnicodeDecodeError:
        b64 = True  # what function URLs do with a body that is not text
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/",
        "headers": headers,
        "requestContext": {"http": {"method": method, "path": "/"}},
        "body": base64.b64encode(raw).decode() if b64 else raw.decode(),
        "isBase64Encoded": b64,
    }


@pytest.fixture
def bus(aws, monkeypatch):
    """The secret, two rules with SQS targets, and the relay's environment."""
    secret = boto3.client("secretsmanager").create_secret(Name="dora4/gitlab", SecretString=TOKEN)
    sqs, events = boto3.client("sqs"), boto3.client("events")
    queues = {}
    patterns = {
        "gitlab": Stack(ARCHIVE).rule_patterns()["GitLabRule"],
        "everything": {"account": [MOTO_ACCOUNT]},
    }
    for name, pattern in patterns.items():
        url = sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
        events.put_rule(Name=name, EventPattern=json.dumps(pattern))
        events.put_targets(Rule=name, Targets=[{"Id": "q", "Arn": arn["QueueArn"]}])
        queues[name] = url
    monkeypatch.setenv("TOKEN_SECRET_ARN", secret["ARN"])
    monkeypatch.setenv("SOURCE", "gitlab")
    relay._secret_cache.clear()
    relay._client.cache_clear()  # clients made against this test's moto state

    def delivered(name: str) -> list[dict]:
        messages = sqs.receive_message(QueueUrl=queues[name], MaxNumberOfMessages=10)
        return [json.loads(m["Body"]) for m in messages.get("Messages", [])]

    return delivered


def answer(response) -> tuple[int, str]:
    return response["statusCode"], json.loads(response["body"])["message"]


@pytest.mark.parametrize("b64", [False, True])
def test_a_push_with_the_right_token_becomes_exactly_one_event(bus, b64):
    status, event_id = answer(relay.handler(request(GITLAB_PUSH_BODY, b64=b64)))
    assert status == 200
    (event,) = bus("gitlab")
    assert [e["id"] for e in bus("everything")] == [event["id"]]
    assert event["id"] == event_id
    assert (event["source"], event["detail-type"]) == ("gitlab", "Push Hook")
    assert event["detail"] == GITLAB_PUSH_BODY  # the hook body, unchanged


def test_the_relayed_push_is_what_the_pipeline_reads(bus, tmp_path):
    """Landed from a Firehose-shaped object, the relayed event is a usable push of the
    project's default branch with its two commits."""
    assert answer(relay.handler(request(GITLAB_PUSH_BODY)))[0] == 200
    (event,) = bus("gitlab")
    pushed = datetime.fromisoformat(event["time"].replace("Z", "+00:00"))
    write_object(tmp_path / "archive", pushed.astimezone(UTC), [event], name="relayed")
    warehouse = WarehouseResource(path=str(tmp_path / "w.duckdb"))
    with warehouse.connect() as conn:
        land_days(
            LocalArchive(str(tmp_path / "archive")), conn, [pushed.date()], logging.getLogger()
        )
        rows = conn.execute(
            "select project_id, ref, is_default_branch, commit_count, problem "
            "from staging.stg_gitlab_pushes"
        ).fetchall()
        commits = conn.execute(
            "select commit_sha from staging.stg_gitlab_commits order by 1"
        ).fetchall()
    assert rows == [("15", "refs/heads/master", True, 2, None)]
    assert commits == [
        (c["id"],) for c in sorted(GITLAB_PUSH_BODY["commits"], key=lambda c: c["id"])
    ]


@pytest.mark.parametrize(
    "token",
    [None, "", "wrong", TOKEN[:-1], TOKEN + "x", TOKEN.upper()],
    ids=["missing", "empty", "wrong", "shorter", "longer", "case"],
)
def test_a_missing_or_wrong_token_is_refused_and_nothing_is_put(bus, token):
    assert answer(relay.handler(request(GITLAB_PUSH_BODY, token=token)))[0] == 401
    assert bus("everything") == []


def test_the_token_is_compared_in_constant_time(bus, monkeypatch):
    compared = []

    def spy(a, b):
        compared.append((type(a), type(b)))
        return relay_compare(a, b)

    relay_compare = relay.hmac.compare_digest
    monkeypatch.setattr(relay.hmac, "compare_digest", spy)
    relay.handler(request(GITLAB_PUSH_BODY, token="wrong"))
    relay.handler(request(GITLAB_PUSH_BODY))
    assert compared == [(bytes, bytes)] * 2


@pytest.mark.parametrize(
    ("body", "event"),
    [
        (dict(GITLAB_PUSH_BODY, object_kind="merge_request"), "Merge Request Hook"),
        (dict(GITLAB_PUSH_BODY, object_kind="tag_push"), "Tag Push Hook"),
        (dict(GITLAB_PUSH_BODY, object_kind="tag_push"), "Push Hook"),  # header lies
        (b"not json", "Push Hook"),
        (b"[1, 2]", "Push Hook"),
        (json.dumps(GITLAB_PUSH_BODY).encode("utf-16"), "Push Hook"),
    ],
    ids=["merge-request", "tag-push", "tag-push-as-push", "not-json", "not-an-object", "utf-16"],
)
def test_anything_but_a_push_is_refused_and_nothing_is_put(bus, body, event):
    assert answer(relay.handler(request(body, event=event)))[0] == 400
    assert bus("everything") == []


def test_an_oversize_push_is_refused_and_nothing_is_put(bus):
    commit = GITLAB_PUSH_BODY["commits"][0]
    big = dict(GITLAB_PUSH_BODY, commits=[dict(commit, message="x" * 20_000)] * 14)
    assert len(json.dumps(big)) > relay.DEFAULT_MAX_ENTRY_BYTES
    status, message = answer(relay.handler(request(big)))
    assert status == 413 and "262144" in message
    assert bus("everything") == []


def test_the_size_limit_is_the_entry_eventbridge_counts(bus, monkeypatch):
    """Source + detail-type + detail bytes, as PutEvents counts an entry: one byte over the
    configured limit is refused, the exact size goes."""
    body = json.dumps(GITLAB_PUSH_BODY).encode()
    size = len(b"gitlab") + len(b"Push Hook") + len(body)
    monkeypatch.setenv("MAX_ENTRY_BYTES", str(size - 1))
    assert answer(relay.handler(request(body)))[0] == 413
    monkeypatch.setenv("MAX_ENTRY_BYTES", str(size))
    assert answer(relay.handler(request(body)))[0] == 200
    assert len(bus("everything")) == 1


def test_only_post_is_accepted(bus):
    assert answer(relay.handler(request(GITLAB_PUSH_BODY, method="GET")))[0] == 405
    assert bus("everything") == []


def test_the_token_never_reaches_the_log_or_the_answer(bus, caplog):
    """At the level the relay logs at (INFO; botocore's DEBUG would print response bodies,
    the secret's included, so never run the relay at DEBUG)."""
    caplog.set_level(logging.INFO)
    answers = [
        relay.handler(request(GITLAB_PUSH_BODY)),
        relay.handler(request(GITLAB_PUSH_BODY, token=TOKEN + "x")),
        relay.handler(request(b"not json")),
    ]
    assert TOKEN not in caplog.text
    assert all(TOKEN not in json.dumps(a) for a in answers)
