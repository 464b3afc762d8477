"""What the store keeps, as plain values: accounts, targets, strike rows, bookings, releases owed,
log entries. Repositories return these; services never see a table row."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from snipe.domain.status import BookingStatus, SlotHour, StrikeStatus, TargetState


@dataclass(frozen=True)
class AccountRecord:
    netid: str
    site: str
    site_url: str | None
    active: bool
    sealed_password: bytes = field(repr=False, default=b"")
    member_id: int | None = None
    quarantine: str | None = None  # why the account may not be used until the user acts
    created_at: datetime | None = None
    login_flow: str | None = None  # "oidc" or "api"; None: the site's default

    @property
    def usable(self) -> bool:
        return self.active and self.quarantine is None


@dataclass
class TargetRecord:
    """One target as imported from a bookings file, with the planner's memory."""

    id: int | None
    name: str
    site: str
    site_url: str | None
    source: str
    spec: dict[str, Any]
    state: TargetState = TargetState.ACTIVE
    repeat: str | None = None
    target_date: date | None = None
    fingerprint: str = ""
    plan_state: dict[str, Any] | None = None
    decision: dict[str, Any] | None = None
    next_wake: datetime | None = None
    updated_at: datetime | None = None


@dataclass
class StrikeRecord:
    """One slot of a strike: planned (no id yet), waiting, or fired with its outcome."""

    target_id: int | None
    location: str
    slot_start: datetime  # aware
    fire_at: datetime  # UTC: the slot's unlock instant (or when it really fired)
    rank: int
    role: str
    sub_locations: tuple[str, ...] = ()
    accounts: tuple[str, ...] = ()
    status: StrikeStatus = StrikeStatus.SCHEDULED
    id: int | None = None
    result: dict[str, Any] | None = None
    executed_at: datetime | None = None
    created_at: datetime | None = None
    target: str = ""  # the target's name, for views

    @property
    def key(self) -> tuple[datetime, str, datetime]:
        return (self.fire_at, self.location, self.slot_start)


@dataclass(frozen=True)
class BookingRecord:
    id: int
    account: str
    location: str
    sub_location: str | None
    day: date
    hour: SlotHour
    slot_start: datetime
    status: BookingStatus
    reference: str | None = None
    target_id: int | None = None
    strike_id: int | None = None
    target: str | None = None  # the target's name, for views


@dataclass(frozen=True)
class ReleaseRecord:
    """A booking we must give back, kept until the site confirms it is gone."""

    id: int
    booking_id: int
    account: str
    reference: str
    reason: str
    kind: str
    tries: int = 0
    next_try_at: datetime | None = None
    last_error: str | None = None
    target_id: int | None = None
    where: str = ""  # "X1 A 2026-12-03 17:00", for messages


@dataclass(frozen=True)
class LogEntry:
    """A booking-log row: an attempt, a release, a cancel, a sync, an adoption."""

    action: str
    day: date
    hour: SlotHour
    location: str
    sub_location: str | None = None
    account: str | None = None
    message: str | None = None
    elapsed_ms: float | None = None
    strike_id: int | None = None
    at: datetime | None = None
    id: int | None = None

    @property
    def slot_label(self) -> str:
        return f"{self.day} {self.hour}"

    def to_dict(self) -> dict[str, Any]:
        from snipe.domain.timefmt import iso_utc

        return {
            "id": self.id, "timestamp": None if self.at is None else iso_utc(self.at),
            "account": self.account, "action": self.action, "location": self.location,
            "sub_location": self.sub_location, "slot": self.slot_label,
            "message": self.message, "execution_time_ms": self.elapsed_ms,
        }


@dataclass(frozen=True)
class ClockReading:
    """The site's clock as last measured: what status and monitor count down with."""

    site: str
    offset_s: float  # site minus ours, at `measured_at`
    uncertainty_s: float
    measured_at: datetime
