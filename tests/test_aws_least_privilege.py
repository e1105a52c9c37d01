"""Least privilege in the templates: every IAM policy, trust policy and bus policy is read as
the stack would create it (defaults, and every optional part switched on), and any `*`
action or resource is a failure unless no narrower form exists (named below, with why)."""

import pytest
from cfn_templates import (
    ACCOUNT,
    ARCHIVE,
    EXPORTER_ROLE,
    MEMBER,
    RELAY,
    Stack,
    as_list,
    policy_documents,
    statements,
)

# Actions that have no resource-level permissions: "*" is their only Resource (AWS Service
# Authorization Reference, "Actions defined by AWS Resource Groups Tagging API").
NO_RESOURCE_LEVEL = {"tag:GetResources"}
# Where the template cannot know the account: the pipeline assumes the tag reader in every
# member account; the role name narrows it.
ANY_ACCOUNT = {"sts:AssumeRole"}
# Service principals that can act for another account unless the trust says whose.
CONFUSED_DEPUTY_KEYS = {"aws:SourceAccount", "aws:SourceArn", "sts:ExternalId"}
SERVICES_NEEDING_CONDITION = {
    "events.amazonaws.com",
    "firehose.amazonaws.com",
    "ecs-tasks.amazonaws.com",
}

MEMBER_PARAMS = {
    "CentralAccountId": ACCOUNT,
    "PipelineRoleArn": f"arn:aws:iam::{ACCOUNT}:role/dora4-pipeline",
}
STACKS = {
    "archive (defaults)": (ARCHIVE, {}),
    "archive (every option)": (
        ARCHIVE,
        {
            "OrganizationId": "o-abcdefghij",
            "OpsgenieEventBusName": "aws.partner/opsgenie.com/acme/dora4",
            "PipelineTrustedPrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/ci",
        },
    ),
    "member account": (MEMBER, MEMBER_PARAMS),
    "member account, other Region": (MEMBER, {**MEMBER_PARAMS, "CreateTagReader": "false"}),
    "central account's tag reader": (MEMBER, {**MEMBER_PARAMS, "ForwardEvents": "false"}),
    "gitlab relay": (RELAY, {"CodeBucket": "acme-artifacts"}),
    "exporter role": (EXPORTER_ROLE, {"OidcIssuer": "oidc.eks.eu-west-1.amazonaws.com/id/ABCDEF"}),
}


def problems(document: dict) -> list[str]:
    """What in one policy document is broader than it needs to be."""
    found = []
    for statement in statements(document):
        if statement.get("Effect") != "Allow":
            continue  # a Deny (the bucket's TLS-only statement) narrows, never widens
        for key in ("NotAction", "NotResource", "NotPrincipal"):
            if key in statement:
                found.append(f"{key} is used")
        actions = as_list(statement.get("Action", []))
        for action in actions:
            if "*" in action:
                found.append(f"wildcard action {action}")
        if "Principal" in statement:
            found += _principal_problems(statement)
            continue
        for resource in as_list(statement.get("Resource", [])):
            found += [f"{p} ({resource}, {actions})" for p in _resource_problems(resource, actions)]
    return found


def _resource_problems(resource: str, actions: list[str]) -> list[str]:
    if resource == "*":
        return [] if set(actions) <= NO_RESOURCE_LEVEL else ["resource *"]
    parts = resource.split(":", 5)
    if resource.startswith("arn:") and len(parts) == 6:
        service, account, rest = parts[2], parts[4], parts[5]
        if service == "s3":
            return ["bucket wildcard"] if rest.startswith("*") else []
        if account == "*" and not set(actions) <= ANY_ACCOUNT:
            return ["any account"]
        if rest in ("*", ""):
            return ["any resource of the service"]
    return []


def _principal_problems(statement: dict) -> list[str]:
    principal = statement["Principal"]
    conditions = {key for test in statement.get("Condition", {}).values() for key in test}
    if principal == "*" or principal == {"AWS": "*"}:
        return [] if "aws:PrincipalOrgID" in conditions else ["principal *"]
    found = []
    for service in as_list(principal.get("Service", [])):
        if service in SERVICES_NEEDING_CONDITION and not conditions & CONFUSED_DEPUTY_KEYS:
            found.append(f"{service} may act for any account")
    for aws in as_list(principal.get("AWS", [])):
        if aws == "*" or ":root" in aws and aws != f"arn:aws:iam::{ACCOUNT}:root":
            found.append(f"principal {aws}")
    return found


@pytest.mark.parametrize("name", sorted(STACKS))
def test_no_policy_is_broader_than_it_needs_to_be(name):
    path, params = STACKS[name]
    documents = policy_documents(Stack(path, **params))
    assert documents, "no policies found: the reader is broken"
    found = {part: problems(doc) for part, doc in documents.items()}
    assert {part: p for part, p in found.items() if p} == {}


@pytest.mark.parametrize(
    "statement",
    [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::bucket/*"},
        {"Effect": "Allow", "Action": "s3:Get*", "Resource": "arn:aws:s3:::bucket/*"},
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::*"},
        {
            "Effect": "Allow",
            "Action": "firehose:PutRecord",
            "Resource": f"arn:aws:firehose:eu-west-1:{ACCOUNT}:*",
        },
        {
            "Effect": "Allow",
            "Action": "events:PutEvents",
            "Resource": "arn:aws:events:eu-west-1:*:event-bus/default",
        },
        {"Effect": "Allow", "Principal": "*", "Action": "events:PutEvents"},
        {
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::999988887777:root"},
            "Action": "sts:AssumeRole",
        },
        {
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sts:AssumeRole",
        },
        {"Effect": "Allow", "NotAction": "iam:CreateUser", "Resource": "arn:aws:s3:::bucket"},
    ],
)
def test_the_check_catches_broad_statements(statement):
    """The checker itself can fail: each of these alone is a problem."""
    assert problems({"Statement": [statement]})


def test_the_pipeline_role_can_do_what_the_pipeline_does_and_no_more():
    """The read-only role: list and read the archive prefix, write the Parquet prefix, read
    tags here and through the member accounts' tag readers."""
    documents = policy_documents(Stack(ARCHIVE))
    granted = {
        (action, resource)
        for statement in statements(documents["PipelineRole/dora4-pipeline"])
        for action in as_list(statement["Action"])
        for resource in as_list(statement["Resource"])
    }
    assert granted == {
        ("s3:ListBucket", "<ArchiveBucket.Arn>"),
        ("s3:GetObject", "<ArchiveBucket.Arn>/events/*"),
        ("s3:PutObject", "<ArchiveBucket.Arn>/parquet/*"),
        ("s3:AbortMultipartUpload", "<ArchiveBucket.Arn>/parquet/*"),
        ("tag:GetResources", "*"),
        ("codedeploy:GetDeploymentGroup", f"arn:aws:codedeploy:*:{ACCOUNT}:deploymentgroup:*"),
        ("sts:AssumeRole", "arn:aws:iam::*:role/dora4-tag-reader"),
    }


def test_the_tag_reader_trusts_only_the_pipeline_role():
    documents = policy_documents(Stack(MEMBER, **MEMBER_PARAMS))
    (trust,) = statements(documents["TagReaderRole/trust"])
    assert trust["Principal"] == {"AWS": MEMBER_PARAMS["PipelineRoleArn"]}
    assert trust["Action"] == "sts:AssumeRole"
    actions = {
        a for s in statements(documents["TagReaderRole/read-tags"]) for a in as_list(s["Action"])
    }
    assert actions == {"tag:GetResources", "codedeploy:GetDeploymentGroup"}


def test_only_the_function_url_is_public():
    permissions = Stack(RELAY, CodeBucket="acme-artifacts").resources("AWS::Lambda::Permission")
    public = {
        (p["Action"], p.get("FunctionUrlAuthType"), p.get("InvokedViaFunctionUrl"))
        for p in permissions.values()
    }
    assert public == {
        ("lambda:InvokeFunctionUrl", "NONE", None),
        ("lambda:InvokeFunction", None, True),
    }
