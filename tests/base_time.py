"""The instant the suite runs at: never a date that will pass.

`NOW` is a Sunday, 10:00 in Delft, one to two weeks after today, in a month without a
daylight-saving change nearby (so "72 hours before" keeps its local hour in every test). Setting
`SNIPE_TEST_SHIFT_DAYS` moves it that many days further, e.g. 365 to run the whole suite a year
ahead. Code under test never reads the machine's clock; tests hand it `NOW` (or a sandbox clock
set from it).
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

DELFT = ZoneInfo("Europe/Amsterdam")
SHIFT_ENV = "SNIPE_TEST_SHIFT_DAYS"


def _calm(day: date) -> bool:
    """No daylight-saving change within two weeks of `day`."""
    offsets = {datetime(d.year, d.month, d.day, 12, tzinfo=DELFT).utcoffset()
               for d in (day + timedelta(days=i) for i in range(-14, 15))}
    return len(offsets) == 1


def base_day(today: date | None = None, shift_days: int | None = None) -> date:
    if shift_days is None:
        shift_days = int(os.environ.get(SHIFT_ENV, "0") or 0)
    day = (today or date.today()) + timedelta(days=7 + shift_days)
    day += timedelta(days=(6 - day.weekday()) % 7)
    while not _calm(day):
        day += timedelta(days=7)
    return day


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=DELFT)


SUNDAY = base_day()
NOW = local(SUNDAY, 10).astimezone(UTC)  # Sunday 10:00 in Delft
MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY, SATURDAY = (
    SUNDAY + timedelta(days=n) for n in range(1, 7))
MONDAY_NOON = local(MONDAY, 12).astimezone(UTC)
TUESDAY_NOON = local(TUESDAY, 12).astimezone(UTC)
THURSDAY_13H = local(THURSDAY, 13).astimezone(UTC)
