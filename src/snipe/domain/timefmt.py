"""How instants are written for people and for JSON, in one place."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo


def iso_utc(instant: datetime) -> str:
    """`2026-12-03T16:00:00Z`."""
    return instant.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def iso_local(instant: datetime, tz: tzinfo) -> str:
    """`2026-12-03T17:00:00+01:00`: the site's local time, with its offset."""
    return instant.astimezone(tz).isoformat(timespec="seconds")


def slot_label(instant: datetime, tz: tzinfo) -> str:
    """`Thu 03/12 17:00`: a slot as the tables show it, in the site's local time."""
    return f"{instant.astimezone(tz):%a %d/%m %H:%M}"
