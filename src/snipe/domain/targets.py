"""What the user wants: a block of N consecutive hours, where and when, in priority order."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo

from snipe.domain.scoring import Preferences
from snipe.domain.slots import TimeWindow, slot_start

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
FALLBACK_ALL_OR_NOTHING = ("all_or_nothing", "none")
_ACCEPT = re.compile(r"^accept_(\d+)_consecutive_hours?$")


def fallback_min_length(strategy: str | None, length: int) -> int:
    """The shortest block a `fallback_strategy` accepts; raises ValueError for an unknown one."""
    if strategy is None or strategy in FALLBACK_ALL_OR_NOTHING:
        return length
    match = _ACCEPT.match(strategy)
    if not match:
        raise ValueError(
            f"unknown fallback_strategy {strategy!r} "
            "(use 'all_or_nothing' or 'accept_K_consecutive_hours')"
        )
    k = int(match.group(1))
    if not 1 <= k <= length:
        raise ValueError(f"{strategy!r} accepts {k} hours but the block has {length}")
    return k


@dataclass(frozen=True)
class Priority:
    rank: int
    location: str
    sub_locations: tuple[str, ...]
    max_accounts: int


@dataclass(frozen=True)
class Target:
    name: str
    days: tuple[date, ...]
    length: int
    window: TimeWindow
    priorities: tuple[Priority, ...]
    min_length: int
    accounts: tuple[str, ...] = ()
    preferences: Preferences | None = None
    repeat: str | None = None
    fallback_strategy: str = "all_or_nothing"
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def flexible(self) -> bool:
        return self.preferences is not None

    def accepts(self, length: int) -> bool:
        return self.min_length <= length <= self.length

    def ranked(self) -> tuple[Priority, ...]:
        return tuple(sorted(self.priorities, key=lambda p: p.rank))


def next_weekday(name: str, today: date) -> date:
    """The next day called `name`, today included."""
    wanted = WEEKDAYS.index(name.casefold())
    return today + timedelta(days=(wanted - today.weekday()) % 7)


def window_end(day: date, window: TimeWindow, tz: tzinfo) -> datetime:
    return slot_start(day, window.end_hour, tz) if window.end_hour < 24 else slot_start(
        day + timedelta(days=1), 0, tz
    )


def roll_weekly(day: date, window: TimeWindow, tz: tzinfo, now: datetime) -> date:
    """The first weekly occurrence of `day` whose window has not started yet."""
    while slot_start(day, window.start_hour, tz) <= now:
        day += timedelta(days=7)
    return day
