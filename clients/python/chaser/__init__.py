"""Chaser's Python client: the HTTP API of ``chaser serve`` (standard library only), and ``chaser.django``."""

from .client import DEFAULT_URL, FINAL_STATUSES, Client
from .errors import (
    ApiError,
    AuthenticationError,
    ChaserError,
    ConfigurationError,
    ConflictError,
    ConnectionFailed,
    ConnectionLost,
    ExecutionFailed,
    NotFoundError,
    PayloadTooLargeError,
    RateLimitedError,
    ServiceUnavailableError,
    ValidationError,
    WaitTimeout,
)

__version__ = "0.1.0"

__all__ = [
    "Client",
    "DEFAULT_URL",
    "FINAL_STATUSES",
    "ApiError",
    "AuthenticationError",
    "ChaserError",
    "ConfigurationError",
    "ConflictError",
    "ConnectionFailed",
    "ConnectionLost",
    "ExecutionFailed",
    "NotFoundError",
    "PayloadTooLargeError",
    "RateLimitedError",
    "ServiceUnavailableError",
    "ValidationError",
    "WaitTimeout",
]
