"""The sources as code (deploy/aws, deploy/kubernetes): every template passes cfn-lint, the
EventBridge rules send exactly the events the pipeline reads (judged by moto's
implementation of EventBridge's pattern language, offline), and the exporter's values
agree with the rules."""

import json
import subprocess
import sys
import zlib
from datetime import date
from pathlib import Path

import pytest
import yaml
from aws_event_samples import (
    CODEDEPLOY_DEPLOYMENT_SUCCESS,
    CUSTOM_DEPLOYMENT,
    CUSTOM_INCIDENT,
    ECS_DEPLOYMENT_COMPLETED,
    ECS_DEPLOYMENT_FAILED,
    EKS_SCALED_DOWN_TO_ZERO,
    EKS_SCALED_UP,
    GITLAB_PUSH,
    LAMBDA_UPDATE_FUNCTION_CODE,
    LAMBDA_UPDATE_FUNCTION_CODE_FAILED,
    NOISE,
    OPSGENIE_ALERT,
)
from cfn_templates import ARCHIVE, MEMBER, ROOT, Stack, templates
from moto.events.models import EventPattern

from dora4_generator import generate

OPSGENIE_BUS = "aws.partner/opsgenie.com/acme/dora4-integration"
VALUES = ROOT / "deploy/kubernetes/event-exporter-values.yaml"

# Each event the pipeline reads, and the one rule that must send it to the archive.
READ = {
    "lambda deploy": (LAMBDA_UPDATE_FUNCTION_CODE, "LambdaDeployRule"),
    "lambda failed call (look-alike)": (LAMBDA_UPDATE_FUNCTION_CODE_FAILED, "LambdaDeployRule"),
    "ecs completed": (ECS_DEPLOYMENT_COMPLETED, "EcsDeployRule"),
    "ecs circuit breaker": (ECS_DEPLOYMENT_FAILED, "EcsDeployRule"),
    "codedeploy success": (CODEDEPLOY_DEPLOYMENT_SUCCESS, "CodeDeployRule"),
    "eks rollout's last step": (EKS_SCALED_DOWN_TO_ZERO, "KubernetesRule"),
    "eks scale-up (look-alike)": (EKS_SCALED_UP, "KubernetesRule"),
    "gitlab push": (GITLAB_PUSH, "GitLabRule"),
    "custom deployment": (CUSTOM_DEPLOYMENT, "CustomRule"),
    "custom incident": (CUSTOM_INCIDENT, "CustomRule"),
    "opsgenie alert": (OPSGENIE_ALERT, "OpsgenieRule"),
}


def matching_rules(patterns: dict[str, dict], event: dict) -> list[str]:
    return [
        name
        for name, p in patterns.items()
        if EventPattern.load(json.dumps(p)).matches_event(event)
    ]


@pytest.fixture(scope="module")
def patterns() -> dict[str, dict]:
    """The archive stack's rules, with the Opsgenie rule (conditional) switched on."""
    return Stack(ARCHIVE, OpsgenieEventBusName=OPSGENIE_BUS).rule_patterns()


def test_cfn_lint_passes_on_every_template():
    paths = templates()
    assert {p.relative_to(ROOT).as_posix() for p in paths} == {
        "deploy/aws/archive.yaml",
        "deploy/aws/member-account.yaml",
        "deploy/aws/gitlab-relay.yaml",
        "deploy/kubernetes/exporter-role.yaml",
    }
    cfn_lint = Path(sys.executable).with_name("cfn-lint")  # as `make lint` runs it
    run = subprocess.run([str(cfn_lint), *map(str, paths)], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


@pytest.mark.parametrize("case", sorted(READ))
def test_every_event_the_pipeline_reads_matches_its_rule_only(patterns, case):
    event, rule = READ[case]
    assert matching_rules(patterns, event) == [rule]


@pytest.mark.parametrize("case", sorted(NOISE))
def test_noise_matches_no_rule(patterns, case):
    assert matching_rules(patterns, NOISE[case]) == []


def test_configured_sources_move_the_rules_with_them():
    stack = Stack(ARCHIVE, ExporterSource="acme.k8s", GitLabSource="com.acme.gitlab")
    moved = stack.rule_patterns()
    acme_eks = dict(EKS_SCALED_DOWN_TO_ZERO, source="acme.k8s")
    acme_push = dict(GITLAB_PUSH, source="com.acme.gitlab")
    assert matching_rules(moved, acme_eks) == ["KubernetesRule"]
    assert matching_rules(moved, acme_push) == ["GitLabRule"]
    assert matching_rules(moved, EKS_SCALED_DOWN_TO_ZERO) == []  # the default source no more


def _archive_events(root):
    """Every readable record of a generated Firehose archive (concatenated JSON, gzip or
    plain), read past the damage the generator does on purpose (truncated gzip, bad
    records) as the pipeline does."""
    decoder = json.JSONDecoder()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        raw = path.read_bytes()
        if path.suffix == ".gz":
            raw = zlib.decompressobj(wbits=31).decompress(raw)  # a truncated tail is lost
        text = raw.decode(errors="replace")
        position = text.find("{")
        while 0 <= position < len(text):
            try:
                record, end = decoder.raw_decode(text, position)
            except ValueError:
                position = text.find("{", position + 1)
                continue
            if isinstance(record, dict) and "detail" in record:
                yield record
            position = text.find("{", end)


def _identity(event: dict) -> str | None:
    """The deployment_id the generator's truth gives a counted event."""
    detail = event.get("detail") or {}
    if event.get("source") == "aws.lambda":
        return f"lambda:{detail.get('eventID')}"
    if event.get("source") == "aws.ecs":
        return f"ecs:{detail.get('deploymentId')}"
    if "involvedObject" in detail:
        return f"eks:{(detail.get('metadata') or {}).get('uid')}:{detail.get('count')}"
    if event.get("source") == "dora4" and event.get("detail-type") == "Deployment":
        return f"custom:{detail.get('id')}"
    if event.get("source") == "aws.codedeploy":
        return f"codedeploy:{detail.get('deploymentId')}"
    return None


def test_every_generated_deployment_reaches_the_archive_and_noise_does_not(tmp_path, patterns):
    """Against the generator's truth: each deployment it counts has its event matched by a
    rule, and what no rule takes is noise."""
    generate(tmp_path, start=date(2026, 3, 16), days=1, events_per_day=600, seed=5)
    truth = json.loads((tmp_path / "truth.json").read_text())
    events = list(_archive_events(tmp_path / "archive"))
    for event in events:  # Opsgenie's real events come from its partner source
        if event["source"] == "opsgenie":
            event["source"] = OPSGENIE_ALERT["source"]
    matched = [e for e in events if matching_rules(patterns, e)]
    forwarded = {_identity(e) for e in matched}
    # a CodeDeploy deployment of a group with several services counts once per service
    # (`codedeploy:<id>:<cluster>/<service>`): its one event is what must reach the archive
    counted = {
        ":".join(d["deployment_id"].split(":")[:2])
        if d["event_source"] == "ecs"
        else d["deployment_id"]
        for d in truth["deployments"]
    }
    assert counted and counted <= forwarded
    unmatched = [e for e in events if not matching_rules(patterns, e)]
    # Nothing left behind is a signal (hand-written from the README's list of signals) ...
    for event in unmatched:
        detail = event["detail"] if isinstance(event["detail"], dict) else {}
        assert not str(detail.get("eventName", "")).startswith("UpdateFunctionCode"), event
        assert event["detail-type"] != "ECS Deployment State Change", event
        # (the generator's legacy cluster sends the README's `details:` template under its
        # own source `cd`: a different exporter configuration, outside this rule)
        assert detail.get("reason") != "ScalingReplicaSet" or "involvedObject" not in detail, event
        assert event["source"] not in ("gitlab", OPSGENIE_ALERT["source"]), event
    # ... and at least every noise event of the truth is left behind (duplicated noise too).
    assert len(unmatched) >= truth["noise_events"] > 0


def test_member_accounts_forward_the_same_events():
    central = Stack(ARCHIVE).rule_patterns()
    member = Stack(
        MEMBER,
        CentralAccountId="111122223333",
        PipelineRoleArn="arn:aws:iam::111122223333:role/dora4-pipeline",
    )
    assert member.rule_patterns() == central  # the Opsgenie rule is central only
    for name, props in member.resources("AWS::Events::Rule").items():
        (target,) = props["Targets"]
        assert target["Arn"] == "arn:aws:events:eu-west-1:111122223333:event-bus/default", name
        assert target["RoleArn"] == "<ForwarderRole.Arn>", name
    central_account = Stack(MEMBER, **dict(member.params, ForwardEvents="false"))
    assert central_account.rule_patterns() == {}  # its events are on the archive's bus
    assert list(central_account.resources("AWS::IAM::Role")) == ["TagReaderRole"]


# The keys the exporter and the chart read (a misspelt key is silently ignored):
# resmoio/kubernetes-event-exporter pkg/exporter/config.go (Config), pkg/exporter/rule.go
# (Rule), pkg/sinks/eventbridge.go (EventBridgeConfig); bitnami/charts
# bitnami/kubernetes-event-exporter/values.yaml.
EXPORTER_CONFIG_KEYS = {
    "logLevel", "logFormat", "throttlePeriod", "maxEventAgeSeconds", "clusterName",
    "namespace", "leaderElection", "route", "receivers", "kubeQPS", "kubeBurst", "kubeconfig",
}  # fmt: skip
RULE_KEYS = {
    "labels", "annotations", "message", "apiVersion", "kind", "namespace", "reason", "type",
    "minCount", "component", "host", "receiver",
}  # fmt: skip
EVENTBRIDGE_KEYS = {"sentUpdateEvent", "detailType", "details", "source", "eventBusName", "region"}
CHART_SERVICE_ACCOUNT_KEYS = {"create", "name", "automountServiceAccountToken", "annotations"}


def test_exporter_values_use_only_keys_the_exporter_and_chart_read():
    values = yaml.safe_load(VALUES.read_text())
    assert set(values) <= {"config", "serviceAccount", "rbac"}
    assert set(values["config"]) <= EXPORTER_CONFIG_KEYS
    for route in values["config"]["route"]["routes"]:
        assert set(route) <= {"match", "drop", "routes"}
        assert all(set(rule) <= RULE_KEYS for rule in route["match"])
    for receiver in values["config"]["receivers"]:
        assert set(receiver) == {"name", "eventbridge"}
        assert set(receiver["eventbridge"]) <= EVENTBRIDGE_KEYS
    assert set(values["serviceAccount"]) <= CHART_SERVICE_ACCOUNT_KEYS


def test_exporter_values_send_what_the_kubernetes_rule_takes():
    values = yaml.safe_load(VALUES.read_text())
    config = values["config"]
    (receiver,) = config["receivers"]
    sink = receiver["eventbridge"]
    assert "details" not in sink  # the whole event, with uid, count and labels
    assert sink["source"] == Stack(ARCHIVE).params["ExporterSource"]
    assert sink["eventBusName"] == "default"
    (route,) = config["route"]["routes"]
    assert route["match"] == [{"reason": "^ScalingReplicaSet$", "receiver": receiver["name"]}]
    assert config["maxEventAgeSeconds"] >= 5  # the exporter's default drops late events
    sent = dict(
        EKS_SCALED_DOWN_TO_ZERO, source=sink["source"], **{"detail-type": sink["detailType"]}
    )
    assert matching_rules(Stack(ARCHIVE).rule_patterns(), sent) == ["KubernetesRule"]
    role = Stack(
        ROOT / "deploy/kubernetes/exporter-role.yaml",
        OidcIssuer="oidc.eks.eu-west-1.amazonaws.com/id/X",
    )
    assert role.params["ExporterSource"] == sink["source"]
    assert role.params["ServiceAccount"] == values["serviceAccount"]["name"]
