import copy
import json
import os
from datetime import timedelta
from pathlib import Path

import pytest

from base_time import SATURDAY, SUNDAY, THURSDAY, TUESDAY
from snipe.config import load_bookings
from snipe.errors import ConfigError

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = json.loads((ROOT / "bookings.example.json").read_text())

SEED_FORMAT = {
    "accounts": [
        {"netid": "user1", "password": "pass1", "is_active": True},
        {"netid": "user2", "password": "pass2", "is_active": True},
        {"netid": "user3", "password": "pass3", "is_active": True},
    ],
    "snipe_config": {
        "target_date": THURSDAY.isoformat(),
        "consecutive_hours": 3,
        "time_window": {"start": "11:00", "end": "18:00"},
        "priorities": [
            {"rank": 1, "location": "X1", "sub_locations": ["X1 A", "X1 B"], "max_accounts": 3,
             "advance_hours": 72},
            {"rank": 2, "location": "X3", "sub_locations": ["X3 A", "X3 B"], "max_accounts": 2,
             "advance_hours": 72},
            {"rank": 3, "location": "Fitness", "max_accounts": 3, "advance_hours": 168},
        ],
        "fallback_strategy": "accept_2_consecutive_hours",
    },
}


def write(tmp_path: Path, data: object, mode: int = 0o600) -> Path:
    path = tmp_path / "bookings.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    path.chmod(mode)
    return path


def problems_of(tmp_path: Path, data: object, now) -> dict[str, str]:
    with pytest.raises(ConfigError) as caught:
        load_bookings(write(tmp_path, data), now)
    return dict(caught.value.problems)


def test_the_seed_format_loads_as_is(tmp_path, frozen_now):
    loaded = load_bookings(write(tmp_path, SEED_FORMAT), frozen_now)
    (target,) = loaded.targets
    assert target.days == (THURSDAY,)
    assert (target.length, target.min_length) == (3, 2)
    assert [p.location for p in target.priorities] == ["X1", "X3", "Fitness"]
    assert loaded.profile.name == "x-tudelft"


def test_the_example_file_is_valid_and_never_stale(frozen_now):
    loaded = load_bookings(ROOT / "bookings.example.json", frozen_now)
    by_name = {t.name: t for t in loaded.targets}
    assert by_name["thursday-x1"].days == (THURSDAY,)  # the next Thursday
    weekend = by_name["weekend-evening"]
    assert weekend.flexible and weekend.days[0] >= frozen_now.date()
    assert loaded.profile.name == "sandbox"


def test_not_json_names_line_and_column(tmp_path, frozen_now):
    with pytest.raises(ConfigError, match=r"not valid JSON: .* line 1 column"):
        load_bookings(write(tmp_path, "{ nope"), frozen_now)


def test_every_problem_is_reported_at_once_with_its_path(tmp_path, frozen_now):
    data = copy.deepcopy(SEED_FORMAT)
    data["accounts"][1]["password"] = None
    data["accounts"].append({"netid": "user1", "password": "again"})
    cfg = data["snipe_config"]
    cfg["priorities"][0]["location"] = "X9"
    cfg["priorities"][1]["sub_locations"] = ["X1 A"]
    cfg["priorities"][2]["max_accounts"] = 0
    cfg["time_window"] = {"start": "18:00", "end": "11:00"}
    cfg["fallback_strategy"] = "accept_whatever"
    problems = problems_of(tmp_path, data, frozen_now)
    assert "unknown location 'X9'" in problems["$.snipe_config.priorities[0].location"]
    assert "belongs to X1, not X3" in problems["$.snipe_config.priorities[1]"]
    assert "at least 1" in problems["$.snipe_config.priorities[2].max_accounts"]
    assert "ends (11:00) before it starts (18:00)" in problems["$.snipe_config.time_window"]
    assert "unknown fallback_strategy" in problems["$.snipe_config.fallback_strategy"]
    assert "has no password" in problems["$.accounts[1]"]
    assert "appears twice" in problems["$.accounts[3].netid"]


def test_problems_across_fields_are_reported_with_the_field_problems(tmp_path, frozen_now):
    data = copy.deepcopy(SEED_FORMAT)
    cfg = data["snipe_config"]
    cfg["consecutive_hour"] = 3  # a misspelt field...
    cfg["time_window"] = {"start": "11:00", "end": "13:00"}  # ...a window shorter than the block
    cfg["priorities"][1]["rank"] = 1  # ...ranks that repeat
    cfg["priorities"][2]["sub_locations"] = ["X1 B"]  # ...a sub-hall of another location
    cfg["insurance"] = "sometimes"
    problems = problems_of(tmp_path, data, frozen_now)
    assert "unknown field" in problems["$.snipe_config.consecutive_hour"]
    assert "fewer than consecutive_hours 3" in problems["$.snipe_config"]
    assert "priority ranks repeat: [1, 1, 3]" in problems["$.snipe_config.priorities"]
    assert "belongs to X1" in problems["$.snipe_config.priorities[2]"]
    assert "unknown insurance policy" in problems["$.snipe_config.insurance"]


def test_a_target_of_several_is_checked_across_its_fields_at_its_own_path(tmp_path, frozen_now):
    data = copy.deepcopy(SEED_FORMAT)
    second = copy.deepcopy(data["snipe_config"])
    second.update(name="other", target_date=(SUNDAY - timedelta(days=6)).isoformat(),
                  priorities=[{"rank": 1, "location": "X1"}, {"rank": 2, "location": "x1"}])
    data["snipe_configs"] = [second]
    problems = problems_of(tmp_path, data, frozen_now)
    assert "is in the past" in problems["$.snipe_configs[0]"]
    assert "appears in two priorities" in problems["$.snipe_configs[0].priorities"]
    assert "$.snipe_config" not in problems  # the first target is fine


@pytest.mark.parametrize(
    ("change", "path", "fragment"),
    [
        (lambda c: c.update(target_date=(SUNDAY - timedelta(days=6)).isoformat()),
         "$.snipe_config", "is in the past"),
        (lambda c: c.update(time_window={"start": "11:00", "end": "13:00"}), "$.snipe_config",
         "fewer than consecutive_hours 3"),
        (lambda c: c.update(time_window={"start": "05:00", "end": "09:00"}), "$.snipe_config",
         "clipped to opening hours"),
        (lambda c: c.update(target_date="someday"), "$.snipe_config.target_date",
         "neither a date"),
        (lambda c: c.update(consecutive_hour=3), "$.snipe_config.consecutive_hour",
         "unknown field"),
        (lambda c: c["priorities"].append({"rank": 4, "location": "X2"}),
         "$.snipe_config.priorities[3].location", "no product id"),
        (lambda c: c.update(fallback_strategy="accept_5_consecutive_hours"),
         "$.snipe_config", "the block has 3"),
        (lambda c: c.update(insurance="sometimes"), "$.snipe_config.insurance",
         "unknown insurance policy 'sometimes' (use 'yield', 'keep', 'off')"),
        (lambda c: c.update(upgrade="sometimes"), "$.snipe_config.upgrade", "boolean"),
    ],
)
def test_each_bad_input_names_the_problem(tmp_path, frozen_now, change, path, fragment):
    data = copy.deepcopy(SEED_FORMAT)
    change(data["snipe_config"])
    problems = problems_of(tmp_path, data, frozen_now)
    assert fragment in problems[path], problems


@pytest.mark.parametrize("policy", ["yield", "keep", "off"])
def test_a_target_chooses_what_its_insurance_does(tmp_path, frozen_now, policy):
    data = copy.deepcopy(SEED_FORMAT)
    data["snipe_config"]["insurance"] = policy
    (target,) = load_bookings(write(tmp_path, data), frozen_now).targets
    assert target.insurance == policy


def test_insurance_has_a_default(tmp_path, frozen_now):
    from snipe.domain.targets import DEFAULT_INSURANCE

    (target,) = load_bookings(write(tmp_path, SEED_FORMAT), frozen_now).targets
    assert target.insurance == DEFAULT_INSURANCE


def test_upgrades_are_on_unless_a_target_switches_them_off(tmp_path, frozen_now):
    (target,) = load_bookings(write(tmp_path, SEED_FORMAT), frozen_now).targets
    assert target.upgrade is True
    data = copy.deepcopy(SEED_FORMAT)
    data["snipe_config"]["upgrade"] = False
    (target,) = load_bookings(write(tmp_path, data), frozen_now).targets
    assert target.upgrade is False
    loaded = load_bookings(ROOT / "bookings.example.json", frozen_now)
    assert {t.name: t.upgrade for t in loaded.targets} == {"thursday-x1": True,
                                                           "weekend-evening": False}


def test_past_date_is_fine_when_it_repeats_weekly(tmp_path, frozen_now):
    data = copy.deepcopy(SEED_FORMAT)
    a_year_ago = THURSDAY - timedelta(weeks=52)  # a Thursday
    data["snipe_config"].update(target_date=a_year_ago.isoformat(), repeat="weekly")
    (target,) = load_bookings(write(tmp_path, data), frozen_now).targets
    assert target.days == (THURSDAY,)


def test_seed_recurring_fields_mean_weekly(tmp_path, frozen_now):
    data = copy.deepcopy(SEED_FORMAT)
    data["snipe_config"].update(target_date=(THURSDAY - timedelta(weeks=52)).isoformat(),
                                is_recurring=True,
                                recurring_pattern="weekly")
    assert load_bookings(write(tmp_path, data), frozen_now).targets[0].repeat == "weekly"


def test_a_weekday_name_means_the_next_such_day(tmp_path, frozen_now):
    data = copy.deepcopy(SEED_FORMAT)
    data["snipe_config"]["target_date"] = "Sunday"  # today, but 11:00 is still ahead
    assert load_bookings(write(tmp_path, data), frozen_now).targets[0].days == (SUNDAY,)
    data["snipe_config"]["target_date"] = "saturday"
    assert load_bookings(write(tmp_path, data), frozen_now).targets[0].days == (SATURDAY,)


def test_flexible_target_from_seed_002_fields(tmp_path, frozen_now):
    data = copy.deepcopy(SEED_FORMAT)
    cfg = data["snipe_config"]
    del cfg["target_date"]
    cfg.update(preferred_start_date=TUESDAY.isoformat(),
               preferred_end_date=(TUESDAY + timedelta(days=3)).isoformat(),
               preferred_times=["14:00-16:00"], avoid_times=["11:00-12:00"],
               allow_weekends=False, allow_evenings=True)
    (target,) = load_bookings(write(tmp_path, data), frozen_now).targets
    assert target.flexible and len(target.days) == 4
    assert str(target.preferences.preferred_times[0]) == "14:00-16:00"


def test_unknown_site_profile_is_one_clear_error(tmp_path, frozen_now):
    data = dict(SEED_FORMAT, site={"profile": "nowhere"})
    with pytest.raises(ConfigError, match="unknown site profile 'nowhere'"):
        load_bookings(write(tmp_path, data), frozen_now)


@pytest.mark.skipif(os.name != "posix", reason="file modes")
def test_warns_when_others_can_read_passwords(tmp_path, frozen_now):
    loaded = load_bookings(write(tmp_path, SEED_FORMAT, mode=0o644), frozen_now)
    assert any("chmod 600" in w for w in loaded.warnings)
    quiet = load_bookings(write(tmp_path, SEED_FORMAT, mode=0o600), frozen_now)
    assert not any("chmod 600" in w for w in quiet.warnings)


def test_a_document_gets_the_same_problems_and_messages_as_a_file(tmp_path, frozen_now) -> None:
    from snipe.config import load_bookings_data

    data = {**SEED_FORMAT, "snipe_config": {**SEED_FORMAT["snipe_config"],
                                            "consecutive_hours": 0, "time_window": {
                                                "start": "18:00", "end": "11:00"}}}
    with pytest.raises(ConfigError) as from_file:
        load_bookings(write(tmp_path, data), frozen_now)
    with pytest.raises(ConfigError) as from_form:
        load_bookings_data(data, frozen_now, "web form")
    assert from_form.value.problems == from_file.value.problems
    assert str(from_form.value).startswith("web form: ")
    loaded = load_bookings_data(SEED_FORMAT, frozen_now, "web form")
    assert loaded.targets[0].length == 3 and loaded.warnings == []
