"""Modelled contention: when competitors take each slot, and the site answering our attempts.

A hall slot (capacity 1) is wanted by a competitor with a probability that grows at popular hours;
the competitor arrives an exponentially distributed number of seconds after the unlock and takes it
unless one of our accounts booked it first. A slot of a large location (Fitness) fills up, with
some probability, hours after its unlock. Every draw is made up front from a seeded
`random.Random`, so two strategies played against the same world meet the same competitors.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from snipe.domain.ledger import FULL, LIMIT, NOT_OPEN, WON, Attempt, HeldBooking, Outcome
from snipe.domain.rules import Allowances
from snipe.domain.site import SiteProfile
from snipe.domain.slots import slot_start, unlock_instant
from snipe.domain.targets import Target

SubSlot = tuple[str, str | None, date, int]
NEVER = float("inf")


@dataclass(frozen=True)
class Contention:
    """One contention level. Seconds and hours are counted from each slot's unlock."""

    name: str
    take: float  # chance a competitor wants a hall slot at a popular hour
    arrival_s: float  # mean competitor arrival after the unlock, seconds
    fill: float  # chance a large location's slot fills up before the day
    fill_h: float  # mean hours after its unlock until it fills, when it does


LEVELS = (
    Contention("none", 0.0, 5.0, 0.0, 48.0),
    Contention("low", 0.3, 3.0, 0.05, 72.0),
    Contention("medium", 0.6, 1.0, 0.2, 48.0),
    Contention("high", 0.85, 0.25, 0.4, 36.0),
    Contention("extreme", 1.0, 0.06, 0.7, 24.0),
)


def level(name: str) -> Contention:
    for c in LEVELS:
        if c.name == name:
            return c
    raise ValueError(f"unknown contention level {name!r} ({', '.join(c.name for c in LEVELS)})")


def popularity(hour: int) -> float:
    """Late afternoon and evening halls go first; mornings are quieter."""
    if 16 <= hour < 21:
        return 1.0
    if 12 <= hour < 16:
        return 0.85
    return 0.7


class World:
    """The site in one run: competitors' arrivals, our bookings, the per-account rules."""

    def __init__(
        self, profile: SiteProfile, target: Target, contention: Contention, rng: random.Random
    ) -> None:
        self.profile = profile
        self.taken_at: dict[SubSlot, float] = {}  # seconds after unlock
        self.ours: dict[SubSlot, str] = {}
        self.bookings: list[HeldBooking] = []
        self.requests = 0
        self._refs = 0
        for p in sorted(target.priorities, key=lambda p: p.rank):
            loc = profile.location(p.location)
            if loc is None:
                continue
            subs = tuple(s.name for s in loc.sub_locations) or (None,)
            for day in target.days:
                for hour in range(profile.first_start_hour, profile.last_end_hour):
                    for sub in subs:
                        self.taken_at[(loc.name, sub, day, hour)] = self._draw(
                            loc.capacity, hour, contention, rng)

    @staticmethod
    def _draw(capacity: int, hour: int, c: Contention, rng: random.Random) -> float:
        wanted, delay = rng.random(), rng.expovariate(1.0)
        if capacity > 1:
            return delay * c.fill_h * 3600 if wanted < c.fill else NEVER
        return delay * c.arrival_s if wanted < c.take * popularity(hour) else NEVER

    def unlock(self, location: str, day: date, hour: int) -> datetime:
        loc = self.profile.location(location)
        assert loc is not None
        return unlock_instant(slot_start(day, hour, self.profile.tz), loc.window)

    def attempt(self, attempt: Attempt, arrives: datetime) -> Outcome:
        """The site's answer to `attempt` when its request arrives at `arrives`."""
        self.requests += 1
        a = attempt
        unlock = self.unlock(a.location, a.day, a.hour)
        if arrives < unlock:
            return Outcome(a, NOT_OPEN)
        if arrives >= slot_start(a.day, a.hour, self.profile.tz):
            return Outcome(a, FULL)
        allow = Allowances(self.profile.rules, (b.holding for b in self.bookings))
        if not allow.allows(a.account, a.day, a.hour, a.location):
            return Outcome(a, LIMIT)
        loc = self.profile.location(a.location)
        assert loc is not None
        if loc.capacity == 1 and a.sub_slot in self.ours:
            return Outcome(a, FULL)
        if (arrives - unlock).total_seconds() >= self.taken_at.get(a.sub_slot, NEVER):
            return Outcome(a, FULL)
        self._refs += 1
        ref = f"b{self._refs}"
        outcome = Outcome(a, WON, ref)
        self.bookings.append(outcome.booking())
        if loc.capacity == 1:
            self.ours[a.sub_slot] = a.account
        return outcome

    def release(self, ref: str) -> None:
        """Cancel our booking `ref`; a competitor who wanted the hall has gone elsewhere."""
        for b in [b for b in self.bookings if b.ref == ref]:
            self.bookings.remove(b)
            self.ours.pop((b.location, b.sub_location, b.day, b.hour), None)


def after(instant: datetime, seconds: float) -> datetime:
    return instant + timedelta(seconds=seconds)
