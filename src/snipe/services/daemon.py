"""`snipe daemon`: one instance per database, waking each target before its strikes.

At start it reports strikes missed while it was down, then every active target is woken at once
(the engine reconciles it with the site and decides); each wake-up says when to wake next, and
the scheduler keeps that. Every few seconds it looks for targets added or changed by `snipe
schedule` and wakes them too, so no restart is needed; releases still owed are tried again; the
slot monitor watches for freed slots. SIGTERM/SIGINT let a strike in flight finish.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import logging.handlers
import os
import signal
import socket
import sys
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

from snipe.errors import SnipeError, TransientError
from snipe.services.booking.releases import settle_releases
from snipe.services.context import Context
from snipe.services.strike.engine import RETRY_AFTER_ERROR_S, Engine, StrikeReport, WakeReport
from snipe.services.targets.weekly import report_missed, roll_weekly

log = logging.getLogger("snipe.daemon")

LOCK_FILE = "daemon.lock"
LEASE = "daemon"
LEASE_TTL_S = 90.0
HOUSEKEEPING_EVERY = timedelta(days=1)


class DaemonRunning(SnipeError):
    """Another daemon already runs on this database (or data dir)."""


class SiteUnreachable(TransientError):
    """`--once` gave up: the site could not be reached for too long."""


@contextlib.contextmanager
def single_instance(home: Path) -> Iterator[IO[str] | None]:
    """The data dir's lock: yields the locked file, or None when another daemon holds it."""
    from snipe.adapters.paths import open_private

    handle = open_private(home / LOCK_FILE, "a+")
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


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The console handler, on whatever `sys.stderr` is when a line is written."""

    def __init__(self) -> None:
        super().__init__()

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        """Always the current `sys.stderr`."""


def setup_logging(home: Path, verbose: bool = False) -> Path:
    """Logs to the console and to a rotating file (0600) in the data dir."""
    from snipe.adapters.paths import ensure_private_dir, touch_private

    folder = ensure_private_dir(home / "logs")
    path = touch_private(folder / "snipe.log")
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    file_handler = logging.handlers.RotatingFileHandler(path, maxBytes=1_000_000, backupCount=5)
    file_handler.setFormatter(fmt)
    console = StderrHandler()
    console.setFormatter(fmt)
    root = logging.getLogger("snipe")
    root.handlers[:] = [file_handler, console]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    root.propagate = False
    return path


def holder_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def holder_gone(holder: str) -> bool:
    """Is `holder` a daemon of this machine whose process no longer runs?"""
    host, _, pid = holder.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False  # another machine's: only its lease running out frees it
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class Daemon:
    def __init__(self, ctx: Context, *, lead_s: float | None = None, monitor: bool | None = None,
                 on_strike: Callable[[StrikeReport], None] | None = None,
                 scheduler: Any = None) -> None:
        self.ctx = ctx
        settings = ctx.settings
        self.lead_s = settings.lead_s if lead_s is None else lead_s
        self.monitor = settings.monitor_interval_s > 0 if monitor is None else monitor
        self.engine = Engine(ctx, lead_s=self.lead_s, on_strike=on_strike)
        self.stop = asyncio.Event()
        self.scheduler = scheduler
        self.holder = holder_name()
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._unreachable_since: datetime | None = None
        self.probed_at: datetime | None = None

    # -- the lease: one daemon per database ---------------------------------------------------

    def take_lease(self) -> str | None:
        """Take (or renew) the database's daemon lease; None when ours, else who holds it. A
        lease left by a daemon of this machine that died (kill -9, a crash) is taken over."""
        with self.ctx.uow() as uow:
            other = uow.leases.take(LEASE, self.holder, self.ctx.clock.now(), LEASE_TTL_S)
            if other is not None and holder_gone(other):
                log.info("taking over the lease of %s: that daemon is gone", other)
                other = uow.leases.take(LEASE, self.holder, self.ctx.clock.now(), LEASE_TTL_S,
                                        steal_from=other)
            uow.commit()
        return other

    def drop_lease(self) -> None:
        with contextlib.suppress(Exception), self.ctx.uow() as uow:
            uow.leases.drop(LEASE, self.holder)
            uow.commit()

    # -- waking -----------------------------------------------------------------------------

    def report_missed(self) -> list[Any]:
        return report_missed(self.ctx, self.ctx.clock.now())

    async def wake(self, target_id: int) -> WakeReport:
        self._in_flight += 1
        self._idle.clear()
        try:
            report = await self.engine.wake(target_id)
            self._unreachable_since = None
        except SnipeError as exc:
            # One line: the site is down, a login failed, the store is busy. Try again soon.
            log.warning("wake-up of target %s failed: %s", target_id, exc)
            if isinstance(exc, TransientError):
                self._unreachable_since = self._unreachable_since or self.ctx.clock.now()
            report = self._retry(target_id)
        except Exception:
            log.exception("wake-up of target %s failed", target_id)
            report = self._retry(target_id)
        finally:
            self._in_flight -= 1
            if not self._in_flight:
                self._idle.set()
        if self.scheduler is not None and report.next_wake is not None:
            self.scheduler.wake_at(target_id, report.next_wake)
        return report

    def _retry(self, target_id: int) -> WakeReport:
        return WakeReport(target_id, verdict="error", next_wake=self.ctx.clock.now()
                          + timedelta(seconds=min(self.lead_s, RETRY_AFTER_ERROR_S)))

    def _active(self) -> list[int]:
        with self.ctx.reader() as uow:
            return uow.targets.active_ids()

    # -- modes ------------------------------------------------------------------------------

    async def run_once(self, within_s: float) -> list[WakeReport]:
        """Fire what is due within `within_s` seconds, then return. Gives up, with
        `SiteUnreachable`, when the site cannot be reached for too long."""
        clock = self.ctx.clock
        deadline = clock.now() + timedelta(seconds=within_s)
        reports: list[WakeReport] = []
        pending = {tid: clock.now() for tid in self._active()}
        while pending and not self.stop.is_set():
            due_at = min(pending.values())
            if due_at > deadline:
                break
            delay = (due_at - clock.now()).total_seconds()
            if delay > 0:
                await self._pause(delay)
                continue
            due = [tid for tid, at in pending.items() if at <= clock.now()]
            done = await asyncio.gather(*(self.wake(tid) for tid in due))
            reports += done
            for report in done:
                if report.next_wake is None:
                    pending.pop(report.target_id, None)
                else:
                    pending[report.target_id] = report.next_wake
            self._give_up_if_unreachable()
        await settle_releases(self.ctx)
        return reports

    def _give_up_if_unreachable(self) -> None:
        since = self._unreachable_since
        if since is not None and (self.ctx.clock.now() - since).total_seconds() > \
                self.ctx.settings.once_unreachable_s:
            raise SiteUnreachable(f"the site could not be reached since {since:%H:%M:%S}Z; "
                                  "giving up (the next run tries again)")

    async def _pause(self, seconds: float) -> None:
        """Wait `seconds` by our clock, or until asked to stop."""
        napping = asyncio.ensure_future(self.ctx.clock.sleep(seconds))
        stopping = asyncio.ensure_future(self.stop.wait())
        try:
            await asyncio.wait({napping, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (napping, stopping):
                task.cancel()
            await asyncio.gather(napping, stopping, return_exceptions=True)

    async def serve(self) -> None:
        """Run until stopped: the scheduler wakes targets, a loop watches for changes, retries
        releases, renews the lease and keeps house; the slot monitor runs beside it."""
        from snipe.adapters.scheduler import StrikeScheduler

        self.scheduler = self.scheduler or StrikeScheduler(self.wake)
        self.scheduler.start()
        self.ctx.publish("daemon", state="running", holder=self.holder)
        watcher = asyncio.create_task(self._watch_freed_slots()) if self.monitor else None
        try:
            for tid in self._active():
                self.scheduler.wake_at(tid, self.ctx.clock.now())
            await self._loop()
            log.info("stopping: letting strikes in flight finish")
            self.ctx.publish("daemon", state="stopping", holder=self.holder)
            await self._idle.wait()
            if watcher is not None:
                await watcher
        finally:
            self.scheduler.shutdown()

    async def _loop(self) -> None:
        with self.ctx.reader() as uow:
            token = uow.targets.change_token()
        swept_at: datetime | None = None
        while not self.stop.is_set():
            await self._pause(self.ctx.settings.poll_s)
            now = self.ctx.clock.now()
            if self.take_lease() is not None:
                log.error("another daemon took this database's lease; stopping")
                self.stop.set()
                break
            if swept_at is None or now - swept_at > HOUSEKEEPING_EVERY:
                swept_at = now
                self._housekeep(now)
            await self._probe_if_due(now)
            rolled = roll_weekly(self.ctx, now)
            with self.ctx.reader() as uow:
                fresh = uow.targets.change_token()
            if fresh != token or rolled:
                token = fresh
                log.info("targets changed: waking them")
                for tid in self._active():
                    self.scheduler.wake_at(tid, now)
            with contextlib.suppress(SnipeError):
                await settle_releases(self.ctx)

    async def _probe_if_due(self, now: datetime) -> None:
        """Once a day, away from strikes: how do the sites behave, and did that change?"""
        from snipe.services.siteprobe import probe_due, probe_sites, sites_in_use

        wakes = self.scheduler.jobs().values() if self.scheduler is not None else ()
        if self._in_flight or not probe_due(self.probed_at, now, min(wakes, default=None)):
            return
        self.probed_at = now
        try:
            await probe_sites(self.ctx, sites_in_use(self.ctx))
        except Exception:  # a look at the site must never stop the strikes
            log.exception("the daily probe failed")

    async def _watch_freed_slots(self) -> None:
        from snipe.services.watch.monitor import SlotMonitor

        await SlotMonitor(self.ctx).run(self.stop)

    def _housekeep(self, now: datetime) -> None:
        from snipe.services.housekeeping import RetentionPolicy, housekeep

        try:
            housekeep(self.ctx, now, RetentionPolicy.from_env())
        except Exception:  # tidying up must never stop the strikes
            log.exception("housekeeping failed")

    def install_signals(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stop.set)

    async def close(self) -> None:
        await self.ctx.drivers.close()
        self.drop_lease()
