"""Retention: old attempts, artifacts, saved sessions and stale slot lists go; recent ones and
bookings stay."""

from __future__ import annotations

import os
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from base_time import NOW, TUESDAY
from snipe.adapters.db.models import BookingLog, SlotAvailability
from snipe.errors import ConfigError
from snipe.services.housekeeping import RetentionPolicy, housekeep


def aged(path, days: float):  # type: ignore[no-untyped-def]
    stamp = (NOW - timedelta(days=days)).timestamp()
    os.utime(path, (stamp, stamp))
    return path


def log_row(days_ago: float) -> BookingLog:
    return BookingLog(action="failure", booking_date=TUESDAY, time_slot="14:00",
                      location="X1", timestamp=NOW - timedelta(days=days_ago))


def seen(day: date) -> SlotAvailability:
    return SlotAvailability(site_profile="sandbox", location="X1", sub_location="X1 A",
                            booking_date=day, time_slot="14:00", is_available=True,
                            last_checked=NOW)


def test_housekeeping_applies_each_retention(home, ctx):
    store = ctx.extras["store"]
    with store.unit_of_work() as uow:
        uow.session.add_all([log_row(200), log_row(181), log_row(10), log_row(0),
                             seen(NOW.date() - timedelta(days=12)), seen(NOW.date() - timedelta(days=1)),
                             seen(TUESDAY)])
        uow.commit()
    artifacts, sessions = home / "artifacts", home / "sessions"
    artifacts.mkdir(parents=True)
    sessions.mkdir(parents=True)
    old_artifact = artifacts / "20261101-api-slots"
    old_artifact.mkdir()
    (old_artifact / "body.txt").write_text("x")
    aged(old_artifact, 20)
    (artifacts / "new").mkdir()
    aged(artifacts / "new", 1)  # by the test's clock, not the machine's
    for name, days in (("sandbox-user1-abc.session", 8), ("sandbox-user2-def.session", 1)):
        (sessions / name).write_bytes(b"sealed")
        aged(sessions / name, days)
    (sessions / "notes.txt").write_text("not a session")
    aged(sessions / "notes.txt", 30)

    report = housekeep(ctx, NOW, RetentionPolicy(log_days=180, artifacts_days=14,
                                                    sessions_days=7, availability_days=2))
    assert report.to_dict() == {"logs_deleted": 2, "artifacts_deleted": 1, "sessions_deleted": 1,
                                "availability_deleted": 1, "errors": None}
    assert sorted(p.name for p in artifacts.iterdir()) == ["new"]
    assert sorted(p.name for p in sessions.iterdir()) == ["notes.txt", "sandbox-user2-def.session"]
    with store.reading() as session:
        assert session.scalar(select(func.count()).select_from(BookingLog)) == 2
        days = sorted(session.scalars(select(SlotAvailability.booking_date)))
    assert days == [NOW.date() - timedelta(days=1), TUESDAY]


def test_zero_days_keeps_everything(home, ctx):
    store = ctx.extras["store"]
    with store.unit_of_work() as uow:
        uow.session.add(log_row(5000))
        uow.commit()
    report = housekeep(ctx, NOW, RetentionPolicy(0, 0, 0, 0), artifacts=home / "none",
                       sessions=home / "none")
    assert report.logs_deleted == 0 and report.artifacts_deleted == 0


def test_policy_from_the_environment_and_bad_values():
    policy = RetentionPolicy.from_env({"SNIPE_KEEP_LOG_DAYS": "30", "SNIPE_KEEP_SESSIONS_DAYS": "2"})
    assert (policy.log_days, policy.sessions_days, policy.artifacts_days) == (30, 2, 14)
    with pytest.raises(ConfigError, match="SNIPE_KEEP_LOG_DAYS='a month'"):
        RetentionPolicy.from_env({"SNIPE_KEEP_LOG_DAYS": "a month"})
    with pytest.raises(ConfigError, match="log_days must be a whole number"):
        RetentionPolicy(log_days=-1)
