"""Resource tags: the Resource Groups Tagging API (GetResources), or a static file.

One call per page; Lambda functions and ECS services only. Untagged resources are not
returned by the API: their deployments stay `unassigned`.
"""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import botocore.exceptions
import dagster as dg

from dora4_pipeline.errors import ConfigError, ServiceError
from dora4_pipeline.resources.network import AwsNetwork

RESOURCE_TYPES = ["lambda:function", "ecs:service"]


class TaggingResource(dg.ConfigurableResource):
    """DORA4_TAGS_FILE when set, else the Tagging API in each of `regions` (default: boto3's)."""

    tags_file: str | None = None
    regions: list[str] = []
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

    def snapshot(self) -> dict[str, dict[str, str]]:
        """{resource ARN: {tag key: value}} as the source says now."""
        if self.tags_file:
            return read_tags_file(Path(self.tags_file))
        tags: dict[str, dict[str, str]] = {}
        for region in self.regions or [None]:
            tags.update(self._from_api(region))
        return tags

    def _from_api(self, region: str | None) -> dict[str, dict[str, str]]:
        client = self.network.client("resourcegroupstaggingapi", region)
        tags: dict[str, dict[str, str]] = {}
        token = ""
        try:
            while True:
                page = client.get_resources(
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
        except (
            botocore.exceptions.ConnectionError,
            botocore.exceptions.HTTPClientError,
        ) as error:
            raise ServiceError(
                f"the Tagging API at {client.meta.endpoint_url} did not answer GetResources "
                f"({type(error).__name__}) on any attempt; run again later, or set "
                "DORA4_TAGS_FILE"
            ) from None
        except botocore.exceptions.ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
            if status >= 500 or code in ("ThrottlingException", "Throttling"):
                raise ServiceError(
                    f"the Tagging API at {client.meta.endpoint_url} failed GetResources after "
                    f"its retries ({status} {code}); run again later"
                ) from None
            raise ConfigError(
                f"the Tagging API refused GetResources ({code}): grant tag:GetResources, "
                "or set DORA4_TAGS_FILE"
            ) from None


def read_tags_file(path: Path) -> dict[str, dict[str, str]]:
    """{"<arn>": {"Key": "Value"}}, or a saved GetResources response (ResourceTagMappingList)."""
    try:
        raw = json.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"DORA4_TAGS_FILE: '{path}' does not exist") from None
    except (OSError, ValueError) as error:
        raise ConfigError(f"DORA4_TAGS_FILE: '{path}' is not readable JSON ({error})") from None
    if isinstance(raw, dict) and "ResourceTagMappingList" in raw:
        return {
            m["ResourceARN"]: {t["Key"]: t["Value"] for t in m.get("Tags", [])}
            for m in raw["ResourceTagMappingList"]
        }
    if isinstance(raw, dict) and all(isinstance(v, dict) for v in raw.values()):
        return {arn: {str(k): str(v) for k, v in tags.items()} for arn, tags in raw.items()}
    raise ConfigError(
        f'DORA4_TAGS_FILE: \'{path}\' must map ARNs to tags: {{"arn:...": {{"Ownership.BA": "x"}}}}'
    )
