"""The generator's real-world GitLab and Opsgenie variants, read back from the archive it
wrote with a reader of its own (not the pipeline): every relay shape, pushes cut at 20
commits with their full commit lists served for GitLab's API, several Opsgenie integrations."""

import base64
import json
from collections import Counter

from test_generator import archive_objects, read_text, read_values


def _events(generated):
    for _, data in archive_objects(generated / "archive"):
        for value in read_values(read_text(data)):
            if isinstance(value, dict) and "detail" in value:
                yield value


def _hook(event: dict) -> tuple[str, dict] | None:
    """(relay, hook body) of a GitLab event, unwrapped by hand."""
    detail = event["detail"]
    if event["source"] != "gitlab":
        return None
    if "object_kind" in detail:
        relay = "direct" if event["detail-type"] == "Push Hook" else "own_detail_type"
        return relay, detail
    body = detail["body"]
    if detail.get("isBase64Encoded"):
        assert detail["headers"]["x-gitlab-event"] == "Push Hook"
        return "api_gateway_http", json.loads(base64.b64decode(body))
    assert detail["headers"]["X-Gitlab-Event"] == "Push Hook"
    return "api_gateway_rest", json.loads(body)


def test_pushes_come_through_every_relay_and_big_pushes_list_the_newest_20(generated, truth):
    hooks = [h for e in _events(generated) if (h := _hook(e))]
    assert Counter(relay for relay, _ in hooks).keys() == {
        "direct", "own_detail_type", "api_gateway_rest", "api_gateway_http"
    }  # fmt: skip
    assert all(body["object_kind"] == "push" and len(body["commits"]) <= 20 for _, body in hooks)
    cut = {(str(b["project_id"]), b["before"], b["after"]): b for _, b in hooks
           if b["total_commits_count"] > len(b["commits"])}  # fmt: skip
    served = json.loads((generated / "gitlab_api.json").read_text())
    for left_out in truth["commits_left_out"]:
        key = (left_out["project_id"], left_out["before"], left_out["after"])
        body, commits = cut[key], served[" ".join(key)]
        assert body["total_commits_count"] == len(commits) == left_out["total_commits_count"]
        assert [c["id"] for c in commits[-20:]] == [c["id"] for c in body["commits"]]
        assert left_out["left_out"] == len(commits) - 20
    beyond = {c["commit_sha"] for c in truth["changes"] if c["beyond_hook"]}
    listed = {c["id"] for _, b in hooks for c in b["commits"]}
    assert beyond and not beyond & listed


def test_alerts_come_from_several_opsgenie_integrations(generated):
    sources = Counter(e["source"] for e in _events(generated) if "alert" in e["detail"])
    partner = [s for s in sources if s.startswith("aws.partner/opsgenie.com/acme-ops/")]
    assert len(partner) == 3 and "opsgenie" in sources
