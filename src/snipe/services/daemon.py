"""`snipe daemon`: one instance per data dir, waking each target before its strikes.

At start it reports strikes missed while it was down, then every active target is woken at once
(the engine reconciles it with the site and decides); each wake-up returns when to wake next,
which APScheduler keeps in the database. Every few seconds it looks for targets added or changed
by `snipe schedule` and wakes them too, so no restart is needed. SIGTERM/SIGINT let a strike in
flight finish.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import logging.handlers
import os
import signal
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select

from snipe.adapters.db.models import Strike
from snipe.adapters.db.models import Target as TargetRow
from snipe.adapters.db.store import Store
from snipe.adapters.notify import STRIKE_MISSED, Event, Notifier, SilentNotifier, send_quietly
from snipe.domain.ledger import PlanState, target_from_dict, target_to_dict
from snipe.services.engine import Engine, WakeReport

log = logging.getLogger("snipe.daemon")

LOCK_FILE = "daemon.lock"
MISSED_AFTER_S = 120.0
POLL_S = 5.0
HOUSEKEEPING_EVERY = timedelta(days=1)

_CURRENT: Daemon | None = None


@contextlib.contextmanager
def single_instance(home: Path) -> Iterator[IO[str] | None]:
    """The daemon's lock: yields the locked file, or None when another daemon holds it."""
    path = home / LOCK_FILE
    handle = open(path, "a+")  # noqa: SIM115 - held for the daemon's whole life
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield None
            return
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        yield handle
    finally:
        handle.close()


def lock_holder(home: Path) -> str:
    try:
        return (home / LOCK_FILE).read_text().strip() or "?"
    except OSError:
        return "?"


def setup_logging(home: Path, verbose: bool = False) -> Path:
    """Logs to the console and to a rotating file in the data dir."""
    folder = home / "logs"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / "snipe.log"
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    file_handler = logging.handlers.RotatingFileHandler(path, maxBytes=1_000_000, backupCount=5)
    file_handler.setFormatter(fmt)
    console = logging.StreamHandler()
    console.setFormatter(fmt)
    root = logging.getLogger("snipe")
    root.handlers[:] = [file_handler, console]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    root.propagate = False
    return path


def mark_missed(store: Store, now: datetime) -> list[Strike]:
    """Strikes whose unlock instant passed while nobody was running: say so, once.

    A strike planned for a slot that was already open missed no unlock (its row was written
    after its instant); the engine simply books it at its next wake-up.
    """
    with store.unit_of_work() as uow:
        late = uow.session.scalars(
            select(Strike).where(Strike.status == "scheduled",
                                 Strike.scheduled_execution < now - timedelta(seconds=MISSED_AFTER_S),
                                 Strike.created_at < Strike.scheduled_execution)
        )
        missed = list(late)
        for strike in missed:
            strike.status = "missed"
            strike.executed_at = now
        uow.commit()
    return missed


def roll_weekly(store: Store, now: datetime) -> list[int]:
    """Weekly targets whose days are over start again a week (or more) later."""
    from snipe.profiles import load_profile

    rolled = []
    with store.unit_of_work() as uow:
        rows = uow.session.scalars(select(TargetRow).where(
            TargetRow.repeat == "weekly", TargetRow.state.in_(("active", "won", "failed"))))
        for row in rows:
            if not row.plan_state:
                continue
            profile = load_profile(row.site_profile, row.site_url)
            target = target_from_dict(row.plan_state["target"])
            last = max(target.days)
            end = datetime(last.year, last.month, last.day, target.window.end_hour % 24,
                           tzinfo=profile.tz)
            if end > now:
                continue
            weeks = (now - end).days // 7 + 1
            shifted = target_to_dict(target)
            shifted["days"] = [(d + timedelta(weeks=weeks)).isoformat() for d in target.days]
            moved = target_from_dict(shifted)
            row.plan_state = PlanState.start(moved, profile, tuple(row.plan_state["accounts"])
                                             ).to_dict()
            row.target_date = min(moved.days)
            row.state, row.decision, row.next_wake = "active", None, None
            rolled.append(row.id)
        uow.commit()
    return rolled


def active_targets(store: Store) -> list[int]:
    with store.reading() as session:
        return list(session.scalars(
            select(TargetRow.id).where(TargetRow.state == "active").order_by(TargetRow.id)))


def change_token(store: Store) -> tuple[Any, ...]:
    """What `snipe schedule` changes (and the engine's own writes do not)."""
    with store.reading() as session:
        return tuple(session.execute(
            select(TargetRow.id, TargetRow.fingerprint).order_by(TargetRow.id)).all())


@dataclass
class Daemon:
    store: Store
    home: Path
    notifier: Notifier = field(default_factory=SilentNotifier)
    lead_s: float = 60.0
    poll_s: float = POLL_S
    driver_options: dict[str, Any] = field(default_factory=dict)
    monitor: bool = True  # watch for slots freed after the rush (serve mode)
    monitor_interval_s: float = 45.0
    monitor_budget: int = 12  # requests per poll, at most
    on_strike: Any = None  # callback(StrikeReport) after each strike, for live views
    clock: Any = None  # our clock (default: the store's)

    def __post_init__(self) -> None:
        self.clock = self.clock or self.store.clock
        self.engine = Engine(self.store, notifier=self.notifier, lead_s=self.lead_s,
                             driver_options=self.driver_options, on_strike=self.on_strike,
                             clock=self.clock)
        self.stop = asyncio.Event()
        self.scheduler: Any = None
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()

    # -- start ------------------------------------------------------------------------------

    def report_missed(self) -> list[Strike]:
        now = self.clock.now()
        missed = mark_missed(self.store, now)
        for strike in missed:
            message = (f"strike for {strike.location} {strike.target_date} {strike.target_time} "
                       f"was due {strike.scheduled_execution:%Y-%m-%d %H:%M:%S}Z while snipe was "
                       "not running")
            log.warning(message)
            send_quietly(self.notifier, Event(STRIKE_MISSED, message, now))
        return missed

    async def wake(self, target_id: int) -> WakeReport:
        self._in_flight += 1
        self._idle.clear()
        try:
            report = await self.engine.wake(target_id)
        except Exception:
            log.exception("wake-up of target %s failed", target_id)
            report = WakeReport(target_id, verdict="error",
                                next_wake=self.clock.now() + timedelta(seconds=self.lead_s))
        finally:
            self._in_flight -= 1
            if not self._in_flight:
                self._idle.set()
        if self.scheduler is not None and report.next_wake is not None:
            self.scheduler.wake_at(target_id, report.next_wake)
        return report

    # -- modes ------------------------------------------------------------------------------

    async def run_once(self, within_s: float) -> list[WakeReport]:
        """Fire what is due within `within_s` seconds, then return."""
        deadline = self.clock.now() + timedelta(seconds=within_s)
        reports: list[WakeReport] = []
        pending = {tid: self.clock.now() for tid in active_targets(self.store)}
        while pending and not self.stop.is_set():
            due_at = min(pending.values())
            if due_at > deadline:
                break
            delay = (due_at - self.clock.now()).total_seconds()
            if delay > 0:
                await self._pause(delay)
                continue
            due = [tid for tid, at in pending.items() if at <= self.clock.now()]
            done = await asyncio.gather(*(self.wake(tid) for tid in due))
            reports += done
            for report in done:
                if report.next_wake is None:
                    pending.pop(report.target_id, None)
                else:
                    pending[report.target_id] = report.next_wake
        return reports

    async def _pause(self, seconds: float) -> None:
        """Wait `seconds` by our clock, or until asked to stop."""
        napping = asyncio.ensure_future(self.clock.sleep(seconds))
        stopping = asyncio.ensure_future(self.stop.wait())
        try:
            await asyncio.wait({napping, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (napping, stopping):
                task.cancel()
            await asyncio.gather(napping, stopping, return_exceptions=True)

    async def serve(self) -> None:
        from snipe.adapters.scheduler import StrikeScheduler

        global _CURRENT
        _CURRENT = self
        self.scheduler = StrikeScheduler(self.store.engine)
        self.scheduler.start()
        try:
            known = set(self.scheduler.jobs())
            for tid in active_targets(self.store):
                self.scheduler.wake_at(tid, self.clock.now())
            for tid in known - set(active_targets(self.store)):
                self.scheduler.cancel(tid)
            token = change_token(self.store)
            watcher = asyncio.create_task(self._watch_freed_slots()) if self.monitor else None
            swept_at: datetime | None = None
            while not self.stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stop.wait(), self.poll_s)
                now = self.clock.now()
                if swept_at is None or now - swept_at > HOUSEKEEPING_EVERY:
                    swept_at = now
                    self._housekeep(now)
                rolled = roll_weekly(self.store, now)
                fresh = change_token(self.store)
                if fresh != token or rolled:
                    token = fresh
                    log.info("targets changed: waking them")
                    for tid in active_targets(self.store):
                        self.scheduler.wake_at(tid, self.clock.now())
            log.info("stopping: letting strikes in flight finish")
            await self._idle.wait()
            if watcher is not None:
                await watcher
        finally:
            self.scheduler.shutdown()
            _CURRENT = None

    async def _watch_freed_slots(self) -> None:
        from snipe.services.monitor import SlotMonitor

        await SlotMonitor(self.store, notifier=self.notifier, clock=self.clock,
                          interval_s=self.monitor_interval_s, budget=self.monitor_budget
                          ).run(self.stop)

    def _housekeep(self, now: datetime) -> None:
        from snipe.services.housekeeping import RetentionPolicy, housekeep

        try:
            report = housekeep(self.store, now, RetentionPolicy.from_env())
            log.info("housekeeping: %s", report)
        except Exception:  # tidying up must never stop the strikes
            log.exception("housekeeping failed")

    def install_signals(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stop.set)

    async def close(self) -> None:
        await self.engine.close()


async def wake_target(target_id: int) -> None:
    """The scheduler's job: a module-level function called with a plain id."""
    if _CURRENT is None:
        log.warning("wake-up of target %s with no daemon running", target_id)
        return
    await _CURRENT.wake(target_id)
