"""The project's own exceptions; the HTTP shells map them to status codes."""

from __future__ import annotations


class BlurSdkError(Exception):
    """Base of every error this project raises on purpose."""


class ConfigError(BlurSdkError):
    """A configuration value is invalid; the message names the variable."""


class ModelError(BlurSdkError):
    """A model file is missing or corrupt; the message names the file and the fix."""


class InputError(BlurSdkError):
    """The client sent something invalid; the message names the field and the problem."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class ImageDecodeError(InputError):
    """The image bytes are empty, truncated, corrupt or of an unsupported format."""


class PayloadTooLargeError(InputError):
    """The upload or image exceeds a configured limit (bytes, pixels, dimensions)."""


class FetchError(InputError):
    """An upload_url could not be fetched or was refused by the URL safety rules."""


class UpstreamError(BlurSdkError):
    """The Snapshot service answered with an error or garbage."""


class UpstreamTimeoutError(UpstreamError):
    """The Snapshot service did not answer in time."""


class LicenseError(BlurSdkError):
    """The licence or token was refused or has expired."""


class BusyError(BlurSdkError):
    """The worker already has MAX_IN_FLIGHT requests in progress: refused at once (HTTP 429)."""


class ProcessingTimeoutError(BlurSdkError):
    """A request took longer than the configured processing timeout."""


class QueueUnavailableError(BlurSdkError):
    """The task queue's storage (Redis, SQLite) cannot be reached: nothing was queued (503)."""
