"""What an attempt came to, in the planner's words, with its real cause: the one mapping from
the site's errors to results, used by every path that books."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from snipe.adapters.sites.budget import BudgetExhausted
from snipe.adapters.sites.errors import (
    LimitReached,
    LoginFailed,
    SiteChanged,
    SiteUnavailable,
    SlotFull,
    SlotNotOpen,
    SlotStarted,
)
from snipe.domain.ledger import ERROR, FULL, LIMIT, NOT_OPEN, UNREAD, WON, Attempt, Outcome
from snipe.errors import TransientError


@dataclass
class AttemptResult:
    attempt: Attempt
    result: str
    ref: str | None = None
    latency_ms: float = 0.0
    message: str | None = None
    claim: int | None = None  # the local booking row claimed for it
    in_doubt: bool = False  # the site may hold it: the next reconciliation finds out
    sub_location: str | None = None  # where it landed, when the site says
    error: BaseException | None = field(default=None, repr=False, compare=False)  # what failed

    @property
    def outcome(self) -> Outcome:
        return Outcome(self.attempt, self.result, self.ref if self.result == WON else None)

    @property
    def won(self) -> bool:
        return self.result == WON


def result_of(exc: BaseException) -> tuple[str, bool]:
    """(the planner's result, whether the booking may have landed anyway)."""
    if isinstance(exc, BudgetExhausted):
        # The watch stopped at the fair-use bound: what it last met decides (a slot still
        # absent is not open; a POST it could not confirm may have landed).
        return result_of(exc.last_error) if exc.last_error is not None else (NOT_OPEN, False)
    if isinstance(exc, (SlotFull, SlotStarted)):
        return FULL, False
    if isinstance(exc, LimitReached):
        return LIMIT, False
    if isinstance(exc, SlotNotOpen):
        return NOT_OPEN, False
    if isinstance(exc, LoginFailed):
        return ERROR, False
    # A timeout, a 5xx, a dropped connection or an answer we could not read: the POST may have
    # reached the site. Never assume it failed.
    return ERROR, isinstance(exc, (SiteUnavailable, SiteChanged, TransientError))


def cause_of(exc: BaseException) -> str:
    """The real cause in a few words, for the log and the strike's record."""
    if isinstance(exc, LoginFailed):
        return f"login refused: {exc}"
    if isinstance(exc, SiteUnavailable):
        return f"site unreachable: {exc}"
    if isinstance(exc, SiteChanged):
        return f"site answered something unexpected: {exc}"
    if isinstance(exc, TransientError):
        return f"site busy: {exc}"
    return str(exc)


def failed(attempt: Attempt, exc: BaseException, elapsed_ms: float,
           claim: int | None = None) -> AttemptResult:
    result, doubt = result_of(exc)
    return AttemptResult(attempt, result, None, elapsed_ms, cause_of(exc), claim, doubt,
                         error=exc)


def won(attempt: Attempt, booked: Any, elapsed_ms: float, claim: int | None) -> AttemptResult:
    ref = str(booked.id) if getattr(booked, "id", None) is not None else None
    return AttemptResult(attempt, WON, ref or f"{UNREAD}{claim}", elapsed_ms, None, claim,
                         ref is None, getattr(booked, "sub_location", None))
