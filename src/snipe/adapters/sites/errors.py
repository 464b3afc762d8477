"""What can go wrong at a booking site, as our own error types, each with a one-line message.

The site answers refusals as `status + {"code", "message"}` (see the sandbox API contract); the
mapping below turns them into types the engine can act on: retry (`TransientError`), give up
(`PermanentError`), re-login (`AuthExpired`), or investigate (`SiteChanged`, with artifacts).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from snipe.errors import NotFoundError, PermanentError, TransientError


class SlotNotOpen(TransientError):
    """The slot has not unlocked yet (absent from the list, or refused as `not_open_yet`)."""


class SlotFull(PermanentError):
    """Someone else holds the slot (capacity reached)."""


class SlotStarted(PermanentError):
    """The slot has already started."""


class LimitReached(PermanentError):
    """The account already holds a booking in that hour, or at that location, that day."""

    def __init__(self, message: str, rule: str = "") -> None:
        super().__init__(message)
        self.rule = rule  # "hour", "location" or "" when the site does not say


class AuthExpired(PermanentError):
    """The session token is expired or unknown: log in again."""


class BookingRefused(PermanentError):
    """The site refused a booking for a reason it did not name in a way we know."""


class LoginFailed(PermanentError):
    """The site refused the account's credentials. Never retried automatically."""

    def __init__(self, message: str, account: str) -> None:
        super().__init__(message)
        self.account = account


class RateLimited(TransientError):
    """The site asked us to slow down; `retry_after` (seconds) says for how long."""


class SiteUnavailable(TransientError):
    """Network failure, timeout or a 5xx answer."""


class SiteChanged(PermanentError):
    """The site answered in a way we do not understand: a missing selector, an unknown body.

    `artifacts` is the directory holding what we saw (screenshot, page HTML, response body).
    """

    def __init__(self, message: str, artifacts: Path | None = None) -> None:
        if artifacts is not None and str(artifacts) not in message:
            message = f"{message} (saved to {artifacts})"
        super().__init__(message)
        self.artifacts = artifacts


class BookingNotFound(NotFoundError):
    """The booking (participation) or slot id is unknown to the site, or not this account's."""


def retry_after_seconds(value: str | None) -> float | None:
    """`Retry-After` as seconds: either a number or an HTTP date (relative to its own Date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        from datetime import UTC, datetime

        when = parsedate_to_datetime(value)
        return max(0.0, (when - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError):
        return None


def parse_refusal(body: bytes | str) -> tuple[str, str] | None:
    """`(code, message)` of a JSON refusal body, or None when it is not one."""
    try:
        data = json.loads(body)
    except (ValueError, TypeError):
        return None
    if not isinstance(data, dict):
        return None
    code = data.get("code") or data.get("error") or ""
    message = data.get("message") or data.get("detail") or ""
    if not isinstance(code, str):
        code = str(code)
    if not isinstance(message, str):
        message = json.dumps(message)[:200]
    return code, message


def refusal_error(
    status: int,
    body: bytes | str,
    headers: Mapping[str, str] | None = None,
    *,
    account: str = "",
    action: str = "request",
) -> Exception | None:
    """The error for a non-success answer, or None when the answer is not a known refusal.

    None means "unexpected": the caller saves artifacts and raises `SiteChanged` (or falls back
    to the page when booking).
    """
    headers = headers or {}
    who = f" for {account}" if account else ""
    refusal = parse_refusal(body)
    code, detail = refusal if refusal else ("", "")
    detail = f": {detail}" if detail else ""
    if status == 429:
        after = retry_after_seconds(headers.get("retry-after") or headers.get("Retry-After"))
        wait = f", retry after {after:g}s" if after is not None else ""
        return RateLimited(f"site rate-limited the {action}{who}{wait}", retry_after=after)
    if status >= 500:
        return SiteUnavailable(f"site answered {status} to the {action}{who}")
    if status == 401:
        if code == "invalid_credentials":
            return LoginFailed(f"wrong NetID/email or password for {account or 'the account'}",
                               account=account)
        return AuthExpired(f"session{who} expired or was refused ({code or status}); log in again")
    known: dict[str, Any] = {
        "not_open_yet": (SlotNotOpen, "slot is not open for booking yet"),
        "slot_started": (SlotStarted, "slot has already started"),
        "full": (SlotFull, "slot is full"),
        "limit_hour": (LimitReached, "account already holds a booking in that hour that day"),
        "limit_location": (LimitReached,
                           "account already holds a booking at that location that day"),
        "not_found": (BookingNotFound, "site does not know that booking"),
    }
    if code in known:
        kind, text = known[code]
        message = f"{action}{who} refused: {text}"
        if kind is LimitReached:
            return LimitReached(message, rule=code.removeprefix("limit_"))
        return kind(message)
    if status == 404 and refusal is not None:
        return BookingNotFound(f"{action}{who} refused: site does not know that id{detail}")
    return None
