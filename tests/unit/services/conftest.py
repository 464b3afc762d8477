"""Scheduling a target into a world of fakes, and running its wake-ups on the fake clock."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from base_time import NOW, THURSDAY
from snipe.services.strike.engine import Engine, WakeReport
from snipe.services.targets.schedule import schedule_file
from unit.fakes import World, world

X1 = {"rank": 1, "location": "X1", "max_accounts": 3}
X3 = {"rank": 2, "location": "X3", "max_accounts": 3}


@pytest.fixture
def w() -> World:
    return world(NOW)


@pytest.fixture
def schedule(w: World, tmp_path: Path) -> Callable[..., int]:
    def go(priorities: list[dict] | None = None, hours: int = 3,
           window: tuple[str, str] = ("11:00", "14:00"), day: date = THURSDAY,
           name: str = "block", **extra: Any) -> int:
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps({
            "site": {"profile": "sandbox"},
            "snipe_config": {"name": name, "target_date": day.isoformat(),
                             "consecutive_hours": hours,
                             "time_window": {"start": window[0], "end": window[1]},
                             "priorities": priorities or [X1, X3], **extra},
        }))
        path.chmod(0o600)
        result = schedule_file(w.ctx, path, w.clock.now())
        return next(t.id for t in w.store.targets.values() if t.name == result.plans[0]
                    .target.name)  # type: ignore[return-value]
    return go


async def run(engine: Engine, w: World, target_id: int, wakes: int = 60,
              until: datetime | None = None) -> list[WakeReport]:
    """Wake the target as the daemon would, moving the fake clock to each next wake-up (until
    it is done, or its next wake-up is after `until`)."""
    reports = []
    for _ in range(wakes):
        report = await engine.wake(target_id)
        reports.append(report)
        if report.next_wake is None or (until is not None and report.next_wake > until):
            return reports
        if report.next_wake > w.clock.now():
            w.clock.advance((report.next_wake - w.clock.now()).total_seconds())
    raise AssertionError(f"target {target_id} still going after {wakes} wake-ups")
