"""The bookings held as an iCalendar feed (RFC 5545), so they land in the user's calendar:
`snipe calendar > bookings.ics` and the web server's `/calendar.ics`.

Times are UTC (`...Z`), so no VTIMEZONE is needed; each event's UID is the booking's own id, so a
calendar that subscribes sees an event updated, never doubled; text is escaped and lines are
folded at 75 octets with CRLF endings, as the RFC asks.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from snipe.services.ports import UnitOfWork
from snipe.services.queries import BookingView, list_bookings

SLOT_LENGTH = timedelta(hours=1)
PRODID = "-//snipe//bookings//EN"
CRLF = "\r\n"


def escape_text(value: str) -> str:
    """TEXT escaping of RFC 5545 §3.3.11: backslash, semicolon, comma and newlines."""
    return (value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n"))


def fold(line: str) -> str:
    """Content lines longer than 75 octets continue on the next line after a space (§3.1),
    never splitting a UTF-8 character."""
    out: list[str] = []
    current, size, limit = "", 0, 75
    for char in line:
        width = len(char.encode())
        if size + width > limit:
            out.append(current)
            current, size, limit = " ", 1, 75
        current += char
        size += width
    out.append(current)
    return CRLF.join(out)


def _stamp(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def event_lines(b: BookingView, now: datetime) -> list[str]:
    where = b.sub_location or b.location
    lines = [
        "BEGIN:VEVENT",
        f"UID:booking-{b.id}@snipe",
        f"DTSTAMP:{_stamp(now)}",
        f"DTSTART:{_stamp(b.slot_start)}",
        f"DTEND:{_stamp(b.slot_start + SLOT_LENGTH)}",
        f"SUMMARY:{escape_text(f'{where} ({b.account})')}",
        f"LOCATION:{escape_text(where)}",
        "DESCRIPTION:" + escape_text(
            f"Booked by snipe for {b.account}" + (f", target {b.target}" if b.target else "")
            + (f"; site reference {b.reference}" if b.reference else "")),
        f"STATUS:{'CONFIRMED' if b.status == 'confirmed' else 'TENTATIVE'}",
        "TRANSP:OPAQUE",
        "END:VEVENT",
    ]
    return lines


def render(bookings: Iterable[BookingView], now: datetime) -> str:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN",
             "METHOD:PUBLISH", "X-WR-CALNAME:snipe bookings"]
    for b in bookings:
        lines += event_lines(b, now)
    lines.append("END:VCALENDAR")
    return CRLF.join(fold(line) for line in lines) + CRLF


def calendar(uow: UnitOfWork, now: datetime, account: str | None = None,
             days_back: int = 30) -> str:
    """The feed of the bookings held (pending or confirmed) from `days_back` days ago on."""
    views = list_bookings(uow, account=account, since=now - timedelta(days=days_back))
    return render(views, now)
