"""Plain, JSON-ready views of strikes and bookings shared by schedule, plan and status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo


def iso_utc(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class StrikeView:
    id: int | None
    target: str
    rank: int
    role: str
    location: str
    sub_locations: tuple[str, ...]
    accounts: tuple[str, ...]
    slot_start: datetime
    fire_at: datetime
    state: str
    timezone: str
    result: dict[str, Any] | None = None

    def countdown_s(self, now: datetime) -> float:
        return (self.fire_at - now).total_seconds()

    def to_dict(self, now: datetime) -> dict[str, Any]:
        tz = ZoneInfo(self.timezone)
        out: dict[str, Any] = {}
        if self.id is not None:
            out["id"] = self.id
        out.update(
            target=self.target,
            rank=self.rank,
            role=self.role,
            fire_at=iso_utc(self.fire_at),
            fire_at_local=self.fire_at.astimezone(tz).isoformat(timespec="seconds"),
            countdown_s=round(self.countdown_s(now), 1),
            slot_start=self.slot_start.astimezone(tz).isoformat(timespec="seconds"),
            location=self.location,
            sub_locations=list(self.sub_locations),
            accounts=list(self.accounts),
            state=self.state,
        )
        if self.result is not None:
            out["result"] = self.result
        return out


@dataclass(frozen=True)
class BookingView:
    id: int
    account: str
    location: str
    sub_location: str | None
    slot_start: datetime
    status: str
    reference: str | None
    target: str | None
    timezone: str

    def to_dict(self) -> dict[str, Any]:
        tz = ZoneInfo(self.timezone)
        return {
            "id": self.id,
            "account": self.account,
            "location": self.location,
            "sub_location": self.sub_location,
            "slot_start": self.slot_start.astimezone(tz).isoformat(timespec="seconds"),
            "status": self.status,
            "reference": self.reference,
            "target": self.target,
        }
