"""The AWS state behind the events, in moto over HTTP: each account's resources created
through the role assumed in it (moto keeps resources per account for assumed-role
credentials), as dora4 will read them with DORA4_TAG_ROLE_ARN."""

import json

import boto3

from dora4_pipeline.resources.tagging import GROUP_ARN

ROLE_TEMPLATE = "arn:aws:iam::{account}:role/dora4-tag-reader"


def account_session(account: str, region: str) -> boto3.session.Session:
    credentials = boto3.client("sts").assume_role(
        RoleArn=ROLE_TEMPLATE.format(account=account), RoleSessionName="test-setup"
    )["Credentials"]
    return boto3.session.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=region,
    )


def create_deployment_group(
    session: boto3.session.Session, application: str, group: str, info: dict
) -> None:
    """A CodeDeploy application and deployment group as GetDeploymentGroup will answer."""
    codedeploy = session.client("codedeploy")
    if application not in codedeploy.list_applications()["applications"]:
        codedeploy.create_application(
            applicationName=application, computePlatform=info["computePlatform"]
        )
    account = session.client("sts").get_caller_identity()["Account"]
    codedeploy.create_deployment_group(
        applicationName=application,
        deploymentGroupName=group,
        serviceRoleArn=f"arn:aws:iam::{account}:role/codedeploy-ecs",
        ecsServices=info.get("ecsServices", []),
    )


def create_generated_deployment_groups(tags_json_text: str) -> None:
    """Every deployment group of a generated tags.json, in its own account and region."""
    for arn, info in json.loads(tags_json_text).items():
        match = GROUP_ARN.match(arn)
        if match:
            region, account, application, group = match.groups()
            create_deployment_group(account_session(account, region), application, group, info)
