"""CodeDeploy's GetDeploymentGroup: which ECS services a blue/green deployment group deploys.

CodeDeploy's state-change events name the application and deployment group, never the
service; the group's `ecsServices` (cluster and service name pairs) say which service a
SUCCESS deployed. Asked once per group, in the group's own account and region.
"""

from __future__ import annotations

from dataclasses import dataclass

import botocore.exceptions

from dora4_pipeline.resources.aws_accounts import AccountSessions, AccountUnreachable, error_code


@dataclass(frozen=True)
class GroupKey:
    account: str
    region: str
    application: str
    deployment_group: str


@dataclass(frozen=True)
class GroupAnswer:
    """computePlatform and ecsServices as CodeDeploy said them, or why it could not say."""

    compute_platform: str | None
    ecs_services: list[dict[str, str]]
    problem: str | None = None


def resolve(sessions: AccountSessions, key: GroupKey) -> GroupAnswer:
    """GetDeploymentGroup for `key`; errors become an answer with a problem, never raise."""
    try:
        api = sessions.client(key.account, "codedeploy", key.region)
        info = api.get_deployment_group(
            applicationName=key.application, deploymentGroupName=key.deployment_group
        )["deploymentGroupInfo"]
    except AccountUnreachable as unreachable:
        return GroupAnswer(None, [], str(unreachable))
    except botocore.exceptions.ClientError as error:
        return GroupAnswer(
            None,
            [],
            f"CodeDeploy GetDeploymentGroup refused ({error_code(error)}) in account "
            f"{key.account}, {key.region}",
        )
    except botocore.exceptions.BotoCoreError as error:
        return GroupAnswer(
            None, [], f"CodeDeploy GetDeploymentGroup failed: {type(error).__name__}"
        )
    return from_info(info)


def from_info(info: dict) -> GroupAnswer:
    """The fields dora4 keeps of a deploymentGroupInfo (API answer or tags file entry)."""
    services = [
        {"clusterName": s["clusterName"], "serviceName": s["serviceName"]}
        for s in info.get("ecsServices") or []
        if s.get("clusterName") and s.get("serviceName")
    ]
    return GroupAnswer(info.get("computePlatform"), services)
