from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from snipe.domain.scoring import ClockRange, Preferences, score_block

SEED = Preferences(
    range_start=date(2024, 1, 15),
    range_end=date(2024, 1, 20),
    preferred_times=(ClockRange.parse("10:00-12:00"), ClockRange.parse("14:00-16:00")),
    avoid_times=(ClockRange.parse("09:00-09:30"),),
    allow_weekends=True,
    allow_evenings=False,
)


def test_seed_example_scores_80():
    score = score_block(date(2024, 1, 16), 10, 11, SEED)
    assert score.breakdown() == {
        "date_match": 40.0, "time_of_day_match": 40.0, "avoid_time_penalty": 0.0,
        "weekend_evening_bonus": 0.0, "total": 80.0,
    }


def test_avoided_time_is_penalised_and_asks_for_confirmation():
    prefs = Preferences(date(2024, 1, 15), date(2024, 1, 20), avoid_times=(
        ClockRange.parse("09:00-09:30"),), allow_weekends=False, allow_evenings=False)
    score = score_block(date(2024, 1, 20), 9, 10, prefs)
    assert score.avoid_time_penalty == -50 and score.total == -50
    assert score.needs_confirmation


def test_neutral_time_scores_20_and_weekend_evening_bonus_adds_10():
    prefs = Preferences(date(2026, 11, 28), date(2026, 11, 28))
    score = score_block(date(2026, 11, 28), 18, 20, prefs)  # a Saturday evening
    assert (score.date_match, score.time_of_day_match, score.weekend_evening_bonus) == (50, 20, 10)


def test_outside_the_date_range_scores_no_date_points():
    assert score_block(date(2024, 1, 21), 10, 11, SEED).date_match == 0


@given(
    offset=st.integers(min_value=0, max_value=5),
    start=st.integers(min_value=7, max_value=20),
    length=st.integers(min_value=1, max_value=3),
)
def test_scores_stay_within_the_documented_bounds(offset, start, length):
    day = date(2024, 1, 15 + offset)
    score = score_block(day, start, min(start + length, 23), SEED)
    assert 0 <= score.date_match <= 50
    assert -50 <= score.total <= 100
    # Earlier days in the range never score lower on date match.
    if offset:
        earlier = score_block(date(2024, 1, 15 + offset - 1), start, start + 1, SEED)
        assert earlier.date_match >= score.date_match
