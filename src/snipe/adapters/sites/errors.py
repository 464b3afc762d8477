"""What can go wrong at a booking site, as our own error types, each with a one-line message.

A site answers refusals either coded (`status + {"code", "message"}`) or in NestJS's default
body (`{"statusCode", "message", "error"}`, the message a string or a list). Both are read by
status and words: the profile's refusal terms (`terms.SiteTerms`) name which code or wording
means what, and the mapping below turns it into a type the engine can act on: retry
(`TransientError`), give up (`PermanentError`), re-login (`AuthExpired`), or investigate
(`SiteChanged`, with artifacts).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from snipe.adapters.sites.budget import BudgetExhausted
from snipe.errors import NotFoundError, PermanentError, TransientError

__all__ = ["BudgetExhausted"]  # re-exported: the engine imports every site error from here


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


class AlreadyBooked(LimitReached):
    """The account already holds this very slot (the driver then reads it back as won)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, rule="slot")


class Waitlisted(SlotFull):
    """The slot was full and the site put the account on its waitlist (`201` with the waitlist
    status): not a booking. `participation_id` is the entry (cancel it with it); `cancelled`
    says whether the driver already did."""

    def __init__(self, message: str, participation_id: int | None, cancelled: bool = False
                 ) -> None:
        super().__init__(message)
        self.participation_id = participation_id
        self.cancelled = cancelled


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


def retry_after_seconds(value: str | None, date: str | None = None) -> float | None:
    """`Retry-After` as seconds: either a number or an HTTP date, counted from the answer's own
    `Date` (`date`; None without it: the caller's default wait applies)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when, sent = parsedate_to_datetime(value), parsedate_to_datetime(date or "")
        return max(0.0, (when - sent).total_seconds())
    except (TypeError, ValueError):
        return None


def parse_refusal(body: bytes | str) -> tuple[str, str] | None:
    """`(code, message)` of a JSON refusal body, or None when it is not one.

    Coded bodies give a `code`; NestJS bodies give no code (their `error` is the HTTP reason,
    e.g. "Forbidden") and a `message` that may be a list (validation failures): it is joined.
    """
    try:
        data = json.loads(body)
    except (ValueError, TypeError):
        return None
    if not isinstance(data, dict):
        return None
    code = data.get("code") or ""
    message = data.get("message") or data.get("detail") or data.get("error") or ""
    if not isinstance(code, str):
        code = str(code)
    if isinstance(message, list):
        message = "; ".join(str(m) for m in message)
    elif not isinstance(message, str):
        message = json.dumps(message)[:200]
    return code, message


def _terms(terms: Any) -> Any:
    if terms is None:
        from snipe.adapters.sites.terms import SiteTerms

        return SiteTerms()
    return terms


def refusal_error(
    status: int,
    body: bytes | str,
    headers: Mapping[str, str] | None = None,
    *,
    account: str = "",
    action: str = "request",
    terms: Any = None,
) -> Exception | None:
    """The error for a non-success answer, or None when the answer is not a known refusal.

    None means "unexpected": the caller saves artifacts and raises `SiteChanged` (or falls back
    to the page when booking). `terms` (a `SiteTerms`) names the codes and wordings; the
    built-in defaults when not given.
    """
    headers = headers or {}
    who = f" for {account}" if account else ""
    refusal = parse_refusal(body)
    code, detail = refusal if refusal else ("", "")
    if status == 429:
        after = retry_after_seconds(headers.get("retry-after") or headers.get("Retry-After"),
                                    headers.get("date") or headers.get("Date"))
        wait = f", retry after {after:g}s" if after is not None else ""
        return RateLimited(f"site rate-limited the {action}{who}{wait}", retry_after=after)
    if status >= 500:
        return SiteUnavailable(f"site answered {status} to the {action}{who}")
    category = _terms(terms).category(code, detail) if refusal is not None else None
    if status == 401:
        if category == "bad_login":
            return LoginFailed(f"wrong NetID/email or password for {account or 'the account'}",
                               account=account)
        return AuthExpired(f"session{who} expired or was refused ({code or status}); log in again")
    # A 400 is a request the site could not read: ours is out of date, whatever it says.
    if status not in (403, 404, 409, 410, 422) or category in (None, "auth", "bad_login"):
        return None
    return typed_refusal(category, f"{action}{who} refused", detail)


def typed_refusal(category: str, prefix: str, detail: str) -> Exception:
    said = f" ({detail[:160]})" if detail else ""
    if category == "not_open":
        return SlotNotOpen(f"{prefix}: slot is not open for booking yet{said}")
    if category == "started":
        return SlotStarted(f"{prefix}: slot has already started{said}")
    if category == "full":
        return SlotFull(f"{prefix}: slot is full{said}")
    if category == "held":
        return AlreadyBooked(f"{prefix}: account already holds this slot{said}")
    if category in ("limit_hour", "limit_location", "limit"):
        rule = category.removeprefix("limit").lstrip("_")
        text = {"hour": "account already holds a booking in that hour that day",
                "location": "account already holds a booking at that location that day",
                "": "account has reached a booking limit"}[rule]
        return LimitReached(f"{prefix}: {text}{said}", rule=rule)
    if category == "not_found":
        return BookingNotFound(f"{prefix}: site does not know that booking{said}")
    return BookingRefused(f"{prefix}: not allowed{said}")
