"""`snipe web token`, the refusals of `snipe web` / `snipe daemon --web` that need no server,
`snipe slots` from the cache and `snipe calendar`."""

from __future__ import annotations

import stat

from base_time import MONDAY, THURSDAY


def test_web_token_prints_a_new_token_kept_only_hashed(snipe, home) -> None:
    first = snipe("web", "token")
    assert first.code == 0
    token = first.out.strip()
    assert len(token) >= 32 and "shown once" in first.err
    assert token not in (home / "web-token").read_text()
    assert stat.S_IMODE((home / "web-token").stat().st_mode) == 0o600
    assert snipe("web", "token").out.strip() != token


def test_an_address_others_can_reach_needs_a_token_first(snipe) -> None:
    for argv in (("web", "0.0.0.0:8788"), ("daemon", "--web", "192.168.1.10:8788")):
        refused = snipe(*argv)
        assert refused.code == 2, argv
        assert "snipe web token" in refused.err


def test_a_bad_address_is_a_usage_error(snipe) -> None:
    refused = snipe("web", "8788:")
    assert refused.code == 2 and "[HOST:]PORT" in refused.err


def test_slots_from_the_cache_and_unknown_locations(snipe) -> None:
    shown = snipe("slots", "X1", "--cached", "--date", MONDAY.isoformat(), "--json")
    assert shown.code == 0
    data = shown.json()
    assert data["days"] == [MONDAY.isoformat()]
    assert {c["sub_location"] for c in data["slots"]} == {"X1 A", "X1 B"}
    assert "refresh" not in data
    unknown = snipe("slots", "X9", "--cached")
    assert unknown.code == 1 and "unknown location 'X9'" in unknown.err
    text = snipe("slots", "X1", "--cached", "--date", THURSDAY.isoformat())
    assert text.code == 0 and "not open yet" in text.out


def test_calendar_prints_an_icalendar_feed(snipe) -> None:
    printed = snipe("calendar")
    assert printed.code == 0
    assert printed.out.startswith("BEGIN:VCALENDAR\r\n")
    assert printed.out.endswith("END:VCALENDAR\r\n")
