"""Modelled contention: when competitors take each slot, and the site answering our attempts.

A hall slot (capacity 1) is wanted by a competitor with a probability that grows at popular hours;
the competitor arrives an exponentially distributed number of seconds after the unlock and takes it
unless one of our accounts booked it first. A slot of a large location (Fitness) fills up, with
some probability, hours after its unlock. With rivals (see `rivals`), the target's first location
is fought over by rivals as fast as we are instead, and the levels above model the others. Every
draw is made up front from a seeded `random.Random`, so two strategies played against the same
world meet the same competitors.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from snipe.domain.ledger import FULL, LIMIT, NOT_OPEN, WON, Attempt, HeldBooking, Outcome
from snipe.domain.rivals import HallRace, Rivals, SimulationError
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
    raise SimulationError(
        f"unknown contention level {name!r} ({', '.join(c.name for c in LEVELS)})")


def popularity(hour: int) -> float:
    """Late afternoon and evening halls go first; mornings are quieter."""
    if 16 <= hour < 21:
        return 1.0
    if 12 <= hour < 16:
        return 0.85
    return 0.7


class World:
    """The site in one run: competitors' arrivals, our bookings, the per-account rules.

    With `rivals`, the target's first location is fought over by those rivals (see `rivals`) and
    `contention` only models the other locations."""

    def __init__(
        self, profile: SiteProfile, target: Target, contention: Contention, rng: random.Random,
        rivals: Rivals | None = None,
    ) -> None:
        self.profile = profile
        self.taken_at: dict[SubSlot, float] = {}  # seconds after unlock
        self.ours: dict[SubSlot, str] = {}
        self.races: dict[tuple[str, date, int], HallRace] = {}
        self.bookings: list[HeldBooking] = []
        self.requests = 0
        self.unlocks: set[datetime] = set()  # unlock instants of the slots we asked for
        self._refs = 0
        contested = target.ranked()[0].location.casefold() if rivals is not None else None
        for p in sorted(target.priorities, key=lambda p: p.rank):
            loc = profile.location(p.location)
            if loc is None:
                continue
            subs = tuple(s.name for s in loc.sub_locations) or (None,)
            for day in target.days:
                for hour in range(profile.first_start_hour, profile.last_end_hour):
                    if rivals is not None and loc.name.casefold() == contested:
                        self.races[(loc.name, day, hour)] = HallRace.draw(subs, rivals, rng)
                        continue
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

    def fire(self, shots: Sequence[tuple[Attempt, datetime]]) -> list[Outcome]:
        """The site's answers to requests sent together (one strike), in the order given."""
        answers: dict[int, Outcome] = {}
        first_waves: dict[tuple[str, date, int], list[int]] = {}
        for i, (a, _) in enumerate(shots):
            race = self.races.get((a.location, a.day, a.hour))
            if race is not None and not race.resolved and a.fire_at == self.unlock(
                    a.location, a.day, a.hour):
                first_waves.setdefault((a.location, a.day, a.hour), []).append(i)
        for key, indices in first_waves.items():
            answers.update(self._first_wave(self.races[key], [(i, *shots[i]) for i in indices]))
        for i in sorted(set(range(len(shots))) - set(answers), key=lambda i: shots[i][1]):
            answers[i] = self.attempt(*shots[i])
        return [answers[i] for i in range(len(shots))]

    def _first_wave(self, race: HallRace, shots: list[tuple[int, Attempt, datetime]]
                    ) -> dict[int, Outcome]:
        answers: dict[int, Outcome] = {}
        by_index = {i: a for i, a, _ in shots}

        def book(i: int) -> str | None:
            answers[i] = self._book(by_index[i])
            return answers[i].ref

        first = shots[0][1]
        unlock = self.unlock(first.location, first.day, first.hour)
        self.requests += len(shots)
        self.unlocks.add(unlock)
        race.resolve([((t - unlock).total_seconds(), i, a.sub_location) for i, a, t in shots], book)
        return {i: answers.get(i, Outcome(a, FULL)) for i, a, _ in shots}

    def attempt(self, attempt: Attempt, arrives: datetime) -> Outcome:
        """The site's answer to `attempt` when its request arrives at `arrives`."""
        self.requests += 1
        a = attempt
        unlock = self.unlock(a.location, a.day, a.hour)
        self.unlocks.add(unlock)
        if arrives < unlock:
            return Outcome(a, NOT_OPEN)
        if arrives >= slot_start(a.day, a.hour, self.profile.tz):
            return Outcome(a, FULL)
        race = self.races.get((a.location, a.day, a.hour))
        if race is not None:
            if not race.resolved:  # the peers fought at the instant without us
                race.resolve([], lambda i: None)
            if race.holder[a.sub_location] is not None:
                return Outcome(a, FULL)
            outcome = self._book(a)
            if outcome.ref is not None:
                race.take(a.sub_location, outcome.ref)
            return outcome
        loc = self.profile.location(a.location)
        assert loc is not None
        if loc.capacity == 1 and a.sub_slot in self.ours:
            return Outcome(a, FULL)
        if (arrives - unlock).total_seconds() >= self.taken_at.get(a.sub_slot, NEVER):
            return Outcome(a, FULL)
        outcome = self._book(a)
        if outcome.won and loc.capacity == 1:
            self.ours[a.sub_slot] = a.account
        return outcome

    def _book(self, a: Attempt) -> Outcome:
        """Our booking of a free slot, unless the account's allowances refuse it."""
        allow = Allowances(self.profile.rules, (b.holding for b in self.bookings))
        if not allow.allows(a.account, a.day, a.hour, a.location):
            return Outcome(a, LIMIT)
        self._refs += 1
        outcome = Outcome(a, WON, f"b{self._refs}")
        self.bookings.append(outcome.booking())
        return outcome

    def release(self, ref: str) -> None:
        """Cancel our booking `ref`. A hall of a rivals' location goes to a refused rival of that
        hour at once; elsewhere a competitor who wanted the hall has gone elsewhere."""
        for b in [b for b in self.bookings if b.ref == ref]:
            self.bookings.remove(b)
            self.ours.pop((b.location, b.sub_location, b.day, b.hour), None)
            race = self.races.get((b.location, b.day, b.hour))
            if race is not None:
                race.release(ref)


def after(instant: datetime, seconds: float) -> datetime:
    return instant + timedelta(seconds=seconds)
