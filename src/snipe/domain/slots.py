"""Slots, unlock instants and blocks of consecutive hours.

Slot hours are wall-clock hours in the site's timezone; unlock instants are absolute (UTC): a slot
starting at S unlocks at S - window, so across a daylight-saving change the local unlock hour
differs from the slot's own hour.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any


def slot_start(day: date, hour: int, tz: tzinfo) -> datetime:
    """The aware start of the slot at local `hour` on `day`."""
    return datetime(day.year, day.month, day.day, hour, tzinfo=tz)


def unlock_instant(start: datetime, window: timedelta) -> datetime:
    """When a slot starting at `start` becomes bookable, in UTC (absolute-time arithmetic)."""
    if start.tzinfo is None:
        raise ValueError("slot start must be timezone-aware")
    return start.astimezone(UTC) - window


def local_day_hour(instant: datetime, tz: tzinfo) -> tuple[date, int]:
    local = instant.astimezone(tz)
    return local.date(), local.hour


@dataclass(frozen=True, order=True)
class TimeWindow:
    """Slots that start at or after `start_hour` and end by `end_hour` (local, whole hours)."""

    start_hour: int
    end_hour: int

    @property
    def hours(self) -> range:
        return range(self.start_hour, self.end_hour)

    def __len__(self) -> int:
        return max(0, self.end_hour - self.start_hour)


@dataclass(frozen=True, order=True)
class Block:
    """N consecutive hours at one location on one local day."""

    day: date
    start_hour: int
    length: int
    location: str

    @property
    def hours(self) -> range:
        return range(self.start_hour, self.start_hour + self.length)

    @property
    def end_hour(self) -> int:
        return self.start_hour + self.length

    def describe(self) -> str:
        return f"{self.location} {self.day} {self.start_hour:02d}:00-{self.end_hour:02d}:00"

    def to_dict(self) -> dict[str, Any]:
        return {"location": self.location, "day": self.day.isoformat(),
                "start_hour": self.start_hour, "length": self.length}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Block:
        return cls(date.fromisoformat(data["day"]), int(data["start_hour"]), int(data["length"]),
                   data["location"])


def candidate_blocks(day: date, window: TimeWindow, length: int, location: str) -> list[Block]:
    """Every block of `length` consecutive hours inside `window`, earliest first."""
    if length < 1:
        return []
    last_start = window.end_hour - length
    return [Block(day, h, length, location) for h in range(window.start_hour, last_start + 1)]


def consecutive_runs(hours: set[int]) -> list[range]:
    """Maximal runs of consecutive hours, e.g. {11, 12, 14} -> [11..12, 14..14]."""
    runs: list[range] = []
    for h in sorted(hours):
        if runs and runs[-1].stop == h:
            runs[-1] = range(runs[-1].start, h + 1)
        else:
            runs.append(range(h, h + 1))
    return runs
