"""The one error hierarchy of snipe.

Every error a user can cause or meet carries a one-line message that names the problem. Whether
a failure is worth retrying is a type (`TransientError`), never a string to parse.
"""

from __future__ import annotations


class SnipeError(Exception):
    """Root of every error snipe raises on purpose."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class PermanentError(SnipeError):
    """Retrying the same thing will fail the same way."""


class TransientError(SnipeError):
    """Retrying later may succeed (network, rate limit, server error)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class UsageError(PermanentError):
    """A command was given an option or argument it cannot take (exit 2, like any usage
    error)."""

    exit_code = 2


class ConfigError(PermanentError):
    """A bookings file (or a profile) is invalid. `problems` lists each one with its JSON path."""

    def __init__(self, message: str, problems: list[tuple[str, str]] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []

    @classmethod
    def of(cls, source: str, problems: list[tuple[str, str]]) -> ConfigError:
        """The problems of one document: a single one said in one line, several listed."""
        if len(problems) == 1:
            [(path, problem)] = problems
            error = cls(f"{source}: {path}: {problem}", problems)
            error.listed = False
            return error
        return cls(f"{source}: {len(problems)} problems", problems)

    listed = True  # whether the problems are to be listed under the message


class NotFoundError(PermanentError):
    """An id or name the user gave does not exist."""


class StoreError(PermanentError):
    """The database cannot be opened or migrated."""


class SecretError(PermanentError):
    """The key file is missing, unreadable or does not decrypt the stored secrets."""
