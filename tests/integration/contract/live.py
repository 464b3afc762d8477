"""Times to aim the live sandboxes at: derived from today, never a date that will pass."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

DELFT = ZoneInfo("Europe/Amsterdam")


def _steady(day: date) -> bool:
    """No daylight-saving change within ten days of `day`."""
    return len({datetime(d.year, d.month, d.day, 12, tzinfo=DELFT).utcoffset()
                for d in (day - timedelta(days=10), day + timedelta(days=10))}) == 1


def base_time(today: date | None = None) -> datetime:
    """10:30 in Delft on a Wednesday some 40 days ahead: off the hour (setting the clock there
    is not itself an unlock), away from a daylight-saving change."""
    day = (today or date.today()) + timedelta(days=40)
    while day.weekday() != 2 or not _steady(day):
        day += timedelta(days=1)
    return datetime(day.year, day.month, day.day, 10, 30, tzinfo=DELFT)


BASE = base_time()


def start_after(instant: datetime, first: int = 7, last_end: int = 23) -> datetime:
    """The first whole-hour slot start after `instant` within the opening hours (UTC)."""
    start = instant.astimezone(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    while not first <= start.astimezone(DELFT).hour < last_end:
        start += timedelta(hours=1)
    return start


def iso_after(text: str, instant: datetime) -> bool:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) >= instant
