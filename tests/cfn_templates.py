"""The CloudFormation templates under deploy/, read as CloudFormation would resolve them.

cfn-lint's own YAML reader turns the short forms (!Ref, !Sub, ...) into their long forms;
`resolve` then evaluates them for given parameter values, so tests see the event patterns
and IAM policies a stack would really have. Only what the templates use is evaluated: Ref,
Fn::Sub, Fn::If, Fn::Equals, Fn::Not; Fn::GetAtt becomes the text `<Resource.Attribute>`.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

from cfnlint.decode import cfn_yaml

ROOT = Path(__file__).resolve().parents[1]
ARCHIVE = ROOT / "deploy/aws/archive.yaml"
MEMBER = ROOT / "deploy/aws/member-account.yaml"
RELAY = ROOT / "deploy/aws/gitlab-relay.yaml"
EXPORTER_ROLE = ROOT / "deploy/kubernetes/exporter-role.yaml"
ACCOUNT, REGION = "111122223333", "eu-west-1"
PSEUDO = {
    "AWS::AccountId": ACCOUNT,
    "AWS::Region": REGION,
    "AWS::Partition": "aws",
    "AWS::StackName": "dora4",
    "AWS::URLSuffix": "amazonaws.com",
}
_NO_VALUE = object()
_SUB = re.compile(r"\$\{([^}!]+)\}")


def templates() -> list[Path]:
    """Every CloudFormation template in deploy/ (YAML files that declare the format)."""
    return sorted(
        path
        for path in (ROOT / "deploy").rglob("*.yaml")
        if "AWSTemplateFormatVersion" in path.read_text()
    )


def load(path: Path) -> dict:
    """The template as a plain dict (a fresh copy: callers may change it)."""
    return json.loads(_text(path))


@functools.cache
def _text(path: Path) -> str:
    return json.dumps(cfn_yaml.load(str(path)))


class Stack:
    """A template with its parameters: defaults, overridden by `params`."""

    def __init__(self, path: Path, **params: str):
        self.template = load(path)
        declared = self.template.get("Parameters", {})
        self.params = {k: str(v.get("Default", "")) for k, v in declared.items()}
        self.params.update(params)

    def resources(self, kind: str) -> dict[str, dict]:
        """Resources of one type (those whose Condition holds), properties resolved."""
        found = {}
        for name, resource in self.template["Resources"].items():
            if resource["Type"] != kind:
                continue
            if "Condition" in resource and not self.condition(resource["Condition"]):
                continue
            found[name] = self.resolve(resource.get("Properties", {}))
        return found

    def rule_patterns(self) -> dict[str, dict]:
        return {name: p["EventPattern"] for name, p in self.resources("AWS::Events::Rule").items()}

    def condition(self, name: str) -> bool:
        return bool(self.resolve(self.template["Conditions"][name]))

    def resolve(self, node: Any) -> Any:
        if isinstance(node, list):
            items = [self.resolve(item) for item in node]
            return [item for item in items if item is not _NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, arg),) = node.items()
            if key == "Ref":
                return self._ref(arg)
            if key == "Fn::Sub":
                return self._sub(arg)
            if key == "Fn::GetAtt":
                return f"<{'.'.join(arg) if isinstance(arg, list) else arg}>"
            if key == "Fn::If":
                name, yes, no = arg
                return self.resolve(yes if self.condition(name) else no)
            if key == "Fn::Equals":
                left, right = (self.resolve(a) for a in arg)
                return str(left) == str(right)
            if key == "Fn::Not":
                return not self.resolve(arg[0])
            if key == "Condition":
                return self.condition(arg)
        resolved = {k: self.resolve(v) for k, v in node.items()}
        return {k: v for k, v in resolved.items() if v is not _NO_VALUE}

    def _ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return _NO_VALUE
        if name in PSEUDO:
            return PSEUDO[name]
        if name in self.params:
            return self.params[name]
        return f"<{name}>"  # a resource: its physical id is not known here

    def _sub(self, arg: Any) -> str:
        text, local = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
        local = {k: self.resolve(v) for k, v in local.items()}

        def value(match: re.Match) -> str:
            name = match.group(1)
            if name in local:
                return str(local[name])
            if "." in name:
                return f"<{name}>"
            return str(self._ref(name))

        return _SUB.sub(value, text)


def policy_documents(stack: Stack) -> dict[str, dict]:
    """Every IAM policy of a stack, named `<Resource>/<part>`, JSON text parsed."""
    documents = {}
    for name, props in stack.resources("AWS::IAM::Role").items():
        documents[f"{name}/trust"] = _document(props["AssumeRolePolicyDocument"])
        for policy in props.get("Policies", []):
            documents[f"{name}/{policy['PolicyName']}"] = _document(policy["PolicyDocument"])
    for name, props in stack.resources("AWS::Events::EventBusPolicy").items():
        documents[f"{name}/bus"] = {"Statement": [props["Statement"]]}
    return documents


def _document(document: Any) -> dict:
    return json.loads(document) if isinstance(document, str) else document


def statements(document: dict) -> list[dict]:
    found = document["Statement"]
    return found if isinstance(found, list) else [found]


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]
