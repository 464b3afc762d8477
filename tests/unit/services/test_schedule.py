"""Scheduling over fakes: targets are named per site, previews tell what `schedule` would do."""

from __future__ import annotations

import json
from datetime import timedelta

from base_time import THURSDAY
from snipe.domain.status import StrikeStatus, TargetState
from snipe.services.strike.engine import Engine
from snipe.services.targets.schedule import plan_file, schedule_file
from snipe.services.targets.weekly import mark_missed, roll_weekly
from unit.services.conftest import X1, X3, run


def bookings(tmp_path, name: str, **target) -> object:  # type: ignore[no-untyped-def]
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps({"site": {"profile": "sandbox"}, "snipe_config": {
        "name": "thursday", "target_date": THURSDAY.isoformat(), "consecutive_hours": 2,
        "time_window": {"start": "11:00", "end": "13:00"}, "priorities": [X1, X3], **target}}))
    return path


def test_a_second_file_with_the_same_target_name_updates_it(w, tmp_path):
    schedule_file(w.ctx, bookings(tmp_path, "a"), w.clock.now())
    schedule_file(w.ctx, bookings(tmp_path, "b", time_window={"start": "12:00", "end": "14:00"}),
                  w.clock.now())
    assert [t.name for t in w.store.targets.values()] == ["thursday"]
    [target] = w.store.targets.values()
    waiting = [s for s in w.store.strikes.values() if s.status == StrikeStatus.SCHEDULED]
    assert {s.slot_start.hour for s in waiting} <= {12, 13}
    assert target.source.endswith("b.json")


async def test_plan_shows_what_schedule_would_do_from_the_store(w, schedule, tmp_path):
    target = schedule(name="thursday")
    await run(Engine(w.ctx), w, target)
    assert w.store.targets[target].state == TargetState.WON
    # Accounts added with `snipe accounts add` (not in the file) count; the won target shows
    # as won, not as a fresh plan.
    preview = plan_file(w.ctx.reader, bookings(tmp_path, "same", consecutive_hours=3,
                                                time_window={"start": "11:00", "end": "14:00"},
                                                accounts=["user1", "user2", "user3"]),
                        w.clock.now())
    [plan] = preview.plans
    assert plan.decision is not None and plan.decision.verdict == "won"
    assert preview.strikes == []


def test_strikes_whose_instant_passed_unattended_are_said_missed_once(w, schedule):
    schedule()
    later = w.clock.now() + timedelta(days=2)
    missed = mark_missed(w.ctx, later)
    assert missed and {s.location for s in missed} == {"X1", "X3"}
    assert all(s.status == StrikeStatus.MISSED for s in w.store.strikes.values()
               if s.fire_at < later - timedelta(minutes=2))
    assert mark_missed(w.ctx, later) == []


def test_a_weekly_target_starts_again_the_week_after(w, schedule):
    target = schedule(repeat="weekly")
    assert roll_weekly(w.ctx, w.clock.now() + timedelta(days=3)) == []  # not over yet
    assert roll_weekly(w.ctx, w.clock.now() + timedelta(days=5)) == [target]
    moved = w.store.targets[target]
    assert moved.plan_state["target"]["days"] == [(THURSDAY + timedelta(days=7)).isoformat()]
    assert moved.state == TargetState.ACTIVE and moved.plan_state["outcomes"] == []
