"""Resource tags and CodeDeploy deployment groups: the AWS APIs, or a static file.

Tags come from the Resource Groups Tagging API (GetResources, one call per page; Lambda
functions and ECS services only). Untagged resources are not returned by the API: their
deployments stay `unassigned`. With a role template the API is read in every account
through the role assumed there (resources/aws_accounts.py); an account whose role cannot
be assumed is reported and skipped, the others still resolve.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import botocore.exceptions
import dagster as dg

from dora4_pipeline.errors import ConfigError, ServiceError
from dora4_pipeline.resources.aws_accounts import AccountSessions, AccountUnreachable, error_code
from dora4_pipeline.resources.network import AwsNetwork

RESOURCE_TYPES = ["lambda:function", "ecs:service"]
# A tags file may also hold the deployment groups CodeDeploy would answer with, keyed by
# the group's ARN: {"computePlatform": "ECS", "ecsServices": [{"clusterName", "serviceName"}]}
GROUP_ARN = re.compile(r"^arn:[^:]+:codedeploy:([^:]+):(\d+):deploymentgroup:([^/]+)/(.+)$")


@dataclass
class TagSnapshot:
    tags: dict[str, dict[str, str]] = field(default_factory=dict)
    unreachable: list[AccountUnreachable] = field(default_factory=list)


class TaggingResource(dg.ConfigurableResource):
    """DORA4_TAGS_FILE when set, else the AWS APIs in each of `regions` (default: boto3's).

    `role_arn_template` (DORA4_TAG_ROLE_ARN) with `{account}`: read every account seen in
    the events plus `accounts` (DORA4_TAG_ACCOUNTS) through that role.
    """

    tags_file: str | None = None
    regions: list[str] = []
    role_arn_template: str | None = None
    accounts: list[str] = []
    network: AwsNetwork = AwsNetwork()

    def check(self) -> None:
        """Fails early, in one line, when neither a tags file nor AWS credentials are there."""
        if self.tags_file:
            read_tags_file(Path(self.tags_file))
        elif boto3.session.Session().get_credentials() is None:
            raise ConfigError(
                "no AWS credentials for the Tagging API: set AWS_PROFILE or AWS keys, "
                "or point DORA4_TAGS_FILE at a tags file"
            )

    def sessions(self) -> AccountSessions:
        """Sessions for one run: each account's role is assumed at most once."""
        return AccountSessions(self.role_arn_template, self.network)

    def snapshot(
        self, seen_accounts: Sequence[str] = (), sessions: AccountSessions | None = None
    ) -> TagSnapshot:
        """{resource ARN: {tag key: value}} as the source says now, and who could not answer."""
        if self.tags_file:
            return TagSnapshot(read_tags_file(Path(self.tags_file)))
        sessions = sessions or self.sessions()
        accounts: list[str | None] = [None]
        if self.role_arn_template:
            accounts = sorted({*seen_accounts, *self.accounts})
        found = TagSnapshot()
        for account in accounts:
            try:
                for region in self.regions or [None]:
                    found.tags.update(_from_api(sessions, account, region))
            except AccountUnreachable as unreachable:
                found.unreachable.append(unreachable)
            except botocore.exceptions.ClientError as error:
                if account is None:
                    raise ConfigError(
                        f"the Tagging API refused GetResources ({error_code(error)}): grant "
                        "tag:GetResources, or set DORA4_TAGS_FILE"
                    ) from None
                refused = sessions.unreachable(account, error_code(error), "tag:GetResources")
                found.unreachable.append(refused)
        return found

    def deployment_groups(self) -> dict[tuple[str, str, str, str], dict]:
        """From the tags file only: (account, region, application, group) → group info."""
        if not self.tags_file:
            return {}
        return read_deployment_groups(Path(self.tags_file))


def _from_api(
    sessions: AccountSessions, account: str | None, region: str | None
) -> dict[str, dict[str, str]]:
    api = sessions.client(account, "resourcegroupstaggingapi", region)
    tags: dict[str, dict[str, str]] = {}
    token = ""
    try:
        while True:
            page = api.get_resources(
                ResourceTypeFilters=RESOURCE_TYPES, ResourcesPerPage=100, PaginationToken=token
            )
            for mapping in page.get("ResourceTagMappingList", []):
                tags[mapping["ResourceARN"]] = {t["Key"]: t["Value"] for t in mapping["Tags"]}
            token = page.get("PaginationToken") or ""
            if not token:  # empty or null both end the listing
                return tags
    except botocore.exceptions.NoCredentialsError:
        raise ConfigError(
            "no AWS credentials for the Tagging API: set AWS_PROFILE or AWS keys, "
            "or set DORA4_TAGS_FILE"
        ) from None
    except botocore.exceptions.NoRegionError:
        raise ConfigError("the Tagging API needs a region: set AWS_DEFAULT_REGION") from None
    except (botocore.exceptions.ConnectionError, botocore.exceptions.HTTPClientError) as error:
        raise ServiceError(
            f"the Tagging API at {api.meta.endpoint_url} did not answer GetResources "
            f"({type(error).__name__}) on any attempt; run again later, or set DORA4_TAGS_FILE"
        ) from None
    except botocore.exceptions.ClientError as error:
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        if status >= 500 or error_code(error) in ("ThrottlingException", "Throttling"):
            raise ServiceError(
                f"the Tagging API at {api.meta.endpoint_url} failed GetResources after its "
                f"retries ({status} {error_code(error)}); run again later"
            ) from None
        raise  # refused: the caller says whose account and role


def _load(path: Path) -> object:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"DORA4_TAGS_FILE: '{path}' does not exist") from None
    except (OSError, ValueError) as error:
        raise ConfigError(f"DORA4_TAGS_FILE: '{path}' is not readable JSON ({error})") from None


def read_tags_file(path: Path) -> dict[str, dict[str, str]]:
    """{"<arn>": {"Key": "Value"}}, or a saved GetResources response (ResourceTagMappingList).

    Entries keyed by a CodeDeploy deployment group ARN are groups, not tags (skipped here).
    """
    raw = _load(path)
    if isinstance(raw, dict) and "ResourceTagMappingList" in raw:
        return {
            m["ResourceARN"]: {t["Key"]: t["Value"] for t in m.get("Tags", [])}
            for m in raw["ResourceTagMappingList"]
        }
    if isinstance(raw, dict) and all(isinstance(v, dict) for v in raw.values()):
        return {
            arn: {str(k): str(v) for k, v in tags.items()}
            for arn, tags in raw.items()
            if not GROUP_ARN.match(arn)
        }
    raise ConfigError(
        f'DORA4_TAGS_FILE: \'{path}\' must map ARNs to tags: {{"arn:...": {{"Ownership.BA": "x"}}}}'
    )


def read_deployment_groups(path: Path) -> dict[tuple[str, str, str, str], dict]:
    raw = _load(path)
    groups = {}
    for arn, info in raw.items() if isinstance(raw, dict) else []:
        match = GROUP_ARN.match(arn)
        if match and isinstance(info, dict):
            region, account, application, group = match.groups()
            groups[(account, region, application, group)] = info
    return groups
