"""How a site writes its times: true UTC, or local wall-clock time with a false `Z`.

Delft's gym slots are true UTC (`15:00:00.000Z` is 17:00 in summer); another deployment of the
same platform served local time with a `Z` for years. A site that does the latter also reads
every time it is sent that way, so the convention matters both ways. It is told apart by the
hour grid: slots start on whole local hours within the opening hours, so a day's list read the
wrong way shows a slot outside them (the 22:00 slot becomes 23:00, the 07:00 one 06:00).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from snipe.adapters.sites.base import format_instant, parse_instant

UTC_TIMES = "utc"
LOCAL_Z = "local-z"
CONVENTIONS = (UTC_TIMES, LOCAL_Z)


@dataclass(frozen=True)
class Timebase:
    """One convention for a site in a timezone: writes our instants, reads the site's text."""

    convention: str
    tz: ZoneInfo

    @property
    def local_z(self) -> bool:
        return self.convention == LOCAL_Z

    def write(self, instant: datetime) -> str:
        if not self.local_z:
            return format_instant(instant)
        wall = instant.astimezone(self.tz).replace(tzinfo=UTC)
        return format_instant(wall)

    def read(self, text: str) -> datetime:
        """An aware UTC instant."""
        parsed = parse_instant(text)
        if not self.local_z:
            return parsed
        return parsed.replace(tzinfo=self.tz).astimezone(UTC)


def _fits(instant: datetime, first: int, last_end: int) -> bool:
    return instant.minute == 0 and instant.second == 0 and first <= instant.hour < last_end


def detect(starts: Iterable[str], tz: ZoneInfo, first_start: int, last_end: int) -> str | None:
    """The convention the slot start times `starts` are written in, or None when they fit both
    readings (or neither: then they say nothing we can trust)."""
    texts = [t for t in starts if isinstance(t, str)]
    if not texts:
        return None
    try:
        as_utc = all(_fits(parse_instant(t).astimezone(tz), first_start, last_end) for t in texts)
        as_wall = all(_fits(parse_instant(t), first_start, last_end) for t in texts)
    except ValueError:
        return None
    if as_utc != as_wall:
        return UTC_TIMES if as_utc else LOCAL_Z
    return None
