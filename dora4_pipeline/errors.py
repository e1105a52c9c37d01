"""The one error type a user sees as a single line: it names what to fix."""


class ConfigError(Exception):
    """Configuration or environment the pipeline cannot work with (bucket, folder, date, key)."""


class ServiceError(Exception):
    """A service (S3, Datadog) failed after its retries: nothing to fix here, run again
    later. The message names the endpoint and what failed."""


class RunFailed(Exception):
    """A step of `dora4 run` failed; the message names the step and its error."""
