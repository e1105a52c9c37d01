"""Writing hand-built events into Firehose's layout, for tests that need exact cases."""

import gzip
import json
from datetime import datetime
from pathlib import Path

from dora4_generator.events import lambda_update_function_code


def write_object(
    root: Path, delivered: datetime, events: list[dict], *, name: str, compress: bool = False
) -> Path:
    """One Firehose object: records concatenated without delimiter, as Firehose does."""
    folder = root / f"{delivered:%Y/%m/%d/%H}"
    folder.mkdir(parents=True, exist_ok=True)
    key = f"dora4-events-1-{delivered:%Y-%m-%d-%H-%M-%S}-{name}"
    body = "".join(json.dumps(event) for event in events).encode()
    if compress:
        path = folder / f"{key}.gz"
        path.write_bytes(gzip.compress(body))
    else:
        path = folder / key
        path.write_bytes(body)
    return path


def lambda_deploy(event_id: str, when: datetime) -> dict:
    """A published deploy of `invoice-renderer`, a function the generated tags know
    (payments / billing / invoicing, Git project 101)."""
    return lambda_update_function_code(
        event_id=event_id,
        event_time=when,
        function_name_form="name",
        function_name="invoice-renderer",
        account="444455556666",
        region="eu-west-1",
        publish=True,
    )


def codedeploy_event(
    event_id: str, account: str, state: str, deployment_id: str, region: str = "eu-west-1"
) -> dict:
    """Shape copied from AWS's documented example ("CodeDeploy Deployment State-change
    Notification", https://docs.aws.amazon.com/codedeploy/latest/userguide/monitoring-cloudwatch-events.html,
    also https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-codedeploy.html);
    only ids, names and times changed."""
    return {
        "account": account,
        "region": region,
        "detail-type": "CodeDeploy Deployment State-change Notification",
        "source": "aws.codedeploy",
        "version": "0",
        "time": "2026-03-10T12:30:05Z",
        "id": event_id,
        "resources": [
            f"arn:aws:codedeploy:{region}:{account}:application:AppECS-edge-storefront",
            f"arn:aws:codedeploy:{region}:{account}:deploymentgroup:"
            "AppECS-edge-storefront/DgpECS-edge-storefront",
        ],
        "detail": {
            "instanceGroupId": "9fd2fbef-2157-40d8-91e7-6845af69e2d2",
            "region": region,
            "application": "AppECS-edge-storefront",
            "deploymentId": deployment_id,
            "state": state,
            "deploymentGroup": "DgpECS-edge-storefront",
        },
    }
