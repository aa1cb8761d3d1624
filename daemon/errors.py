"""The exception tree of burnin.

    BurninError
    ├── ConfigError          bad config: file, key path, problem; exit 78
    ├── RootMissingError     the observed root does not exist; `check` exits 3
    ├── AlreadyRunningError  another daemon holds the runtime folder
    └── DeliveryError        a channel could not deliver
        ├── RetryableDeliveryError   5xx, timeout, connection refused: try again later
        └── PermanentDeliveryError   4xx, bad address: retrying will not help
"""

from __future__ import annotations


class BurninError(Exception):
    """Base of every error burnin raises on purpose."""


class ConfigError(BurninError):
    """The configuration is invalid; the message names file, key path and problem."""

    def __init__(self, file: str, key: str, problem: str) -> None:
        self.file = file
        self.key = key
        self.problem = problem
        where = f"{file}: {key}" if key else file
        super().__init__(f"config error: {where}: {problem}")


class RootMissingError(BurninError):
    """The observed root folder does not exist or is not a folder."""


class AlreadyRunningError(BurninError):
    """Another burnin daemon already uses this runtime folder."""


class DeliveryError(BurninError):
    """A channel failed to deliver a notification."""

    retry_after_s: float | None = None


class RetryableDeliveryError(DeliveryError):
    """A delivery failure that may succeed later (5xx, timeout, refused)."""

    def __init__(self, message: str, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class PermanentDeliveryError(DeliveryError):
    """A delivery failure that retrying will not fix (4xx, bad address)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status
