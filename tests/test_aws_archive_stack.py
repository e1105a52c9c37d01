"""The archive stack deployed over HTTP to moto's server (boto3 CloudFormation create_stack),
and what it created checked through each service's own API: the bucket, the roles, the
rules and their targets; then the member-account stack beside it.

What moto's CloudFormation does not support, said plainly:
- AWS::KinesisFirehose::DeliveryStream and AWS::Logs::LogStream: moto has no CloudFormation
  support for them. They are taken out of the template before deploying, every reference
  to them replaced by the name and ARN they will have, and the stream is then created
  through Firehose's own API (which moto serves) from the template's own properties.
- AWS::S3::BucketPolicy and AWS::Events::EventBusPolicy: moto skips them with a warning.
  Their content is checked by tests/test_aws_least_privilege.py, not here.
- The Opsgenie rule lives on a partner event bus, which only Opsgenie's integration can
  create (moto cannot either): it is not deployed here; its pattern is tested offline.
- Where Firehose puts objects is moto's emulation of Firehose's documented default
  (<prefix>YYYY/MM/DD/HH/), so the last test shows the pieces agree, not AWS's behaviour.
"""

import ast
import json
import urllib.request
import warnings
from datetime import UTC, datetime
from urllib.parse import unquote

import boto3
import pytest
from cfn_templates import ACCOUNT, ARCHIVE, MEMBER, REGION, Stack, load, policy_documents

from dora4_pipeline.resources.archive import S3Archive

MOTO_ACCOUNT = "123456789012"  # moto's default account
STREAM = "dora4-archive"
STREAM_ARN = f"arn:aws:firehose:{REGION}:{MOTO_ACCOUNT}:deliverystream/{STREAM}"
LOG_STREAM = "S3Delivery"
PARAMS = {"OrganizationId": "o-abcdefghij"}
pytestmark = pytest.mark.filterwarnings("ignore:Tried to parse AWS")  # said above


def deployable(template: dict) -> dict:
    """The template without the two resource types moto's CloudFormation lacks."""
    del template["Resources"]["DeliveryStream"], template["Resources"]["FirehoseLogStream"]

    def swap(node):
        if isinstance(node, list):
            return [swap(item) for item in node]
        if isinstance(node, dict):
            if node == {"Fn::GetAtt": ["DeliveryStream", "Arn"]}:
                return STREAM_ARN
            if node == {"Ref": "DeliveryStream"}:
                return STREAM
            if node == {"Ref": "FirehoseLogStream"}:
                return LOG_STREAM
            return {key: swap(value) for key, value in node.items()}
        if isinstance(node, str):
            return node.replace("${FirehoseLogStream}", LOG_STREAM)
        return node

    return swap(template)


def client(endpoint: str, service: str):
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture(scope="module")
def stack(moto_endpoint):
    """Deployed once for the module (moto's state reset first); tests only read it."""
    urllib.request.urlopen(urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST"))
    cloudformation = client(moto_endpoint, "cloudformation")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # moto warns about the types it skips (above)
        cloudformation.create_stack(
            StackName="dora4-archive",
            TemplateBody=json.dumps(deployable(load(ARCHIVE))),
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in PARAMS.items()],
            Capabilities=["CAPABILITY_NAMED_IAM"],
        )
    (described,) = cloudformation.describe_stacks(StackName="dora4-archive")["Stacks"]
    assert described["StackStatus"] == "CREATE_COMPLETE"
    resources = {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in cloudformation.list_stack_resources(StackName="dora4-archive")[
            "StackResourceSummaries"
        ]
    }
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described["Outputs"]}
    return moto_endpoint, resources, outputs


def test_the_bucket_is_encrypted_private_and_expires_what_it_must(stack):
    endpoint, resources, outputs = stack
    bucket = resources["ArchiveBucket"]
    s3 = client(endpoint, "s3")
    (rule,) = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert outputs["ArchiveUri"] == f"s3://{bucket}/events/"
    assert outputs["ParquetUri"] == f"s3://{bucket}/parquet/"
    # moto's CloudFormation applies only BucketEncryption and Tags of a bucket: the public
    # access block and the lifecycle rules are checked as the template resolves them.
    props = Stack(ARCHIVE, **PARAMS).resources("AWS::S3::Bucket")["ArchiveBucket"]
    assert props["PublicAccessBlockConfiguration"] == dict.fromkeys(
        ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"),
        True,
    )
    expiry = {
        (r["Id"], r["Prefix"]): r["ExpirationInDays"]
        for r in props["LifecycleConfiguration"]["Rules"]
        if "ExpirationInDays" in r
    }
    assert expiry == {("expire-archive", "events/"): "1095", ("expire-errors", "errors/"): "30"}


def test_rules_target_the_stream_through_the_events_role(stack):
    endpoint, resources, _ = stack
    events = client(endpoint, "events")
    expected = Stack(ARCHIVE, **PARAMS).rule_patterns()
    expected.pop("OpsgenieRule", None)  # conditional: off without a partner bus
    role_arn = f"arn:aws:iam::{MOTO_ACCOUNT}:role/{resources['EventsToFirehoseRole']}"
    deployed = {}
    for name in expected:
        rule = events.describe_rule(Name=resources[name])
        assert rule["State"] == "ENABLED"
        deployed[name] = json.loads(rule["EventPattern"])
        targets = events.list_targets_by_rule(Rule=resources[name])["Targets"]
        assert [(t["Arn"], t["RoleArn"]) for t in targets] == [(STREAM_ARN, role_arn)], name
    assert deployed == expected
    assert {r["Name"] for r in events.list_rules()["Rules"]} == {resources[n] for n in expected}


def _document(value) -> dict:
    """A policy as IAM returns it: an object, URL-encoded JSON, or (moto's CloudFormation
    stores inline policies so) the text of a Python dict."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(unquote(value))
    except ValueError:
        return ast.literal_eval(value)


def test_roles_carry_the_templates_policies(stack):
    """Each role's trust and inline policy as IAM holds them equal the template's, resolved
    with the physical names moto gave the stack's resources."""
    endpoint, resources, outputs = stack
    iam = client(endpoint, "iam")
    assert outputs["PipelineRoleArn"] == f"arn:aws:iam::{MOTO_ACCOUNT}:role/dora4-pipeline"
    physical = {
        "<ArchiveBucket.Arn>": f"arn:aws:s3:::{resources['ArchiveBucket']}",
        "<DeliveryStream.Arn>": STREAM_ARN,
        "<FirehoseLogGroup>": resources["FirehoseLogGroup"],
        "<FirehoseLogStream>": LOG_STREAM,
        f":{ACCOUNT}:": f":{MOTO_ACCOUNT}:",
        f'"{ACCOUNT}"': f'"{MOTO_ACCOUNT}"',
    }
    for part, expected in policy_documents(Stack(ARCHIVE, **PARAMS)).items():
        logical, name = part.split("/")
        if logical not in resources:
            continue  # the bus policy: skipped by moto (see the module docstring)
        text = json.dumps(expected)
        for placeholder, value in physical.items():
            text = text.replace(placeholder, value)
        role = resources[logical]
        if name == "trust":
            held = iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"]
        else:
            held = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
        held = _document(held)
        # moto leaves an AWS::NoValue list item as null; CloudFormation removes it
        held["Statement"] = [st for st in held["Statement"] if st is not None]
        assert held == json.loads(text), part


def test_the_stream_writes_where_the_pipeline_reads(stack, monkeypatch):
    """The stream, created from the template's own properties, delivers one event to a key
    the pipeline's S3 archive lists for that day (DORA4_ARCHIVE_URI = output ArchiveUri)."""
    endpoint, resources, outputs = stack
    props = Stack(ARCHIVE, **PARAMS).resources("AWS::KinesisFirehose::DeliveryStream")
    destination = dict(props["DeliveryStream"]["ExtendedS3DestinationConfiguration"])
    assert destination["CompressionFormat"] == "GZIP"
    assert (destination["Prefix"], destination["ErrorOutputPrefix"]) == ("events/", "errors/")
    destination["BucketARN"] = f"arn:aws:s3:::{resources['ArchiveBucket']}"
    destination["RoleARN"] = f"arn:aws:iam::{MOTO_ACCOUNT}:role/{resources['FirehoseRole']}"
    destination["BufferingHints"] = {k: int(v) for k, v in destination["BufferingHints"].items()}
    destination["CloudWatchLoggingOptions"] = {"Enabled": False}
    firehose = client(endpoint, "firehose")
    firehose.create_delivery_stream(
        DeliveryStreamName=STREAM,
        DeliveryStreamType="DirectPut",
        ExtendedS3DestinationConfiguration=destination,
    )
    assert (
        firehose.describe_delivery_stream(DeliveryStreamName=STREAM)["DeliveryStreamDescription"][
            "DeliveryStreamARN"
        ]
        == STREAM_ARN
    )  # the ARN the rules were given
    before = datetime.now(UTC)
    firehose.put_record(DeliveryStreamName=STREAM, Record={"Data": b'{"id": "e1"}'})
    after = datetime.now(UTC)
    for name, value in (
        ("ENDPOINT_URL", endpoint),
        ("DEFAULT_REGION", REGION),
        ("ACCESS_KEY_ID", "testing"),
        ("SECRET_ACCESS_KEY", "testing"),
    ):
        monkeypatch.setenv(f"AWS_{name}", value)  # the pipeline's S3 client reads the env
    archive = S3Archive(outputs["ArchiveUri"])
    listed = archive.list_day(before.date()) + (
        archive.list_day(after.date()) if after.date() != before.date() else []
    )
    assert len(listed) == 1
    assert listed[0].key.startswith(f"{before:%Y/%m/%d/}")


def test_the_member_stack_forwards_to_the_central_bus(stack):
    """member-account.yaml on the same server (moto supports all its types): six rules whose
    only target is the central account's default bus, through the forwarder role, and the
    tag reader trusting the pipeline's role only."""
    endpoint, _, outputs = stack
    central = "111122223333"
    cloudformation = client(endpoint, "cloudformation")
    params = {"CentralAccountId": central, "PipelineRoleArn": outputs["PipelineRoleArn"]}
    cloudformation.create_stack(
        StackName="dora4-member",
        TemplateBody=MEMBER.read_text(),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in params.items()],
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )
    resources = {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in cloudformation.list_stack_resources(StackName="dora4-member")[
            "StackResourceSummaries"
        ]
    }
    events, iam = client(endpoint, "events"), client(endpoint, "iam")
    forwarder = f"arn:aws:iam::{MOTO_ACCOUNT}:role/{resources['ForwarderRole']}"
    expected = Stack(MEMBER, **params).rule_patterns()
    assert len(expected) == 6
    for name, pattern in expected.items():
        assert json.loads(events.describe_rule(Name=resources[name])["EventPattern"]) == pattern
        targets = events.list_targets_by_rule(Rule=resources[name])["Targets"]
        bus = f"arn:aws:events:{REGION}:{central}:event-bus/default"
        assert [(t["Arn"], t["RoleArn"]) for t in targets] == [(bus, forwarder)], name
    trust = _document(iam.get_role(RoleName="dora4-tag-reader")["Role"]["AssumeRolePolicyDocument"])
    assert [s["Principal"] for s in trust["Statement"]] == [{"AWS": outputs["PipelineRoleArn"]}]
