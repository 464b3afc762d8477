"""The live stream behind `GET /api/events`.

Beside the daemon (`snipe daemon --web`) the stream is the daemon's own event bus. Served alone
(`snipe web`), another process does the work, so a `StoreFeed` watches the store instead and
turns what changes into the same events: new `booking_log` rows (attempts, wins, releases,
cancels), strikes fired, targets won or failed, and the daemon's lease starting or lapsing.
Freed slots the daemon's monitor noticed leave no row, so only the bus carries them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta

from snipe.domain.ledger import ERROR, FULL, LIMIT, NOT_OPEN
from snipe.domain.records import LogEntry
from snipe.domain.status import LogAction, TargetState
from snipe.services.context import Context
from snipe.services.events import EventBus, LiveEvent
from snipe.services.overview import daemon_health

log = logging.getLogger(__name__)

KEEP_ALIVE_S = 15.0
RESULTS = (FULL, LIMIT, NOT_OPEN, ERROR)


def _result_of(entry: LogEntry) -> str:
    """The planner's word for a failed attempt, read back from its log message."""
    text = (entry.message or "").split(": ")
    return next((word for word in text if word in RESULTS), "failed")


class StoreFeed:
    """Publishes, on `bus`, the events the store's changes stand for. `poll_once` is one look;
    `run` looks every `interval_s` seconds until stopped."""

    def __init__(self, ctx: Context, bus: EventBus, interval_s: float = 1.0) -> None:
        self.ctx = ctx
        self.bus = bus
        self.interval_s = interval_s
        with ctx.reader() as uow:
            views = uow.views  # type: ignore[attr-defined]
            self.last_log = views.last_log_id()
            self.targets = views.target_states()
            self.daemon = daemon_health(uow, ctx.clock.now()).running
        self.strikes_seen_at = ctx.clock.now()
        self.fired: set[int] = set()

    def poll_once(self) -> list[LiveEvent]:
        now = self.ctx.clock.now()
        out: list[LiveEvent] = []
        with self.ctx.reader() as uow:
            views = uow.views  # type: ignore[attr-defined]
            entries = views.log_after(self.last_log)
            strikes = views.strikes_changed(self.strikes_seen_at - timedelta(minutes=5))
            targets = views.target_states()
            daemon = daemon_health(uow, now)
        for entry in entries:
            out += self._log_events(entry, now)
            self.last_log = max(self.last_log, entry.id or 0)
        # Strikes fired in the last few minutes, each told once (the window overlaps the
        # previous look, so a row committed late is not missed).
        self.strikes_seen_at = now
        self.fired &= {s.id for s, _ in strikes}  # type: ignore[misc]
        for strike, _site in strikes:
            if strike.id in self.fired:
                continue
            self.fired.add(strike.id)  # type: ignore[arg-type]
            result = strike.result or {}
            out.append(self.bus.publish(
                "strike_fired", now, target=strike.target,
                fire_at=(strike.executed_at or strike.fire_at).isoformat(),
                late_ms=result.get("late_ms"), attempts=len(result.get("attempts", []) or []),
                won=strike.status.value == "won"))
        for target_id, (name, state) in targets.items():
            before = self.targets.get(target_id, (name, None))[1]
            if state != before and state in (TargetState.WON.value, TargetState.FAILED.value):
                kind = "block_completed" if state == TargetState.WON.value else "block_failed"
                out.append(self.bus.publish(kind, now, target=name))
        self.targets = targets
        if daemon.running != self.daemon:
            self.daemon = daemon.running
            out.append(self.bus.publish("daemon", now, holder=daemon.holder,
                                        state="running" if daemon.running else "stopped"))
        return out

    def _log_events(self, entry: LogEntry, now: datetime) -> list[LiveEvent]:
        slot = {"target": None, "account": entry.account, "location": entry.location,
                "sub_location": entry.sub_location, "day": entry.day.isoformat(),
                "hour": entry.hour.hour}
        if entry.action in (LogAction.SUCCESS, LogAction.FAILURE):
            won = entry.action == LogAction.SUCCESS
            events = [self.bus.publish(
                "attempt", now, **slot, result="won" if won else _result_of(entry),
                ms=None if entry.elapsed_ms is None else round(entry.elapsed_ms, 1),
                cause=None if won else entry.message, source="store")]
            if won:
                events.append(self.bus.publish("booking_won", now, **slot, source="store"))
            return events
        if entry.action == LogAction.ADOPTED:
            return [self.bus.publish("booking_won", now, **slot, source="adopted")]
        if entry.action in (LogAction.RELEASE, LogAction.CANCEL):
            where = f"{entry.sub_location or entry.location} {entry.day} {entry.hour}"
            return [self.bus.publish("booking_released", now, account=entry.account,
                                     booking=where, reason=entry.message or entry.action,
                                     location=entry.location, sub_location=entry.sub_location,
                                     day=entry.day.isoformat(), hour=entry.hour.hour)]
        return []

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await asyncio.to_thread(self.poll_once)
            except Exception as exc:  # a busy or missing store: look again next time
                log.warning("live feed: %s", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.interval_s)


def sse(event: LiveEvent) -> str:
    return f"id: {event.id}\nevent: {event.kind}\ndata: {json.dumps(event.to_dict())}\n\n"


async def stream(bus: EventBus, last_id: int | None, closing: asyncio.Event,
                 disconnected: Callable[[], Awaitable[bool]]) -> AsyncIterator[str]:
    """Server-sent events: what the client missed (by `Last-Event-ID`), then each event as it
    comes, with a comment now and then so proxies keep the connection open."""
    queue = bus.subscribe()
    try:
        yield "retry: 2000\n\n"
        if last_id is not None:
            for event in list(bus.recent):
                if event.id > last_id:
                    yield sse(event)
        idle = 0.0
        while not closing.is_set():
            try:
                event = await asyncio.wait_for(queue.get(), timeout=1.0)
            except TimeoutError:
                idle += 1.0
                if await disconnected():
                    return
                if idle >= KEEP_ALIVE_S:
                    idle = 0.0
                    yield ": keep-alive\n\n"
                continue
            idle = 0.0
            yield sse(event)
    finally:
        bus.unsubscribe(queue)
