"""Our clock: the timed shot (sleep, then spin, its last stretch at a raised priority that is
always given back), and a fixed clock that jumps instead."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

from base_time import NOW
from snipe.adapters.clock import RAISE_BEFORE_S, FixedClock, ShotPriority, shoot_at


class FakeTime:
    """A clock that only moves when slept on or read (each read costs 0.1 ms of spinning)."""

    def __init__(self) -> None:
        self.t = 1000.0
        self.naps: list[float] = []

    def now(self) -> float:
        self.t += 0.0001
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.naps.append(seconds)
        self.t += seconds + 0.0012  # the event loop wakes a little late


def test_the_shot_naps_then_spins_and_lands_just_after_the_deadline():
    clock = FakeTime()
    late_ms = asyncio.run(shoot_at(1090.0, now=clock.now, sleep=clock.sleep))
    assert clock.t >= 1090.0
    assert 0 <= late_ms < 0.5
    assert all(nap <= 30.0 for nap in clock.naps)  # long waits re-check the clock
    assert len(clock.naps) >= 3


def test_a_shot_already_late_fires_at_once_and_says_how_late():
    clock = FakeTime()
    late_ms = asyncio.run(shoot_at(999.0, now=clock.now, sleep=clock.sleep))
    assert clock.naps == []
    assert late_ms > 999


def test_a_fixed_clock_jumps_to_the_deadline_and_its_stopwatch_still_runs():
    clock = FixedClock(NOW)
    late = asyncio.run(clock.until(NOW.timestamp() + 90))
    assert late == 0.0 and clock.now() == NOW + timedelta(seconds=90)
    assert asyncio.run(clock.until(NOW.timestamp())) == 90_000.0  # already past: how late
    started = clock.monotonic()
    sum(range(10_000))
    assert clock.monotonic() >= started  # real work is measured even on a frozen calendar


# -- the raised priority of a shot's last stretch --------------------------------------------

class Raises:
    """A stand-in for the system call: records when the priority was raised and given back, by
    the fake clock."""

    def __init__(self, clock: FakeTime, permitted: bool = True, undo_fails: bool = False) -> None:
        self.clock, self.permitted, self.undo_fails = clock, permitted, undo_fails
        self.events: list[tuple[str, float]] = []

    def __call__(self):  # type: ignore[no-untyped-def]
        self.events.append(("raise", self.clock.t))
        if not self.permitted:
            return None

        def undo() -> None:
            self.events.append(("undo", self.clock.t))
            if self.undo_fails:
                raise PermissionError("not permitted")

        return undo


def test_only_the_last_stretch_of_a_shot_runs_raised_and_the_raise_is_given_back():
    clock = FakeTime()
    raises = Raises(clock)
    priority = ShotPriority(raises)
    deadline = 1090.0
    asyncio.run(shoot_at(deadline, now=clock.now, sleep=clock.sleep, priority=priority,
                         hold_s=0.05))
    [(first, raised_at), (then, undone_at)] = raises.events
    assert (first, then) == ("raise", "undo")
    assert deadline - RAISE_BEFORE_S <= raised_at < deadline
    assert undone_at >= deadline + 0.05  # held while the instant's requests leave
    assert priority.depth == 0


def test_shots_of_one_instant_share_one_raise_given_back_by_the_last_one_out():
    raises = Raises(FakeTime())
    priority = ShotPriority(raises)
    priority.enter()
    priority.enter()
    priority.leave()
    assert [e for e, _ in raises.events] == ["raise"]
    priority.leave()
    assert [e for e, _ in raises.events] == ["raise", "undo"]


def test_a_raise_refused_or_failing_to_undo_never_fails_the_shot():
    for raises_of in (lambda c: Raises(c, permitted=False), lambda c: Raises(c, undo_fails=True)):
        clock = FakeTime()
        priority = ShotPriority(raises_of(clock))
        late_ms = asyncio.run(shoot_at(1001.0, now=clock.now, sleep=clock.sleep,
                                       priority=priority))
        assert clock.t >= 1001.0 and late_ms >= 0
        assert priority.depth == 0


def test_a_raise_still_held_when_its_loop_ends_is_given_back():
    clock = FakeTime()
    raises = Raises(clock)
    priority = ShotPriority(raises)

    async def sleep(seconds: float) -> None:
        if seconds < 3600:
            await clock.sleep(seconds)
        else:  # the hold: it would outlast the loop
            await asyncio.Event().wait()

    asyncio.run(shoot_at(1001.0, now=clock.now, sleep=sleep, priority=priority, hold_s=3600.0))
    assert [e for e, _ in raises.events] == ["raise", "undo"] and priority.depth == 0


def test_a_cancelled_shot_gives_the_raise_back():
    clock = FakeTime()
    raises = Raises(clock)
    priority = ShotPriority(raises)

    async def cancelled_in_its_last_nap() -> None:
        async def nap(seconds: float) -> None:
            clock.t += seconds / 2
            if raises.events:
                raise asyncio.CancelledError
        with contextlib.suppress(asyncio.CancelledError):
            await shoot_at(1000.1, now=clock.now, sleep=nap, priority=priority)

    asyncio.run(cancelled_in_its_last_nap())
    assert [e for e, _ in raises.events] == ["raise", "undo"]


def test_the_system_raise_leaves_the_thread_as_it_found_it():
    """Whatever this system permits, the thread's policy and nice value are back afterwards;
    a policy chosen on purpose is left alone."""
    import os
    import threading

    from snipe.adapters.clock import _raise_priority

    seen: list[object] = []

    def in_a_thread() -> None:
        before = (os.sched_getscheduler(0) & ~os.SCHED_RESET_ON_FORK,
                  os.getpriority(os.PRIO_PROCESS, 0))
        undo = _raise_priority()
        if undo is not None:
            undo()
        seen.append((os.sched_getscheduler(0) & ~os.SCHED_RESET_ON_FORK,
                     os.getpriority(os.PRIO_PROCESS, 0)) == before)

    thread = threading.Thread(target=in_a_thread)
    thread.start()
    thread.join()
    assert seen == [True]
