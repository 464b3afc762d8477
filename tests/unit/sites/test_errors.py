from __future__ import annotations

import json
from datetime import UTC, timedelta
from email.utils import format_datetime

import pytest

from base_time import NOW
from snipe.adapters.sites.errors import (
    AuthExpired,
    BookingNotFound,
    LimitReached,
    LoginFailed,
    RateLimited,
    SiteChanged,
    SiteUnavailable,
    SlotFull,
    SlotNotOpen,
    SlotStarted,
    refusal_error,
    retry_after_seconds,
)
from snipe.errors import PermanentError, SnipeError, TransientError


def body(code: str, message: str = "") -> bytes:
    return json.dumps({"code": code, "message": message}).encode()


@pytest.mark.parametrize(
    ("status", "code", "kind", "transient"),
    [
        (403, "not_open_yet", SlotNotOpen, True),
        (403, "slot_started", SlotStarted, False),
        (409, "full", SlotFull, False),
        (409, "limit_hour", LimitReached, False),
        (409, "limit_location", LimitReached, False),
        (401, "token_expired", AuthExpired, False),
        (401, "unauthorized", AuthExpired, False),
        (401, "invalid_credentials", LoginFailed, False),
        (404, "not_found", BookingNotFound, False),
        (503, "", SiteUnavailable, True),
        (500, "anything", SiteUnavailable, True),
    ],
)
def test_each_refusal_maps_to_its_type(status, code, kind, transient) -> None:
    error = refusal_error(status, body(code), account="user1", action="booking")
    assert isinstance(error, kind)
    assert isinstance(error, SnipeError)
    assert isinstance(error, TransientError) is transient
    assert isinstance(error, PermanentError) is not transient
    assert "\n" not in str(error) and str(error)


def test_limit_reached_says_which_rule() -> None:
    assert refusal_error(409, body("limit_hour")).rule == "hour"
    assert refusal_error(409, body("limit_location")).rule == "location"


def test_rate_limit_carries_retry_after_seconds() -> None:
    error = refusal_error(429, body("rate_limited"), {"retry-after": "2"}, account="user1")
    assert isinstance(error, RateLimited)
    assert error.retry_after == 2.0
    assert "retry after 2s" in str(error) and "user1" in str(error)


def test_unknown_or_garbage_answers_are_unexpected() -> None:
    assert refusal_error(409, body("brand_new_code")) is None
    assert refusal_error(400, b"<html>oops</html>") is None
    assert refusal_error(418, b"") is None


def test_login_failed_names_the_account() -> None:
    error = refusal_error(401, body("invalid_credentials"), account="jdoe")
    assert error.account == "jdoe" and "jdoe" in str(error)


def test_retry_after_accepts_seconds_and_rejects_nonsense() -> None:
    assert retry_after_seconds("1.5") == 1.5
    assert retry_after_seconds("-3") == 0.0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


def test_site_changed_message_names_the_artifacts(tmp_path) -> None:
    error = SiteChanged("the booking page changed", artifacts=tmp_path)
    assert str(tmp_path) in str(error)


def test_retry_after_as_a_date_counts_from_the_answers_own_date() -> None:
    def http_date(seconds: float) -> str:
        return format_datetime((NOW + timedelta(seconds=seconds)).astimezone(UTC), usegmt=True)

    sent = http_date(0)
    assert retry_after_seconds(http_date(30), sent) == 30.0
    assert retry_after_seconds(http_date(-60), sent) == 0.0
    assert retry_after_seconds(http_date(30)) is None  # no Date: no guess
    error = refusal_error(429, body("rate_limited"), {"retry-after": http_date(5), "date": sent})
    assert isinstance(error, RateLimited) and error.retry_after == 5.0
