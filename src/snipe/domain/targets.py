"""What the user wants: a block of N consecutive hours, where and when, in priority order."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from snipe.domain.scoring import ClockRange, Preferences
from snipe.domain.slots import TimeWindow, slot_start

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
FALLBACK_ALL_OR_NOTHING = ("all_or_nothing", "none")
# Insurance is a booking at a longer-window location (Fitness, 168 h) taken before the primary
# unlocks. `yield`: it gives way just before a primary strike that can use its account; `keep`:
# it stays, and its account sits out the parallel attempts of that hour; `off`: it is not taken,
# and the location is booked as a plain slot once the better ones have failed.
YIELD, KEEP, OFF = "yield", "keep", "off"
INSURANCE_POLICIES = (YIELD, KEEP, OFF)
# `off` by default, from `snipe simulate --insurance ...` on the seed's example (0 to 4 peers,
# medium and extreme contention elsewhere, 1,000 runs a cell). With every account firing at each
# primary unlock, an insurance that yields is given up at its own hour's strike, and a Fitness
# hour given up has usually filled by the time the fallback needs it: `yield` ended with nothing
# as often as `off` (4.3% and 4.5% against 4 peers under extreme contention, at most 0.4%
# elsewhere) and won as many full blocks, but released 1.9 to 2.6 times as many bookings per
# target. `keep` never ended with nothing, but its account sits out the primary's parallel
# attempts (21.9% full blocks against 4 peers under extreme contention, `off` 25.9%): the choice
# of a target that must never end empty.
DEFAULT_INSURANCE = OFF
# A full slot may put the account on the site's waitlist (a `201` that is not a booking). `cancel`
# leaves the waitlist at once: an entry promoted later would be a booking the plan never chose.
# `keep` stays on it (the entry is reported, never counted as won).
WAITLIST_CANCEL, WAITLIST_KEEP = "cancel", "keep"
WAITLIST_POLICIES = (WAITLIST_CANCEL, WAITLIST_KEEP)
# A target won on a lower-ranked or shorter block keeps watching for a better one and swaps when
# a whole better block is held (domain/upgrade.py); `False` keeps the first block won.
DEFAULT_UPGRADE = True
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
    insurance: str = DEFAULT_INSURANCE
    waitlist: str = WAITLIST_CANCEL
    upgrade: bool = DEFAULT_UPGRADE

    def __post_init__(self) -> None:
        if self.insurance not in INSURANCE_POLICIES:
            raise ValueError(f"unknown insurance policy {self.insurance!r} "
                             f"(use {', '.join(INSURANCE_POLICIES)})")
        if self.waitlist not in WAITLIST_POLICIES:
            raise ValueError(f"unknown waitlist policy {self.waitlist!r} "
                             f"(use {', '.join(WAITLIST_POLICIES)})")

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


def target_to_dict(target: Target) -> dict[str, Any]:
    prefs = target.preferences
    return {
        "name": target.name,
        "days": [d.isoformat() for d in target.days],
        "length": target.length,
        "window": [target.window.start_hour, target.window.end_hour],
        "priorities": [
            {"rank": p.rank, "location": p.location, "sub_locations": list(p.sub_locations),
             "max_accounts": p.max_accounts}
            for p in target.priorities
        ],
        "min_length": target.min_length,
        "accounts": list(target.accounts),
        "preferences": None if prefs is None else {
            "range_start": prefs.range_start.isoformat(),
            "range_end": prefs.range_end.isoformat(),
            "preferred_times": [str(r) for r in prefs.preferred_times],
            "avoid_times": [str(r) for r in prefs.avoid_times],
            "allow_weekends": prefs.allow_weekends,
            "allow_evenings": prefs.allow_evenings,
        },
        "repeat": target.repeat,
        "fallback_strategy": target.fallback_strategy,
        "extra": dict(target.extra),
        "insurance": target.insurance,
        "waitlist": target.waitlist,
        "upgrade": target.upgrade,
    }


def target_from_dict(data: dict[str, Any]) -> Target:
    prefs = data.get("preferences")
    return Target(
        name=data["name"],
        days=tuple(date.fromisoformat(d) for d in data["days"]),
        length=int(data["length"]),
        window=TimeWindow(int(data["window"][0]), int(data["window"][1])),
        priorities=tuple(
            Priority(int(p["rank"]), p["location"], tuple(p.get("sub_locations", ())),
                     int(p["max_accounts"]))
            for p in data["priorities"]
        ),
        min_length=int(data["min_length"]),
        accounts=tuple(data.get("accounts", ())),
        preferences=None if prefs is None else Preferences(
            range_start=date.fromisoformat(prefs["range_start"]),
            range_end=date.fromisoformat(prefs["range_end"]),
            preferred_times=tuple(ClockRange.parse(t) for t in prefs.get("preferred_times", ())),
            avoid_times=tuple(ClockRange.parse(t) for t in prefs.get("avoid_times", ())),
            allow_weekends=bool(prefs.get("allow_weekends", True)),
            allow_evenings=bool(prefs.get("allow_evenings", True)),
        ),
        repeat=data.get("repeat"),
        fallback_strategy=data.get("fallback_strategy", "all_or_nothing"),
        extra=dict(data.get("extra", {})),
        insurance=data.get("insurance", DEFAULT_INSURANCE),
        waitlist=data.get("waitlist", WAITLIST_CANCEL),
        upgrade=bool(data.get("upgrade", DEFAULT_UPGRADE)),
    )
