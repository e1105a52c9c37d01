"""Pure builders of the AWS events the archive holds, in the shapes AWS documents (each
real-shaped example, with the public page it comes from, is in tests/aws_event_samples.py).

Each returns a fresh dict, so fixtures can build an event and then break it on purpose.
Kubernetes events (from kubernetes-event-exporter) live in `k8s.py` and are re-exported
here so that one import serves every kind.
"""

from __future__ import annotations

import uuid

from dora4_generator.envelope import Time, envelope, iso_millis, iso_seconds
from dora4_generator.k8s import eks_scaling_replica_set, k8s_event, scaling_message

__all__ = [
    "FUNCTION_NAME_FORMS",
    "cloudtrail_other_call",
    "derived_id",
    "ec2_instance_state_change",
    "ecs_deployment_state_change",
    "ecs_service_arn",
    "ecs_task_state_change",
    "eks_scaling_replica_set",
    "function_reference",
    "k8s_event",
    "lambda_arn",
    "lambda_update_function_code",
    "scaling_message",
]

# How CloudTrail's requestParameters.functionName may name a function.
FUNCTION_NAME_FORMS = ("name", "arn", "partial_arn")
CLOUDTRAIL = "AWS API Call via CloudTrail"
_NAMESPACE = uuid.UUID("6f1d2a4e-4a7b-4f65-9d0e-2d0a4e5b7c11")


def derived_id(*parts: object) -> str:
    """A stable UUID from parts, for ids a caller did not pin (no hidden randomness)."""
    return str(uuid.uuid5(_NAMESPACE, ":".join(str(part) for part in parts)))


def lambda_arn(*, name: str, account: str, region: str, qualifier: object = None) -> str:
    arn = f"arn:aws:lambda:{region}:{account}:function:{name}"
    return arn if qualifier is None else f"{arn}:{qualifier}"


def function_reference(form: str, *, name: str, account: str, region: str) -> str:
    """`requestParameters.functionName` as callers write it: name, ARN or partial ARN."""
    if form == "name":
        return name
    if form == "arn":
        return lambda_arn(name=name, account=account, region=region)
    if form == "partial_arn":
        return f"{account}:function:{name}"
    raise ValueError(f"unknown function name form {form!r}; use one of {FUNCTION_NAME_FORMS}")


def ecs_service_arn(*, service: str, account: str, region: str, cluster: str | None) -> str:
    """Long form `service/<cluster>/<service>`; `cluster=None` gives the pre-2021 short form."""
    path = f"service/{service}" if cluster is None else f"service/{cluster}/{service}"
    return f"arn:aws:ecs:{region}:{account}:{path}"


def _cloudtrail_detail(
    *,
    event_id: str,
    event_time: Time,
    event_name: str,
    account: str,
    region: str,
    request_id: str,
    read_only: bool,
    request: dict | None,
    response: dict | None,
) -> dict:
    return {
        "eventVersion": "1.08",
        "userIdentity": {
            "type": "AssumedRole",
            "principalId": "AROAEXAMPLE:gitlab-ci",
            "arn": f"arn:aws:sts::{account}:assumed-role/gitlab-deployer/gitlab-ci",
            "accountId": account,
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "principalId": "AROAEXAMPLE",
                    "arn": f"arn:aws:iam::{account}:role/gitlab-deployer",
                    "accountId": account,
                    "userName": "gitlab-deployer",
                },
                "attributes": {
                    "creationDate": iso_seconds(event_time),
                    "mfaAuthenticated": "false",
                },
            },
        },
        "eventTime": iso_seconds(event_time),
        "eventSource": "lambda.amazonaws.com",
        "eventName": event_name,
        "awsRegion": region,
        "sourceIPAddress": "203.0.113.10",
        "userAgent": "aws-cli/2.13.0 Python/3.11.4 Linux/5.10 exe/x86_64.amzn.2",
        "requestParameters": request,
        "responseElements": response,
        "requestID": request_id,
        "eventID": event_id,
        "readOnly": read_only,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": account,
        "eventCategory": "Management",
        "tlsDetails": {
            "tlsVersion": "TLSv1.3",
            "cipherSuite": "TLS_AES_128_GCM_SHA256",
            "clientProvidedHostHeader": f"lambda.{region}.amazonaws.com",
        },
    }


def _function_configuration(
    *, name: str, account: str, region: str, arn: str, version: str
) -> dict:
    return {
        "functionName": name,
        "functionArn": arn,
        "runtime": "python3.12",
        "role": f"arn:aws:iam::{account}:role/{name}-execution",
        "handler": "app.handler",
        "codeSize": 2481736,
        "description": "",
        "timeout": 30,
        "memorySize": 512,
        "lastModified": "",
        "codeSha256": "3y1Zq0EXAMPLE=",
        "version": version,
        "tracingConfig": {"mode": "PassThrough"},
        "revisionId": derived_id("revision", arn, version),
        "state": "Active",
        "lastUpdateStatus": "InProgress",
        "packageType": "Zip",
        "architectures": ["x86_64"],
        "ephemeralStorage": {"size": 512},
    }


def lambda_update_function_code(
    *,
    event_id: str,
    event_time: Time,
    function_name_form: str,
    function_name: str,
    account: str,
    region: str,
    publish: bool,
    version: int | str | None = None,
    error_code: str | None = None,
    error_message: str = "The operation cannot be performed at this time.",
    code_sha256: str = "3y1Zq0EXAMPLE=",
    envelope_id: str | None = None,
    envelope_time: Time | None = None,
    request_id: str | None = None,
    dry_run: bool | None = None,
) -> dict:
    """A Lambda deploy (CloudTrail `UpdateFunctionCode20150331v2`); `error_code`: it failed;
    `dry_run`: the request's DryRun parameter (True: validated only, nothing deployed)."""
    response = None
    if error_code is None:
        published = publish and not dry_run
        qualifier = (version if version is not None else 1) if published else None
        arn = lambda_arn(name=function_name, account=account, region=region, qualifier=qualifier)
        response = _function_configuration(
            name=function_name,
            account=account,
            region=region,
            arn=arn,
            version=str(qualifier) if published else "$LATEST",
        )
        response["lastModified"] = iso_millis(event_time).replace("Z", "+0000")
        response["codeSha256"] = code_sha256
    reference = function_reference(
        function_name_form, name=function_name, account=account, region=region
    )
    detail = _cloudtrail_detail(
        event_id=event_id,
        event_time=event_time,
        event_name="UpdateFunctionCode20150331v2",
        account=account,
        region=region,
        request_id=request_id or derived_id("request", event_id),
        read_only=False,
        request={"functionName": reference, "publish": publish}
        | ({} if dry_run is None else {"dryRun": dry_run}),
        response=response,
    )
    if error_code is not None:
        detail["errorCode"] = error_code
        detail["errorMessage"] = error_message
    return envelope(
        event_id=envelope_id or derived_id("envelope", event_id),
        detail_type=CLOUDTRAIL,
        source="aws.lambda",
        account=account,
        time=envelope_time or event_time,
        region=region,
        resources=[],
        detail=detail,
    )


def cloudtrail_other_call(
    *,
    event_id: str,
    event_time: Time,
    event_name: str,
    function_name: str,
    account: str,
    region: str,
    envelope_id: str | None = None,
    request_id: str | None = None,
) -> dict:
    """Other `aws.lambda` calls (GetFunction, ListFunctions, UpdateFunctionConfiguration): noise."""
    read_only = not event_name.startswith("Update")
    request: dict | None = {"functionName": function_name}
    response = None
    if event_name.startswith("List"):
        request = None
    elif not read_only:
        request = {"functionName": function_name, "timeout": 30, "memorySize": 512}
        arn = lambda_arn(name=function_name, account=account, region=region)
        response = _function_configuration(
            name=function_name, account=account, region=region, arn=arn, version="$LATEST"
        )
        response["lastModified"] = iso_millis(event_time).replace("Z", "+0000")
    detail = _cloudtrail_detail(
        event_id=event_id,
        event_time=event_time,
        event_name=event_name,
        account=account,
        region=region,
        request_id=request_id or derived_id("request", event_id),
        read_only=read_only,
        request=request,
        response=response,
    )
    return envelope(
        event_id=envelope_id or derived_id("envelope", event_id),
        detail_type=CLOUDTRAIL,
        source="aws.lambda",
        account=account,
        time=event_time,
        region=region,
        resources=[],
        detail=detail,
    )


_ECS_REASONS = {
    "SERVICE_DEPLOYMENT_COMPLETED": "ECS deployment {id} completed.",
    "SERVICE_DEPLOYMENT_IN_PROGRESS": "ECS deployment {id} in progress.",
    "SERVICE_DEPLOYMENT_FAILED": "ECS deployment circuit breaker: tasks failed to start.",
}


def ecs_deployment_state_change(
    *,
    envelope_id: str,
    envelope_time: Time,
    service_arn: str,
    event_name: str,
    deployment_id: str | None,
    updated_at: Time,
    account: str,
    region: str,
    reason: str | None = None,
    event_type: str | None = None,
) -> dict:
    """ECS `Deployment State Change`; `deployment_id=None` leaves the key out (a broken event)."""
    detail: dict = {
        "eventType": event_type or ("ERROR" if event_name.endswith("FAILED") else "INFO"),
        "eventName": event_name,
    }
    if deployment_id is not None:
        detail["deploymentId"] = deployment_id
    detail["updatedAt"] = iso_millis(updated_at)
    detail["reason"] = reason or _ECS_REASONS.get(event_name, "{id}").format(
        id=deployment_id or "deployment"
    )
    return envelope(
        event_id=envelope_id,
        detail_type="ECS Deployment State Change",
        source="aws.ecs",
        account=account,
        time=envelope_time,
        region=region,
        resources=[service_arn],
        detail=detail,
    )


def ecs_task_state_change(
    *,
    envelope_id: str,
    time: Time,
    account: str,
    region: str,
    cluster: str,
    service: str,
    task_id: str,
    last_status: str,
    updated_at: Time,
    created_at: Time,
    private_ip: str = "10.0.1.23",
    attachment_id: str = "00000000-0000-0000-0000-000000000000",
    started_by: str = "ecs-svc/1234567890123456789",
    task_definition_revision: int = 1,
) -> dict:
    """ECS `Task State Change`: the bulk of a real archive, about 1.6 KB each."""
    prefix = f"arn:aws:ecs:{region}:{account}"
    task_arn = f"{prefix}:task/{cluster}/{task_id}"
    desired = "STOPPED" if last_status in ("STOPPED", "DEPROVISIONING") else "RUNNING"
    return envelope(
        event_id=envelope_id,
        detail_type="ECS Task State Change",
        source="aws.ecs",
        account=account,
        time=time,
        region=region,
        resources=[task_arn],
        detail={
            "attachments": [
                {
                    "id": attachment_id,
                    "type": "eni",
                    "status": "ATTACHED",
                    "details": [
                        {"name": "subnetId", "value": "subnet-0a1b2c3d4e5f60718"},
                        {"name": "networkInterfaceId", "value": "eni-0f1e2d3c4b5a69788"},
                        {"name": "privateIPv4Address", "value": private_ip},
                    ],
                }
            ],
            "availabilityZone": f"{region}a",
            "clusterArn": f"{prefix}:cluster/{cluster}",
            "containers": [
                {
                    "containerArn": f"{prefix}:container/{cluster}/{task_id}/{attachment_id}",
                    "lastStatus": last_status,
                    "name": "app",
                    "image": f"{account}.dkr.ecr.{region}.amazonaws.com/{service}:release",
                    "taskArn": task_arn,
                    "networkInterfaces": [
                        {"attachmentId": attachment_id, "privateIpv4Address": private_ip}
                    ],
                    "cpu": "0",
                    "memory": "512",
                }
            ],
            "cpu": "256",
            "createdAt": iso_millis(created_at),
            "desiredStatus": desired,
            "enableExecuteCommand": False,
            "ephemeralStorage": {"sizeInGiB": 20},
            "group": f"service:{service}",
            "launchType": "FARGATE",
            "lastStatus": last_status,
            "memory": "512",
            "overrides": {"containerOverrides": [{"name": "app"}]},
            "platformVersion": "1.4.0",
            "startedBy": started_by,
            "taskArn": task_arn,
            "taskDefinitionArn": f"{prefix}:task-definition/{service}:{task_definition_revision}",
            "updatedAt": iso_millis(updated_at),
            "version": 3,
        },
    )


def ec2_instance_state_change(
    *, envelope_id: str, time: Time, account: str, region: str, instance_id: str, state: str
) -> dict:
    """EC2 `Instance State-change Notification`: small noise."""
    return envelope(
        event_id=envelope_id,
        detail_type="EC2 Instance State-change Notification",
        source="aws.ec2",
        account=account,
        time=time,
        region=region,
        resources=[f"arn:aws:ec2:{region}:{account}:instance/{instance_id}"],
        detail={"instance-id": instance_id, "state": state},
    )
