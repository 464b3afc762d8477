"""The iCalendar feed: RFC 5545 lines (CRLF, folded at 75 octets), UTC times, escaped text and
UIDs that stay the same from one export to the next."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from base_time import MONDAY, NOW, local
from snipe.services.calendar import escape_text, fold, render
from snipe.services.queries import BookingView


def booking(id_: int = 7, **changes: object) -> BookingView:
    fields = {"id": id_, "account": "user1", "location": "X1", "sub_location": "X1 A",
              "slot_start": local(MONDAY, 17).astimezone(UTC), "status": "confirmed",
              "reference": "4242", "target": "thursday, X1; evening", "timezone":
              "Europe/Amsterdam"}
    fields.update(changes)
    return BookingView(**fields)  # type: ignore[arg-type]


def test_events_are_utc_with_crlf_endings_and_stable_uids() -> None:
    text = render([booking()], NOW)
    assert text.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n")
    assert text.endswith("END:VCALENDAR\r\n")
    assert "\n" not in text.replace("\r\n", "")
    start = local(MONDAY, 17).astimezone(UTC)
    assert f"DTSTART:{start:%Y%m%dT%H%M%SZ}\r\n" in text
    assert f"DTEND:{start + timedelta(hours=1):%Y%m%dT%H%M%SZ}\r\n" in text
    assert "UID:booking-7@snipe\r\n" in text
    later = render([booking()], NOW + timedelta(days=1))
    assert [line for line in later.split("\r\n") if line.startswith("UID")] == \
        ["UID:booking-7@snipe"]
    assert "STATUS:CONFIRMED" in text
    assert "STATUS:TENTATIVE" in render([booking(status="pending")], NOW)


def test_text_is_escaped() -> None:
    assert escape_text("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"
    text = render([booking()], NOW)
    assert "target thursday\\, X1\\; evening" in text.replace("\r\n ", "")


def test_long_lines_fold_at_75_octets_without_splitting_a_character() -> None:
    line = "DESCRIPTION:" + "é" * 60
    folded = fold(line)
    parts = folded.split("\r\n")
    assert all(len(p.encode()) <= 75 for p in parts)
    assert all(p.startswith(" ") for p in parts[1:])
    assert "".join(p.removeprefix(" ") if i else p for i, p in enumerate(parts)) == line


def test_an_empty_feed_is_still_a_calendar() -> None:
    text = render([], datetime(2030, 1, 1, tzinfo=UTC))
    assert "BEGIN:VEVENT" not in text and "PRODID:-//snipe//bookings//EN" in text
