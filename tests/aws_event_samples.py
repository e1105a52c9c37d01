"""Real-shaped EventBridge events for the rule tests: what each source sends, with where
its shape comes from. Values are invented; shapes are not. (The first seven are the
project's reference samples; the rest are copied from the public examples named.)"""

import json

# CloudTrail's record of a published Lambda deploy, as EventBridge delivers it
# ("AWS API Call via CloudTrail"; AWS Lambda developer guide, "Logging AWS Lambda API calls
# using AWS CloudTrail"; the version-qualified functionArn appears when publish is true).
LAMBDA_UPDATE_FUNCTION_CODE = {
    "version": "0",
    "id": "00000000-0000-d0a4-0000-000000000003",
    "detail-type": "AWS API Call via CloudTrail",
    "source": "aws.lambda",
    "account": "444455556666",
    "time": "2026-03-17T14:02:11Z",
    "region": "eu-west-1",
    "resources": [],
    "detail": {
        "eventVersion": "1.08",
        "userIdentity": {
            "type": "AssumedRole",
            "principalId": "AROAEXAMPLE:gitlab-ci",
            "arn": "arn:aws:sts::444455556666:assumed-role/gitlab-deployer/gitlab-ci",
            "accountId": "444455556666",
        },
        "eventTime": "2026-03-17T14:02:11Z",
        "eventSource": "lambda.amazonaws.com",
        "eventName": "UpdateFunctionCode20150331v2",
        "awsRegion": "eu-west-1",
        "sourceIPAddress": "203.0.113.10",
        "userAgent": "aws-cli/2.13.0",
        "requestParameters": {"functionName": "invoice-renderer", "publish": True},
        "responseElements": {
            "functionName": "invoice-renderer",
            "functionArn": "arn:aws:lambda:eu-west-1:444455556666:function:invoice-renderer:12",
            "runtime": "python3.12",
            "codeSha256": "3y1Zq0EXAMPLE=",
            "version": "12",
            "lastModified": "2026-03-17T14:02:11.000+0000",
            "state": "Active",
            "lastUpdateStatus": "InProgress",
        },
        "requestID": "00000000-0000-d0a4-0000-000000000001",
        "eventID": "00000000-0000-d0a4-0000-000000000002",
        "readOnly": False,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": "444455556666",
        "eventCategory": "Management",
    },
}

# The same call failing: errorCode set, responseElements null (a look-alike the pipeline
# reads and does not count).
LAMBDA_UPDATE_FUNCTION_CODE_FAILED = {
    "version": "0",
    "id": "00000000-0000-d0a4-0000-000000000006",
    "detail-type": "AWS API Call via CloudTrail",
    "source": "aws.lambda",
    "account": "444455556666",
    "time": "2026-03-17T14:02:11Z",
    "region": "eu-west-1",
    "resources": [],
    "detail": {
        "eventVersion": "1.08",
        "userIdentity": {
            "type": "AssumedRole",
            "principalId": "AROAEXAMPLE:gitlab-ci",
            "arn": "arn:aws:sts::444455556666:assumed-role/gitlab-deployer/gitlab-ci",
            "accountId": "444455556666",
        },
        "eventTime": "2026-03-17T14:02:11Z",
        "eventSource": "lambda.amazonaws.com",
        "eventName": "UpdateFunctionCode20150331v2",
        "awsRegion": "eu-west-1",
        "sourceIPAddress": "203.0.113.10",
        "userAgent": "aws-cli/2.13.0",
        "requestParameters": {"functionName": "invoice-renderer", "publish": False},
        "responseElements": None,
        "requestID": "00000000-0000-d0a4-0000-000000000004",
        "eventID": "00000000-0000-d0a4-0000-000000000005",
        "readOnly": False,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": "444455556666",
        "eventCategory": "Management",
        "errorCode": "ResourceConflictException",
        "errorMessage": "The operation cannot be performed at this time.",
    },
}

# Amazon ECS developer guide, "Amazon ECS service deployment state change events".
ECS_DEPLOYMENT_COMPLETED = {
    "version": "0",
    "id": "00000000-0000-d0a4-0000-000000000008",
    "detail-type": "ECS Deployment State Change",
    "source": "aws.ecs",
    "account": "444455556666",
    "time": "2026-03-17T14:02:13Z",
    "region": "eu-west-1",
    "resources": ["arn:aws:ecs:eu-west-1:444455556666:service/payments/ledger-api"],
    "detail": {
        "eventType": "INFO",
        "eventName": "SERVICE_DEPLOYMENT_COMPLETED",
        "deploymentId": "ecs-svc/7494464974570913799",
        "updatedAt": "2026-03-17T14:02:11.000Z",
        "reason": "ECS deployment ecs-svc/7494464974570913799 completed.",
    },
}

# The circuit breaker's FAILED event (same guide).
ECS_DEPLOYMENT_FAILED = {
    "version": "0",
    "id": "00000000-0000-d0a4-0000-00000000000a",
    "detail-type": "ECS Deployment State Change",
    "source": "aws.ecs",
    "account": "444455556666",
    "time": "2026-03-17T14:02:13Z",
    "region": "eu-west-1",
    "resources": ["arn:aws:ecs:eu-west-1:444455556666:service/payments/ledger-api"],
    "detail": {
        "eventType": "ERROR",
        "eventName": "SERVICE_DEPLOYMENT_FAILED",
        "deploymentId": "ecs-svc/7494464974570913801",
        "updatedAt": "2026-03-17T14:02:11.000Z",
        "reason": "ECS deployment ecs-svc/7494464974570913801 failed.",
    },
}

# Noise: Amazon ECS developer guide, "Amazon ECS task state change events".
ECS_TASK_STATE_CHANGE = {
    "version": "0",
    "id": "00000000-0000-d0a4-0000-00000000000c",
    "detail-type": "ECS Task State Change",
    "source": "aws.ecs",
    "account": "444455556666",
    "time": "2026-03-17T14:02:11Z",
    "region": "eu-west-1",
    "resources": [
        "arn:aws:ecs:eu-west-1:444455556666:task/payments/00000000-0000-d0a4-0000-00000000000b"
    ],
    "detail": {
        "clusterArn": "arn:aws:ecs:eu-west-1:444455556666:cluster/payments",
        "lastStatus": "RUNNING",
        "desiredStatus": "RUNNING",
        "taskArn": "arn:aws:ecs:eu-west-1:444455556666:task/payments/00000000-0000-d0a4-0000-00000000000b",  # noqa: E501
        "containers": [{"name": "app", "lastStatus": "RUNNING"}],
        "startedBy": "ecs-svc/123",
        "updatedAt": "2026-03-17T14:02:11Z",
    },
}

# resmoio/kubernetes-event-exporter pkg/sinks/eventbridge.go without a `details:` template:
# the detail is the whole EnhancedEvent (pkg/kube/event.go), source/detail-type from config.
EKS_SCALED_DOWN_TO_ZERO = {
    "version": "0",
    "id": "00000000-0000-d0a4-0000-00000000000e",
    "detail-type": "Kubernetes Event",
    "source": "kubernetes-event-exporter",
    "account": "444455556666",
    "time": "2026-03-17T14:02:14Z",
    "region": "eu-west-1",
    "resources": [],
    "detail": {
        "metadata": {
            "name": "cart-api.00000000",
            "namespace": "checkout",
            "uid": "00000000-0000-d0a4-0000-00000000000d",
            "resourceVersion": "4242",
            "creationTimestamp": "2026-03-17T14:02:11Z",
        },
        "reason": "ScalingReplicaSet",
        "message": "Scaled down replica set cart-api-5f9c7d6b8d to 0 from 3",
        "source": {"component": "deployment-controller"},
        "firstTimestamp": "2026-03-17T14:02:11Z",
        "lastTimestamp": "2026-03-17T14:02:11Z",
        "count": 1,
        "type": "Normal",
        "eventTime": None,
        "reportingComponent": "deployment-controller",
        "reportingInstance": "",
        "clusterName": "eks-prod-eu-central-1",
        "involvedObject": {
            "kind": "Deployment",
            "namespace": "checkout",
            "name": "cart-api",
            "uid": "uid-checkout-cart-api",
            "apiVersion": "apps/v1",
            "resourceVersion": "1234",
            "labels": {
                "Ownership.BA": "commerce",
                "Ownership.Pod": "checkout",
                "Ownership.Team": "cart",
                "Environment": "production",
                "Component.Name": "cart-api",
                "Compliance.Namespace": "commerce",
                "Git.Projectid": "77",
            },
            "annotations": {
                "deployment.kubernetes.io/revision": "7",
                "Git.Repository": "commerce/cart-api",
            },
            "deleted": False,
        },
    },
}

# The new replica set's scale-up in the same rollout (read by the pipeline, not counted).
EKS_SCALED_UP = {
    "version": "0",
    "id": "00000000-0000-d0a4-0000-000000000010",
    "detail-type": "Kubernetes Event",
    "source": "kubernetes-event-exporter",
    "account": "444455556666",
    "time": "2026-03-17T13:59:14Z",
    "region": "eu-west-1",
    "resources": [],
    "detail": {
        "metadata": {
            "name": "cart-api.00000000",
            "namespace": "checkout",
            "uid": "00000000-0000-d0a4-0000-00000000000f",
            "resourceVersion": "4242",
            "creationTimestamp": "2026-03-17T13:59:11Z",
        },
        "reason": "ScalingReplicaSet",
        "message": "Scaled up replica set cart-api-7b4f8c9e1a to 3 from 0",
        "source": {"component": "deployment-controller"},
        "firstTimestamp": "2026-03-17T13:59:11Z",
        "lastTimestamp": "2026-03-17T13:59:11Z",
        "count": 1,
        "type": "Normal",
        "eventTime": None,
        "reportingComponent": "deployment-controller",
        "reportingInstance": "",
        "clusterName": "eks-prod-eu-central-1",
        "involvedObject": {
            "kind": "Deployment",
            "namespace": "checkout",
            "name": "cart-api",
            "uid": "uid-checkout-cart-api",
            "apiVersion": "apps/v1",
            "resourceVersion": "1234",
            "labels": {
                "Ownership.BA": "commerce",
                "Ownership.Pod": "checkout",
                "Ownership.Team": "cart",
                "Environment": "production",
                "Component.Name": "cart-api",
                "Compliance.Namespace": "commerce",
                "Git.Projectid": "77",
            },
            "annotations": {
                "deployment.kubernetes.io/revision": "7",
                "Git.Repository": "commerce/cart-api",
            },
            "deleted": False,
        },
    },
}

# AWS CodeDeploy user guide, "Monitoring deployments with Amazon EventBridge" (deployment
# state-change notification; the ECS service is not named: the pipeline reads it from the
# deployment group through CodeDeploy's API).
CODEDEPLOY_DEPLOYMENT_SUCCESS = {
    "account": "444455556666",
    "region": "eu-west-1",
    "detail-type": "CodeDeploy Deployment State-change Notification",
    "source": "aws.codedeploy",
    "version": "0",
    "time": "2026-03-17T14:06:31Z",
    "id": "c071bfbf-83c4-49ca-a6ff-3df053957145",
    "resources": [
        "arn:aws:codedeploy:eu-west-1:444455556666:application:ledger",
        "arn:aws:codedeploy:eu-west-1:444455556666:deploymentgroup:ledger/ledger-api",
    ],
    "detail": {
        "instanceGroupId": "9fd2fbef-2157-40d8-91e7-6845af69e2d2",
        "region": "eu-west-1",
        "application": "ledger",
        "deploymentId": "d-123456789",
        "state": "SUCCESS",
        "deploymentGroup": "ledger-api",
    },
}

# Noise: the instance-level notification of the same guide.
CODEDEPLOY_INSTANCE_STATE_CHANGE = {
    "account": "444455556666",
    "region": "eu-west-1",
    "detail-type": "CodeDeploy Instance State-change Notification",
    "source": "aws.codedeploy",
    "version": "0",
    "time": "2026-03-17T14:05:50Z",
    "id": "fb1d3015-c091-4bf9-95e2-d98521ab2ecb",
    "resources": [
        "arn:aws:ec2:eu-west-1:444455556666:instance/i-0000000aaaaaaaaaa",
        "arn:aws:codedeploy:eu-west-1:444455556666:deploymentgroup:ledger/ledger-api",
        "arn:aws:codedeploy:eu-west-1:444455556666:application:ledger",
    ],
    "detail": {
        "instanceId": "i-0000000aaaaaaaaaa",
        "region": "eu-west-1",
        "state": "SUCCESS",
        "application": "ledger",
        "deploymentId": "d-123456789",
        "instanceGroupId": "8cd3bfa8-9e72-4cbe-a1e5-da4efc7efd49",
        "deploymentGroup": "ledger-api",
    },
}

# GitLab's push hook body, after the example in GitLab's docs ("Webhook events", Push
# events; header X-Gitlab-Event: Push Hook). The relay puts it as the detail unchanged.
GITLAB_PUSH_BODY = {
    "object_kind": "push",
    "event_name": "push",
    "before": "95790bf891e76fee5e1747ab589903a6a1f80f22",
    "after": "da1560886d4f094c3e6c9ef40349f7d38b5d27d7",
    "ref": "refs/heads/master",
    "ref_protected": True,
    "checkout_sha": "da1560886d4f094c3e6c9ef40349f7d38b5d27d7",
    "message": "Hello World",
    "user_id": 4,
    "user_name": "John Smith",
    "user_username": "jsmith",
    "user_email": "john@example.com",
    "user_avatar": None,
    "project_id": 15,
    "project": {
        "id": 15,
        "name": "Diaspora",
        "description": "",
        "web_url": "http://example.com/mike/diaspora",
        "avatar_url": None,
        "git_ssh_url": "git@example.com:mike/diaspora.git",
        "git_http_url": "http://example.com/mike/diaspora.git",
        "namespace": "Mike",
        "visibility_level": 0,
        "path_with_namespace": "mike/diaspora",
        "default_branch": "master",
        "ci_config_path": None,
        "homepage": "http://example.com/mike/diaspora",
        "url": "git@example.com:mike/diaspora.git",
        "ssh_url": "git@example.com:mike/diaspora.git",
        "http_url": "http://example.com/mike/diaspora.git",
    },
    "commits": [
        {
            "id": "b6568db1bc1dcd7f8b4d5a946b0b91f9dacd7327",
            "message": "Update Catalan translation to e38cb41.",
            "title": "Update Catalan translation to e38cb41.",
            "timestamp": "2011-12-12T14:27:31+02:00",
            "url": "http://example.com/mike/diaspora/commit/b6568db1bc1dcd7f8b4d5a946b0b91f9dacd7327",
            "author": {"name": "Jordi Mallach", "email": "jordi@softcatala.org"},
            "added": ["CHANGELOG"],
            "modified": ["app/controller/application.rb"],
            "removed": [],
        },
        {
            "id": "da1560886d4f094c3e6c9ef40349f7d38b5d27d7",
            "message": "fixed readme",
            "title": "fixed readme",
            "timestamp": "2012-01-03T23:36:29+02:00",
            "url": "http://example.com/mike/diaspora/commit/da1560886d4f094c3e6c9ef40349f7d38b5d27d7",
            "author": {"name": "GitLab dev user", "email": "gitlabdev@example.com"},
            "added": ["CHANGELOG"],
            "modified": ["app/controller/application.rb"],
            "removed": [],
        },
    ],
    "total_commits_count": 4,
    "repository": {
        "name": "Diaspora",
        "url": "git@example.com:mike/diaspora.git",
        "description": "",
        "homepage": "http://example.com/mike/diaspora",
        "git_http_url": "http://example.com/mike/diaspora.git",
        "git_ssh_url": "git@example.com:mike/diaspora.git",
        "visibility_level": 0,
    },
}


def envelope(source: str, detail_type: str, detail: dict, event_id: str) -> dict:
    """EventBridge's envelope of a PutEvents entry ("Amazon EventBridge events")."""
    return {
        "version": "0",
        "id": event_id,
        "detail-type": detail_type,
        "source": source,
        "account": "444455556666",
        "time": "2026-03-17T14:10:00Z",
        "region": "eu-west-1",
        "resources": [],
        "detail": detail,
    }


GITLAB_PUSH = envelope(
    "gitlab", "Push Hook", GITLAB_PUSH_BODY, "7d4e1c2a-0000-4000-8000-000000000001"
)

# The custom events any tool can put (`aws events put-events`, source dora4): a deployment
# and an incident in the project's documented format.
CUSTOM_DEPLOYMENT = envelope(
    "dora4",
    "Deployment",
    {
        "id": "gha-run-4242",
        "finished_at": "2026-03-17T14:09:00Z",
        "component": "mobile-app",
        "environment": "production",
        "status": "succeeded",
        "version": "3.2.1",
        "tags": {"Ownership.Pod": "mobile", "Ownership.Team": "apps"},
    },
    "7d4e1c2a-0000-4000-8000-000000000002",
)
CUSTOM_INCIDENT = envelope(
    "dora4",
    "Incident",
    {
        "id": "inc-77",
        "started_at": "2026-03-17T15:00:00Z",
        "severity": "high",
        "component": "mobile-app",
        "environment": "production",
    },
    "7d4e1c2a-0000-4000-8000-000000000003",
)

# An Opsgenie alert from its EventBridge partner integration: source
# aws.partner/opsgenie.com/<org>/<integration> on the partner bus; the detail is the alert
# webhook body (action, alert{alertId, createdAt ms, updatedAt ns, ...}). The detail-type
# Opsgenie sends is not confirmed here, and the rule does not depend on it.
OPSGENIE_ALERT = envelope(
    "aws.partner/opsgenie.com/acme/dora4-integration",
    "Opsgenie Alert",
    {
        "action": "Create",
        "alert": {
            "alertId": "3540dd18-b849-47ea-ae10-6c8edf367f4a",
            "message": "Error rate above threshold",
            "tags": ["component:ledger-api"],
            "createdAt": 1773756000000,
            "updatedAt": 1773756000000000000,
            "priority": "P1",
            "details": {"Component.Name": "ledger-api"},
        },
        "integrationName": "dora4-integration",
    },
    "7d4e1c2a-0000-4000-8000-000000000004",
)


def _variant(event: dict, **changes) -> dict:
    changed = json.loads(json.dumps(event))
    for path, value in changes.items():
        node = changed
        *parents, last = path.split("__")
        for key in parents:
            node = node[key]
        node[last.replace("_", "-") if last == "detail_type" else last] = value
    return changed


# Noise: what the archive must not receive. Each is a real event the same sources send.
NOISE = {
    # other CloudTrail calls to Lambda: configuration, reads
    "cloudtrail UpdateFunctionConfiguration": _variant(
        LAMBDA_UPDATE_FUNCTION_CODE, detail__eventName="UpdateFunctionConfiguration20150331v2"
    ),
    "cloudtrail GetFunction": _variant(
        LAMBDA_UPDATE_FUNCTION_CODE, detail__eventName="GetFunction20150331v2"
    ),
    "cloudtrail s3 PutObject": _variant(
        LAMBDA_UPDATE_FUNCTION_CODE,
        source="aws.s3",
        detail__eventSource="s3.amazonaws.com",
        detail__eventName="PutObject",
    ),
    "ecs task state change": ECS_TASK_STATE_CHANGE,
    "ecs service action": _variant(
        ECS_DEPLOYMENT_COMPLETED,
        detail_type="ECS Service Action",
        detail__eventName="SERVICE_STEADY_STATE",
    ),
    "codedeploy instance state change": CODEDEPLOY_INSTANCE_STATE_CHANGE,
    # other Kubernetes reasons, from the same exporter
    "kubernetes Pulled": _variant(
        EKS_SCALED_UP, detail__reason="Pulled", detail__message='Container image "app:7" pulled'
    ),
    "kubernetes BackOff": _variant(
        EKS_SCALED_UP,
        detail__reason="BackOff",
        detail__message="Back-off restarting failed container",
    ),
    "kubernetes SuccessfulCreate": _variant(
        EKS_SCALED_UP,
        detail__reason="SuccessfulCreate",
        detail__message="Created pod: cart-api-7c9d-x2x4z",
    ),
    # ScalingReplicaSet from a source that is not the exporter
    "ScalingReplicaSet from another source": _variant(EKS_SCALED_DOWN_TO_ZERO, source="acme.k8s"),
    # (GitLab hooks of other kinds are archived: relays choose their own detail-type, so
    # the rule takes the relay's whole source and landing decides by the hook's content;
    # the repository's relay forwards pushes only)
    # custom source, other detail-type
    "dora4 Heartbeat": _variant(CUSTOM_DEPLOYMENT, detail_type="Heartbeat"),
    # another SaaS partner
    "datadog partner event": _variant(OPSGENIE_ALERT, source="aws.partner/datadog.com/acme/x"),
}
