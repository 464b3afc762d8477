"""The one error hierarchy of snipe (defined with the domain, which raises it too)."""

from snipe.domain.errors import (
    ConfigError,
    NotFoundError,
    PermanentError,
    SecretError,
    SnipeError,
    StoreError,
    TransientError,
    UsageError,
)

__all__ = ["ConfigError", "NotFoundError", "PermanentError", "SecretError", "SnipeError",
           "StoreError", "TransientError", "UsageError"]
