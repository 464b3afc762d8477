"""Competing bots: at each hourly unlock they grab hall slots, through the same booking desk.

Which slots a bot goes for, and how late it arrives, is drawn from a generator seeded by
(seed, bot, bookingId): runs repeat whatever the timing. The `hall-rush` and `fast` bots' arrival
delays are real seconds, since network latency is physical even when the sandbox clock runs
fast; `peer` bots (peers.py) arrive a few milliseconds after the instant, kept in sandbox time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from snipe.sandbox.catalogue import Catalogue
from snipe.sandbox.clock import Clock, iso
from snipe.sandbox.peers import Peers, is_peer, parse_peer
from snipe.sandbox.refusals import Refusal

log = logging.getLogger("snipe.sandbox.bots")

ARRIVAL_S = {"hall-rush": (0.7, 1.5), "fast": (0.01, 0.06)}


def appetite(hour: int) -> float:
    """How likely a bot is to take a hall slot starting at local `hour`."""
    if 16 <= hour < 20:
        return 0.9
    if 12 <= hour < 16 or 20 <= hour < 22:
        return 0.6
    return 0.3


@dataclass(frozen=True)
class BotAttempt:
    bot: str
    account: str
    booking_id: int
    start: datetime
    delay_s: float  # real seconds after the unlock instant


def plan_strike(catalogue: Catalogue, bots: tuple[str, ...], seed: int,
                unlock: datetime) -> list[BotAttempt]:
    """What the bots try at the unlock instant `unlock` (pure: same inputs, same plan)."""
    attempts = []
    for kind in catalogue.kinds:
        if kind.sub is None:
            continue
        start = unlock + kind.location.window
        hour = start.astimezone(catalogue.tz).hour
        if hour not in catalogue.hours:
            continue
        booking_id = catalogue.booking_id(kind, start)
        for bot in bots:
            draw = random.Random(f"{seed}:{bot}:{booking_id}")
            if draw.random() >= appetite(hour):
                continue
            low, high = ARRIVAL_S[bot]
            slug = kind.sub.name.replace(" ", "").lower()
            attempts.append(BotAttempt(bot, f"{bot}-{slug}-{hour:02d}", booking_id, start,
                                       draw.uniform(low, high)))
    return sorted(attempts, key=lambda a: a.delay_s)


def next_unlock(now: datetime) -> datetime:
    """The first whole hour at or after `now` (unlocks fall on whole UTC hours)."""
    hour = now.replace(minute=0, second=0, microsecond=0)
    return hour if hour == now else hour + timedelta(hours=1)


class BotCrew:
    def __init__(self, replica: Any) -> None:
        self.replica = replica
        names = tuple(replica.config.bots)
        self.bots: tuple[str, ...] = tuple(n for n in names if not is_peer(n))
        self.seed: int = replica.config.seed
        self.outcomes: deque[dict[str, Any]] = deque(maxlen=500)
        self._tasks: set[asyncio.Task] = set()
        specs = [parse_peer(n) for n in names if is_peer(n)]
        self.peers = Peers(replica, specs, self.seed, self.outcomes.append) if specs else None

    @property
    def active(self) -> bool:
        return bool(self.bots or self.peers)

    def reset(self) -> None:
        """Forget the bot log and the peers' watch (the bookings they watched are gone)."""
        self.outcomes.clear()
        if self.peers is not None:
            self.peers.reset()

    def _next_event(self, unlock: datetime) -> datetime:
        when = unlock if self.bots else None
        if self.peers is not None:
            due = datetime.fromtimestamp(self.peers.next_due(), UTC)
            when = due if when is None else min(when, due)
        assert when is not None
        return when

    async def run(self) -> None:
        clock: Clock = self.replica.clock
        loop = asyncio.get_running_loop()
        moved = asyncio.Event()
        moved_to: list[float] = []

        def on_clock_set(sandbox_s: float) -> None:
            if self.peers is not None:
                self.peers.moved(sandbox_s)  # at once: a request may follow before the loop runs
            moved_to.append(sandbox_s)
            with contextlib.suppress(RuntimeError):  # the loop is already closed
                loop.call_soon_threadsafe(moved.set)

        clock.subscribe(on_clock_set)
        try:
            unlock = next_unlock(clock.now())
            while True:
                wait = clock.real_seconds_until(self._next_event(unlock))
                if wait > 0:
                    moved.clear()
                    try:
                        await asyncio.wait_for(moved.wait(), timeout=wait)
                    except TimeoutError:
                        continue  # re-check: the loop's timer may fire a hair early
                    # The clock jumped: unlocks skipped over are gone, one landed on is kept.
                    unlock = next_unlock(datetime.fromtimestamp(moved_to[-1], UTC))
                    moved_to.clear()
                    continue
                now = clock.now()
                if self.bots and now >= unlock:
                    self.strike(unlock)
                    unlock += timedelta(hours=1)
                if self.peers is not None:
                    self.peers.serve_until(now.timestamp())
        finally:
            clock.unsubscribe(on_clock_set)
            for task in list(self._tasks):
                task.cancel()

    def strike(self, unlock: datetime) -> None:
        for attempt in plan_strike(self.replica.catalogue, self.bots, self.seed, unlock):
            task = asyncio.create_task(self._arrive(attempt, unlock))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
    async def _arrive(self, attempt: BotAttempt, unlock: datetime) -> None:
        await asyncio.sleep(attempt.delay_s)
        replica = self.replica
        outcome = "booked"
        try:
            member = replica.accounts.bot_account(attempt.account, attempt.bot)
            replica.desk.book(member.id, [attempt.booking_id])
        except Refusal as refusal:
            outcome = refusal.code
        except Exception:  # a bot must never take the server down
            log.exception("bot %s failed on slot %s", attempt.bot, attempt.booking_id)
            outcome = "error"
        self.outcomes.append({
            "bot": attempt.bot, "account": attempt.account, "bookingId": attempt.booking_id,
            "start": iso(attempt.start), "unlock": iso(unlock),
            "at": iso(datetime.fromtimestamp(replica.clock.now_s(), UTC)), "outcome": outcome,
        })
