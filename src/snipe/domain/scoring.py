"""The W_C score: how well a candidate block matches a user's preferences (higher is better).

Components, as in the original booking system: date match (0-50, linear decay from the start of
the preferred date range), time of day (40 inside a preferred time, -50 penalty when touching an
avoided time, 20 otherwise) and a weekend/evening bonus (0-10). A negative total asks the user
to confirm.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time


@dataclass(frozen=True)
class ClockRange:
    """A local time-of-day range such as 10:00-12:00 (end exclusive)."""

    start: time
    end: time

    @classmethod
    def parse(cls, text: str) -> ClockRange:
        try:
            left, right = (part.strip() for part in text.split("-"))
            start, end = time.fromisoformat(left), time.fromisoformat(right)
        except ValueError:
            raise ValueError(f"{text!r} is not a time range like '10:00-12:00'") from None
        if end <= start:
            raise ValueError(f"{text!r} ends before it starts")
        return cls(start, end)

    def minutes(self) -> tuple[int, int]:
        return self.start.hour * 60 + self.start.minute, self.end.hour * 60 + self.end.minute

    def overlaps_hours(self, start_hour: int, end_hour: int) -> bool:
        lo, hi = self.minutes()
        return lo < end_hour * 60 and start_hour * 60 < hi

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


@dataclass(frozen=True)
class Preferences:
    range_start: date
    range_end: date
    preferred_times: tuple[ClockRange, ...] = ()
    avoid_times: tuple[ClockRange, ...] = ()
    allow_weekends: bool = True
    allow_evenings: bool = True


@dataclass(frozen=True)
class WCScore:
    date_match: float
    time_of_day_match: float
    avoid_time_penalty: float
    weekend_evening_bonus: float

    @property
    def total(self) -> float:
        return (
            self.date_match
            + self.time_of_day_match
            + self.avoid_time_penalty
            + self.weekend_evening_bonus
        )

    @property
    def needs_confirmation(self) -> bool:
        return self.total < 0

    def breakdown(self) -> dict[str, float]:
        return {
            "date_match": round(self.date_match, 2),
            "time_of_day_match": self.time_of_day_match,
            "avoid_time_penalty": self.avoid_time_penalty,
            "weekend_evening_bonus": self.weekend_evening_bonus,
            "total": round(self.total, 2),
        }


EVENING = (17, 21)


def date_match(day: date, prefs: Preferences) -> float:
    if not prefs.range_start <= day <= prefs.range_end:
        return 0.0
    total_days = (prefs.range_end - prefs.range_start).days
    if total_days == 0:
        return 50.0
    return 50.0 * (1 - (day - prefs.range_start).days / total_days)


def score_block(day: date, start_hour: int, end_hour: int, prefs: Preferences) -> WCScore:
    """W_C score of the hours [start_hour, end_hour) on `day`."""
    time_match, penalty = 20.0, 0.0
    if any(r.overlaps_hours(start_hour, end_hour) for r in prefs.preferred_times):
        time_match = 40.0
    elif any(r.overlaps_hours(start_hour, end_hour) for r in prefs.avoid_times):
        time_match, penalty = 0.0, -50.0
    bonus = 0.0
    if prefs.allow_weekends and day.weekday() >= 5:
        bonus += 5
    if prefs.allow_evenings and any(EVENING[0] <= h < EVENING[1] for h in range(start_hour, end_hour)):
        bonus += 5
    return WCScore(date_match(day, prefs), time_match, penalty, bonus)
