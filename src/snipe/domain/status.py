"""The states things pass through, one enum each, and the slot's hour as a type.

They are `StrEnum`s: stored and shown as their plain value (`"confirmed"`), compared as enums.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class BookingStatus(StrEnum):
    PENDING = "pending"  # claimed here, the site's answer not known yet (or in doubt)
    CONFIRMED = "confirmed"  # the site holds it
    FAILED = "failed"  # the attempt lost: nothing held
    RELEASED = "released"  # we cancelled it on purpose (surplus, orphan, insurance, upgrade)
    CANCELLED = "cancelled"  # gone: cancelled by the user, or no longer on the site

    @property
    def active(self) -> bool:
        return self in (BookingStatus.PENDING, BookingStatus.CONFIRMED)


ACTIVE_BOOKINGS = (BookingStatus.PENDING.value, BookingStatus.CONFIRMED.value)


class StrikeStatus(StrEnum):
    SCHEDULED = "scheduled"
    RUNNING = "running"
    WON = "won"
    FAILED = "failed"
    RELEASED = "released"  # won, then given back (a fallback or insurance no longer needed)
    MISSED = "missed"  # its instant passed while no daemon ran
    SKIPPED = "skipped"  # no longer part of the plan
    CANCELLED = "cancelled"  # by the user; the planner leaves the slot alone

    @property
    def waiting(self) -> bool:
        return self in (StrikeStatus.SCHEDULED, StrikeStatus.RUNNING)


UPCOMING_STRIKES = (StrikeStatus.SCHEDULED.value, StrikeStatus.RUNNING.value)


class TargetState(StrEnum):
    ACTIVE = "active"
    WON = "won"
    FAILED = "failed"
    REMOVED = "removed"  # gone from its bookings file


class LogAction(StrEnum):
    """What a booking-log row records."""

    SUCCESS = "success"  # an attempt that booked
    FAILURE = "failure"  # an attempt that did not
    RELEASE = "release"
    CANCEL = "cancel"
    SYNC = "sync"
    ADOPTED = "adopted"  # found on the site after a crash or a doubtful answer


ATTEMPT_ACTIONS = (LogAction.SUCCESS.value, LogAction.FAILURE.value)


@dataclass(frozen=True, order=True)
class SlotHour:
    """A slot's local start hour, written the one way the store and the tables show it."""

    hour: int

    def __post_init__(self) -> None:
        if not 0 <= self.hour <= 23:
            raise ValueError(f"an hour is 0..23, not {self.hour}")

    def __str__(self) -> str:
        return f"{self.hour:02d}:00"

    @classmethod
    def parse(cls, text: str) -> SlotHour:
        """`"13:00"` (or `"13"`) -> SlotHour(13)."""
        head = text.strip().split(":", 1)[0]
        if not head.isdigit():
            raise ValueError(f"{text!r} is not a slot hour like '13:00'")
        return cls(int(head))
