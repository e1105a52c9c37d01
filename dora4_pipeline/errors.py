"""The one error type a user sees as a single line: it names what to fix."""


class ConfigError(Exception):
    """Configuration or environment the pipeline cannot work with (bucket, folder, date, key)."""
