"""AWS sessions per account: the caller's own, or a role assumed in each account.

Organisations archive events from many accounts into one bus, but the Tagging and
CodeDeploy APIs answer for one account only. With a role template
(`arn:aws:iam::{account}:role/dora4-tag-reader`) every account is read through the role
assumed in it; an account whose role cannot be assumed is reported, never fatal, so the
other accounts still resolve.
"""

from __future__ import annotations

import boto3
import botocore.exceptions

from dora4_pipeline.errors import ConfigError
from dora4_pipeline.resources.network import AwsNetwork

SESSION_NAME = "dora4-ownership"


class AccountUnreachable(Exception):
    """The role could not be assumed in an account (or the account refused the call)."""

    def __init__(self, account: str, role_arn: str, code: str, refused: str | None = None) -> None:
        what = (
            f"{role_arn} was assumed but {refused} was refused ({code}); its deployments "
            f"stay unassigned until the role may call {refused}"
            if refused
            else f"cannot assume {role_arn} ({code}); its deployments stay unassigned until "
            "the role exists and trusts the dora4 caller"
        )
        super().__init__(f"account {account}: {what}")
        self.account, self.role_arn, self.code = account, role_arn, code


def role_arn_for(template: str, account: str) -> str:
    """`arn:aws:iam::{account}:role/x` with the account filled in."""
    return template.replace("{account}", account)


class AccountSessions:
    """One boto3 session per account, assumed once per run and reused for every region."""

    def __init__(self, role_template: str | None, network: AwsNetwork | None = None) -> None:
        self.role_template = role_template
        self.network = network or AwsNetwork()  # timeouts and retries of every client
        self._base = boto3.session.Session()
        self._sessions: dict[str, boto3.session.Session | AccountUnreachable] = {}

    def session(self, account: str | None) -> boto3.session.Session:
        """The caller's session without a template; else the role assumed in `account`.

        Raises AccountUnreachable when the role cannot be assumed (cached: asked once).
        """
        if not self.role_template or not account:
            return self._base
        if account not in self._sessions:
            self._sessions[account] = self._assume(account)
        found = self._sessions[account]
        if isinstance(found, AccountUnreachable):
            raise found
        return found

    def _assume(self, account: str) -> boto3.session.Session | AccountUnreachable:
        role_arn = role_arn_for(self.role_template or "", account)
        sts = self.network.client("sts", self._base.region_name, self._base)
        try:
            credentials = sts.assume_role(RoleArn=role_arn, RoleSessionName=SESSION_NAME)[
                "Credentials"
            ]
        except botocore.exceptions.ClientError as error:
            return AccountUnreachable(account, role_arn, error_code(error))
        except botocore.exceptions.ParamValidationError:
            return AccountUnreachable(account, role_arn, "InvalidRoleArn")
        except botocore.exceptions.NoCredentialsError:
            raise ConfigError(
                "no AWS credentials to assume DORA4_TAG_ROLE_ARN: set AWS_PROFILE or AWS "
                "keys, or point DORA4_TAGS_FILE at a tags file"
            ) from None
        return boto3.session.Session(
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
            region_name=self._base.region_name,
        )

    def client(self, account: str | None, service: str, region: str | None):
        """A client of `service` in `account` (its role assumed), with the network's limits."""
        return self.network.client(service, region, self.session(account))

    def unreachable(self, account: str, code: str, refused: str) -> AccountUnreachable:
        """What to report when the assumed role may not call `refused` (other calls may work)."""
        return AccountUnreachable(
            account, role_arn_for(self.role_template or "", account), code, refused
        )


def error_code(error: botocore.exceptions.ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "") or "ClientError"
