from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from snipe.domain.slots import (
    TimeWindow,
    candidate_blocks,
    consecutive_runs,
    local_day_hour,
    slot_start,
    unlock_instant,
)

AMS = ZoneInfo("Europe/Amsterdam")
H72, H168 = timedelta(hours=72), timedelta(hours=168)


def unlock_local(day: date, hour: int, window: timedelta) -> datetime:
    return unlock_instant(slot_start(day, hour, AMS), window).astimezone(AMS)


def test_unlock_is_start_minus_window_on_an_ordinary_week():
    assert unlock_local(date(2026, 11, 26), 13, H72) == datetime(2026, 11, 23, 13, tzinfo=AMS)


def test_autumn_2026_change_moves_the_local_unlock_hour_later():
    # Clocks go back on Sun 25 Oct 2026: a Tue 11:00 CET slot unlocked at 12:00 CEST on Sat.
    assert unlock_local(date(2026, 10, 27), 11, H72) == datetime(2026, 10, 24, 12, tzinfo=AMS)
    assert unlock_instant(slot_start(date(2026, 10, 27), 11, AMS), H72) == datetime(
        2026, 10, 24, 10, tzinfo=UTC
    )


def test_autumn_2026_change_for_fitness_week_window():
    assert unlock_local(date(2026, 10, 29), 11, H168) == datetime(2026, 10, 22, 12, tzinfo=AMS)


def test_spring_2027_change_moves_the_local_unlock_hour_earlier():
    # Clocks go forward on Sun 28 Mar 2027: a Tue 11:00 CEST slot unlocks at 10:00 CET on Sat.
    assert unlock_local(date(2027, 3, 30), 11, H72) == datetime(2027, 3, 27, 10, tzinfo=AMS)
    assert unlock_local(date(2027, 4, 1), 18, H168) == datetime(2027, 3, 25, 17, tzinfo=AMS)


def test_autumn_2027_and_spring_2026_changes():
    # 2027: back on 31 Oct; 2026: forward on 29 Mar.
    assert unlock_local(date(2027, 11, 2), 9, H72) == datetime(2027, 10, 30, 10, tzinfo=AMS)
    assert unlock_local(date(2026, 3, 31), 9, H72) == datetime(2026, 3, 28, 8, tzinfo=AMS)


@given(
    day=st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 12, 31)),
    hour=st.integers(min_value=7, max_value=22),
    window=st.sampled_from([H72, H168]),
)
def test_unlock_is_exactly_the_window_before_the_start_in_absolute_time(day, hour, window):
    start = slot_start(day, hour, AMS)
    unlock = unlock_instant(start, window)
    assert unlock.tzinfo is UTC
    assert start.astimezone(UTC) - unlock == window
    # The local unlock hour differs from the slot's by at most the one DST hour.
    assert abs(unlock.astimezone(AMS).hour - hour) <= 1
    assert local_day_hour(unlock + window, AMS) == (day, hour)


def test_blocks_fit_inside_the_window():
    blocks = candidate_blocks(date(2026, 11, 26), TimeWindow(11, 18), 3, "X1")
    assert [b.start_hour for b in blocks] == [11, 12, 13, 14, 15]
    assert all(b.end_hour <= 18 for b in blocks)
    assert candidate_blocks(date(2026, 11, 26), TimeWindow(11, 13), 3, "X1") == []


@given(st.sets(st.integers(min_value=0, max_value=23)))
def test_consecutive_runs_partition_the_hours(hours):
    runs = consecutive_runs(hours)
    assert sorted(h for r in runs for h in r) == sorted(hours)
    assert all(a.stop < b.start for a, b in zip(runs, runs[1:], strict=False))
