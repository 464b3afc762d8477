from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest

from snipe.adapters.sites.clock import (
    DateStamp,
    ServerClock,
    Stamp,
    estimate_rate,
    from_dates,
    from_stamps,
    measure_with,
    parse_date_header,
    probe_date_edges,
)


class FakeTime:
    """Our clock plus a simulated server clock: server = rate * local + offset."""

    def __init__(self, offset: float, rate: float = 1.0, rtt: float = 0.004,
                 start: float = 1_800_000_000.25) -> None:
        self.t = start
        self.offset = offset
        self.rate = rate
        self.rtt = rtt
        self.requests = 0

    def now(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.t += max(0.0, seconds)

    def server(self) -> float:
        return self.rate * self.t + self.offset

    async def fetch_date(self) -> int:
        self.requests += 1
        self.t += self.rtt / 2
        second = math.floor(self.server())
        self.t += self.rtt / 2
        return second

    async def fetch_stamp(self) -> tuple[float, float | None]:
        self.requests += 1
        self.t += self.rtt / 2
        value = round(self.server(), 3)
        self.t += self.rtt / 2
        return value, None


@pytest.mark.parametrize("offset", [0.0, 0.37, -2.812, 41.5009, -0.999])
async def test_second_edges_find_the_offset_to_a_round_trip(offset: float) -> None:
    fake = FakeTime(offset)
    clock = await probe_date_edges(fake.fetch_date, probes=8, now=fake.now, sleep=fake.sleep)
    true_offset = fake.server() - fake.t
    assert abs(clock.offset_s - true_offset) <= clock.uncertainty_s + 1e-9
    assert clock.uncertainty_s <= 0.02
    assert fake.requests <= 8


async def test_second_edges_stay_bounded_in_requests_and_time() -> None:
    fake = FakeTime(0.123, rtt=0.2)  # a slow network cannot be beaten below its round trip
    started = fake.t
    clock = await probe_date_edges(fake.fetch_date, probes=5, now=fake.now, sleep=fake.sleep)
    assert fake.requests <= 5
    assert fake.t - started < 5.5
    assert abs(clock.offset_s - 0.123) <= clock.uncertainty_s + 1e-9
    assert clock.uncertainty_s <= 0.15


async def test_second_edges_with_a_fast_clock_of_known_rate() -> None:
    fake = FakeTime(offset=-3_600_000.0, rate=10.0)
    clock = await probe_date_edges(fake.fetch_date, probes=8, rate=10.0, now=fake.now,
                                   sleep=fake.sleep)
    predicted = clock.server_at(fake.t)
    assert abs(predicted - fake.server()) <= 10.0 * clock.uncertainty_s + 1e-6
    assert abs(predicted - fake.server()) < 0.2


def test_a_single_date_stamp_bounds_the_offset_by_one_second() -> None:
    clock = from_dates([DateStamp(100.0, 100.01, 105)])
    assert clock.offset_s == pytest.approx(5.5 - 0.005, abs=0.01)
    assert clock.uncertainty_s == pytest.approx(0.505, abs=0.001)


def test_time_endpoint_stamps_give_offset_and_rate() -> None:
    stamps = [Stamp(t, t + 0.002, 10.0 * (t + 0.001) + 7.0) for t in (0.0, 0.5, 1.0, 2.0, 3.0)]
    clock = from_stamps(stamps)
    assert clock.rate == pytest.approx(10.0, rel=1e-6)
    assert clock.server_at(5.0) == pytest.approx(57.0, abs=0.02)
    assert clock.local_at(57.0) == pytest.approx(5.0, abs=0.002)


def test_rate_is_one_when_samples_are_too_close_to_tell() -> None:
    stamps = [Stamp(t, t + 0.01, t + 3) for t in (0.0, 0.02, 0.04)]
    assert estimate_rate(stamps) == 1.0


async def test_time_endpoint_is_preferred_when_the_profile_has_one() -> None:
    fake = FakeTime(offset=12.345)
    clock = await measure_with(fake.fetch_stamp, fake.fetch_date, samples=4, now=fake.now,
                               sleep=fake.sleep)
    assert clock.method == "time endpoint"
    assert clock.offset_s == pytest.approx(12.345, abs=0.003)
    assert fake.requests == 4


def test_server_clock_maps_instants_both_ways() -> None:
    clock = ServerClock(anchor_local=1000.0, anchor_server=2000.0, rate=2.0)
    instant = datetime.fromtimestamp(2010.0, UTC)
    assert clock.local_for(instant) == pytest.approx(1005.0)
    assert clock.server_now(lambda: 1005.0) == instant
    assert "rate 2x" in clock.describe()


def test_date_header_parsing() -> None:
    assert parse_date_header("Sun, 06 Nov 1994 08:49:37 GMT") == 784111777
    assert parse_date_header("not a date") is None
    assert parse_date_header(None) is None
