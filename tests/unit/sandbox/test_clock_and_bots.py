"""The clock and the bots' plans, without a server and without waiting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from snipe.profiles import load_profile
from snipe.sandbox.bots import appetite, next_unlock, plan_strike
from snipe.sandbox.catalogue import Catalogue
from snipe.sandbox.clock import SandboxClock, iso, parse_iso
from snipe.sandbox.config import SandboxConfig, SandboxConfigError, parse_bots
from snipe.sandbox.store import Store


class RealTime:
    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


def test_clock_starts_at_offset_and_runs_at_its_rate():
    real = RealTime(1_800_000_000.0)
    clock = SandboxClock(offset_s=3600, rate=60, real=real, real_speed=())
    assert clock.now_s() == 1_800_003_600.0
    real.now += 10
    assert clock.now_s() == 1_800_003_600.0 + 600
    assert clock.offset_s() == 3600 + 590


def test_a_fast_clock_crosses_each_whole_hour_at_real_speed():
    hour = 1_800_000_000.0 - 1_800_000_000.0 % 3600
    real = RealTime(1_000.0)
    clock = SandboxClock(rate=1200, real=real, real_speed=((-10, 6),))
    clock.set(now=datetime.fromtimestamp(hour - 3600 + 6, UTC))  # just past the last hour's window
    # Fast between events: most of the hour passes in about three real seconds ...
    assert clock.real_seconds_until(datetime.fromtimestamp(hour - 10, UTC)) == pytest.approx(
        (3600 - 16) / 1200)
    # ... then the last ten seconds before the hour and six after it take their real time.
    assert clock.real_seconds_until(datetime.fromtimestamp(hour + 6, UTC)) == pytest.approx(
        (3600 - 16) / 1200 + 16)
    real.now += (3600 - 16) / 1200 + 10
    assert clock.now_s() == pytest.approx(hour)
    real.now += 1.5
    assert clock.now_s() == pytest.approx(hour + 1.5)
    assert clock.timeline.to_json() == {"rate": 1200, "real_speed": [[-10, 6]], "every_s": 3600}


def test_setting_the_clock_moves_it_and_tells_listeners():
    real = RealTime(1_000.0)
    clock = SandboxClock(real=real, real_speed=())
    told = []
    clock.subscribe(told.append)
    target = datetime(2027, 1, 1, tzinfo=UTC)
    clock.set(now=target, rate=2.0)
    real.now += 5
    assert clock.now() == target + timedelta(seconds=10)
    assert told == [target.timestamp()]
    assert clock.real_seconds_until(target + timedelta(seconds=30)) == 10
    with pytest.raises(ValueError):
        clock.set(rate=0)


def test_times_are_written_in_the_sites_format():
    moment = datetime(2027, 3, 12, 15, 0, 0, 123456, tzinfo=UTC)
    assert iso(moment) == "2027-03-12T15:00:00.123Z"
    assert parse_iso("2027-03-12T16:00:00+01:00") == moment.replace(microsecond=0)


def test_next_unlock_is_the_coming_whole_hour():
    on_the_hour = datetime(2027, 3, 10, 9, 0, tzinfo=UTC)
    assert next_unlock(on_the_hour) == on_the_hour
    assert next_unlock(on_the_hour + timedelta(microseconds=1)) == on_the_hour + timedelta(hours=1)


def test_bot_plans_repeat_for_a_seed_and_only_aim_at_halls_at_their_unlock():
    catalogue = Catalogue(load_profile("x-tudelft"), Store.open(None))
    unlock = datetime(2027, 3, 9, 16, 0, tzinfo=UTC)  # 17:00 in Delft, 72 h ahead
    plan = plan_strike(catalogue, ("hall-rush", "fast"), 7, unlock)
    assert plan == plan_strike(catalogue, ("hall-rush", "fast"), 7, unlock)
    assert plan, "at 17:00 bots want most halls"
    for attempt in plan:
        assert attempt.start == unlock + timedelta(hours=72)
        kind, start = catalogue.decode(attempt.booking_id)
        assert kind.sub is not None and start == attempt.start
        low, high = (0.7, 1.5) if attempt.bot == "hall-rush" else (0.01, 0.06)
        assert low <= attempt.delay_s <= high
    seeds = {tuple(a.booking_id for a in plan_strike(catalogue, ("hall-rush",), s, unlock))
             for s in range(12)}
    assert len(seeds) > 1  # another seed, another choice


def test_bots_want_evening_halls_more_than_morning_ones():
    assert appetite(17) > appetite(13) > appetite(8)


def test_config_refuses_bad_values_in_one_line():
    assert parse_bots("hall-rush, fast") == ("hall-rush", "fast")
    assert parse_bots("none") == ()
    with pytest.raises(SandboxConfigError, match="unknown sandbox bot 'slow'"):
        SandboxConfig(bots="slow")
    with pytest.raises(SandboxConfigError, match="clock rate"):
        SandboxConfig(clock_rate=0)
    assert "admin_token=***" in repr(SandboxConfig(admin_token="secret-token"))
    assert "secret-token" not in repr(SandboxConfig(admin_token="secret-token"))
