"""Pure builders of the GitLab and Opsgenie webhook events the archive holds: each body as
the tool sends it, wrapped in an EventBridge envelope (detail-type = GitLab's
X-Gitlab-Event header; source `gitlab` / `opsgenie`, the defaults in docs/contract.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from dora4_generator.envelope import Time, envelope


def iso_with_offset(value: datetime, offset_minutes: int) -> str:
    """`2026-03-16T11:02:03+01:00`: a GitLab commit timestamp in the committer's zone."""
    local = value.astimezone(timezone(timedelta(minutes=offset_minutes)))
    return local.isoformat(timespec="seconds")


def epoch_ms(value: datetime) -> int:
    return int(value.astimezone(UTC).timestamp() * 1000)


def gitlab_push(
    *,
    envelope_id: str,
    time: Time,
    project_id: int,
    path_with_namespace: str,
    commits: list[dict],
    account: str,
    region: str,
    ref: str = "refs/heads/main",
    default_branch: str = "main",
    before: str = "0" * 40,
) -> dict:
    """A GitLab `Push Hook`; `commits` are {id, message, timestamp, author_name}."""
    web_url = f"https://gitlab.example.com/{path_with_namespace}"
    body_commits = [
        {
            "id": c["id"],
            "message": c.get("message", "Change"),
            "title": c.get("message", "Change"),
            "timestamp": c["timestamp"],
            "url": f"{web_url}/-/commit/{c['id']}",
            "author": {
                "name": c.get("author_name", "Dev Eloper"),
                "email": f"{c.get('author_name', 'dev').split()[0].lower()}@example.com",
            },
            "added": [],
            "modified": ["app.py"],
            "removed": [],
        }
        for c in commits
    ]
    detail = {
        "object_kind": "push",
        "event_name": "push",
        "before": before,
        "after": commits[-1]["id"] if commits else "0" * 40,
        "ref": ref,
        "ref_protected": ref == f"refs/heads/{default_branch}",
        "checkout_sha": commits[-1]["id"] if commits else None,
        "user_id": 4,
        "user_name": "Dev Eloper",
        "user_username": "developer",
        "project_id": project_id,
        "project": {
            "id": project_id,
            "name": path_with_namespace.rsplit("/", 1)[-1],
            "web_url": web_url,
            "namespace": path_with_namespace.split("/", 1)[0],
            "path_with_namespace": path_with_namespace,
            "default_branch": default_branch,
        },
        "commits": body_commits,
        "total_commits_count": len(body_commits),
        "repository": {"name": path_with_namespace.rsplit("/", 1)[-1], "homepage": web_url},
    }
    return envelope(
        event_id=envelope_id,
        detail_type="Push Hook",
        source="gitlab",
        account=account,
        time=time,
        region=region,
        resources=[],
        detail=detail,
    )


def opsgenie_alert(
    *,
    envelope_id: str,
    time: Time,
    action: str,
    alert_id: str,
    created_at: datetime,
    updated_at: datetime,
    priority: str,
    account: str,
    region: str,
    component: str | None = None,
    component_by: str = "details",
    message: str = "Error rate above threshold",
    extra_details: dict | None = None,
    extra_tags: list[str] | None = None,
) -> dict:
    """An Opsgenie alert webhook (`action` Create, Close, Acknowledge, ...).

    createdAt is epoch milliseconds and updatedAt epoch nanoseconds, as in Opsgenie's own
    webhook examples. The component is named in details["Component.Name"] (`component_by`
    "details") or by a `component:<name>` tag ("tag").
    """
    tags = ["dora4", "severity:high"]
    details = {"runbook": "https://runbooks.example.com/errors"}
    if component and component_by == "details":
        details["Component.Name"] = component
    elif component:
        tags.append(f"component:{component}")
    details.update(extra_details or {})  # e.g. {"deployment_id": ...}: what failed, named
    tags += extra_tags or []  # e.g. ["commit:<sha>"]
    detail = {
        "action": action,
        "alert": {
            "alertId": alert_id,
            "message": message,
            "tags": tags,
            "tinyId": str(sum(alert_id.encode()) % 1000),
            "entity": component or "",
            "alias": f"{component}-errors",
            "createdAt": epoch_ms(created_at),
            "updatedAt": epoch_ms(updated_at) * 1_000_000,
            "username": "System",
            "userId": "",
            "description": "",
            "details": details,
            "priority": priority,
            "source": "datadog",
        },
        "source": {"name": "", "type": "API"},
        "integrationName": "Opsgenie to EventBridge",
        "integrationId": "8418d193-2dab-4490-b331-8c02cdd196b7",
        "integrationType": "Webhook",
    }
    return envelope(
        event_id=envelope_id,
        detail_type="Opsgenie Alert",
        source="opsgenie",
        account=account,
        time=time,
        region=region,
        resources=[],
        detail=detail,
    )
