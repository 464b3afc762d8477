"""Refusals read by status and words from profile data; times in UTC or local with a false Z;
token expiry from the app's stored auth."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from snipe.adapters.sites.errors import (
    AlreadyBooked,
    AuthExpired,
    BookingNotFound,
    BookingRefused,
    LimitReached,
    LoginFailed,
    SlotFull,
    SlotNotOpen,
    SlotStarted,
    refusal_error,
)
from snipe.adapters.sites.sessions import token_expiry
from snipe.adapters.sites.terms import SiteTerms
from snipe.adapters.sites.times import LOCAL_Z, UTC_TIMES, Timebase, detect
from snipe.errors import ConfigError

DELFT = ZoneInfo("Europe/Amsterdam")


def nest(status: int, message: object, error: str | None = "Forbidden") -> bytes:
    body = {"statusCode": status, "message": message}
    if error:
        body["error"] = error
    return json.dumps(body).encode()


@pytest.mark.parametrize(("status", "message", "kind", "rule"), [
    (403, "Booking is not yet available", SlotNotOpen, None),
    (403, "Booking has already started", SlotStarted, None),
    (403, "This booking is full", SlotFull, None),
    (403, "You are already registered for this booking", AlreadyBooked, "slot"),
    (403, "You are already registered for a booking at this time", LimitReached, "hour"),
    (403, "You have reached the maximum number of bookings for this location today",
     LimitReached, "location"),
    (403, "You are not allowed to book for this member", BookingRefused, None),
    (404, "Participation not found", BookingNotFound, None),
    (401, "Invalid email or password", LoginFailed, None),
    (401, "Unauthorized", AuthExpired, None),
])
def test_nestjs_refusals_are_told_apart_by_their_words(status, message, kind, rule) -> None:
    error = refusal_error(status, nest(status, message), account="user1", action="booking")
    assert type(error) is kind
    if rule is not None:
        assert error.rule == rule
    assert "\n" not in str(error)


def test_a_list_of_messages_is_read_as_one() -> None:
    body = nest(403, ["Booking is not yet available", "try later"])
    assert isinstance(refusal_error(403, body), SlotNotOpen)


def test_validation_failures_and_unknown_words_are_unexpected() -> None:
    assert refusal_error(400, nest(400, ["bookingId must be an integer number"],
                                   "Bad Request")) is None
    assert refusal_error(403, nest(403, "Computer says no")) is None
    assert refusal_error(404, nest(404, "Cannot GET /api/nope", "Not Found")) is None


def test_a_profile_names_its_own_words_and_codes() -> None:
    terms = SiteTerms.from_data({"name": "other", "refusals": {
        "codes": {"VOL": "full"},
        "messages": {"not_open": ["nog niet beschikbaar"], "full": ["vol"]}}})
    assert isinstance(refusal_error(403, nest(403, "Boeking nog niet beschikbaar"),
                                    terms=terms), SlotNotOpen)
    assert isinstance(refusal_error(409, json.dumps({"code": "VOL", "message": "x"}),
                                    terms=terms), SlotFull)
    assert refusal_error(403, nest(403, "This booking is full"), terms=terms) is None


def test_a_profile_naming_an_unknown_refusal_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown refusal categories nearly_full"):
        SiteTerms.from_data({"name": "bad", "refusals": {"messages": {"nearly_full": ["x"]}}})


def test_the_shipped_profile_has_the_terms_of_the_real_site() -> None:
    from snipe.adapters.sites.terms import terms_for
    from snipe.profiles import load_profile

    terms = terms_for(load_profile("x-tudelft"))
    assert terms.category("", "Booking is not yet available") == "not_open"
    assert terms.category("not_open_yet", "") == "not_open"
    assert terms.max_parallel_logins == 2 and terms.waitlist_status == 3


def test_times_are_written_and_read_in_either_convention() -> None:
    five_pm = datetime(2027, 3, 12, 16, tzinfo=UTC)  # 17:00 in Delft
    utc, wall = Timebase(UTC_TIMES, DELFT), Timebase(LOCAL_Z, DELFT)
    assert utc.write(five_pm) == "2027-03-12T16:00:00.000Z"
    assert wall.write(five_pm) == "2027-03-12T17:00:00.000Z"
    assert wall.read("2027-03-12T17:00:00.000Z") == five_pm == utc.read(utc.write(five_pm))


def test_the_convention_is_told_by_the_hour_grid() -> None:
    day = [f"2027-03-12T{h:02d}:00:00.000Z" for h in range(6, 22)]  # 07-22 in Delft, as UTC
    assert detect(day, DELFT, 7, 23) == UTC_TIMES
    walls = [f"2027-03-12T{h:02d}:00:00.000Z" for h in range(7, 23)]
    assert detect(walls, DELFT, 7, 23) == LOCAL_Z
    middle = [f"2027-03-12T{h:02d}:00:00.000Z" for h in range(10, 14)]
    assert detect(middle, DELFT, 7, 23) is None
    assert detect([], DELFT, 7, 23) is None


def _jwt(claims: dict) -> str:
    part = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return f"eyJhbGciOiJSUzI1NiJ9.{part}.c2ln"


def test_a_jwt_says_when_it_expires() -> None:
    now = datetime(2027, 3, 12, 9, tzinfo=UTC)
    issued = int(now.timestamp()) - 600
    life = token_expiry(_jwt({"iat": issued, "exp": issued + 86400}), issued, 86400, 3600, now)
    assert life.expires_at == datetime.fromtimestamp(issued + 86400, UTC)
    assert life.left_s == 86400


def test_an_opaque_token_lives_from_its_issued_at() -> None:
    now = datetime(2027, 3, 12, 9, tzinfo=UTC)
    life = token_expiry("opaque", "2027-03-12T08:00:00Z", 7200, 86400, now)
    assert life.expires_at == datetime(2027, 3, 12, 10, tzinfo=UTC) and life.left_s == 7200
    life = token_expiry("opaque", int(now.timestamp()), None, 86400, now)
    assert life.left_s == 86400
