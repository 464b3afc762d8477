"""Strategy simulator: plays booking strategies against modelled competition many times.

Three strategies meet the same worlds (same seeds, see `contention` and `rivals`):
- `snipe`: ours. `decide` is called at each instant, its strike fires at the unlock instant
  (plus a few tens of milliseconds of request latency), outcomes are fed back, releases applied.
- `snipe-before`: the same loop with the earlier planner (`planner_before`), kept to measure what
  the parallel attempts and the yielding insurance changed.
- `naive`: the seed's section 5 example. A fixed block (the first N hours of the window) at the
  first location; each hour at xx:00:01, every account that may still book it tries, sub-locations
  taken in turn; whatever is won is kept (no surplus release); only after the whole block was
  tried does it move to the next priority, for the same hours; no insurance.

The competition is either a modelled contention level (slow bots, filling Fitness) or a rival
level such as `peer:2` (rivals as fast as we are at the first location, a contention level as
the background elsewhere). The report gives, per level and strategy: the share of runs ending
with the full block at the first location, with another accepted block, with nothing; the
bookings made and the surplus (made but not in the kept block: ours releases them, the naive
strategy keeps holding them) per target; the requests per run and per unlock instant.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from snipe.domain import planner_before
from snipe.domain.ceiling import ceiling
from snipe.domain.contention import LEVELS, Contention, World, after, level
from snipe.domain.ledger import BACKUP, FALLBACK, PRIMARY, Attempt, HeldBooking, PlanState
from snipe.domain.planner import WON_BLOCK, decide
from snipe.domain.rivals import LATENCY, Rivals, SimulationError
from snipe.domain.rules import Allowances
from snipe.domain.site import SiteProfile
from snipe.domain.slots import Block, TimeWindow, consecutive_runs, slot_start
from snipe.domain.targets import Priority, Target

SNIPE, BEFORE, NAIVE = "snipe", "snipe-before", "naive"
STRATEGIES = (BEFORE, SNIPE, NAIVE)
# The naive bot fires at xx:00:01 and then drives a browser through the booking pages.
NAIVE_DELAY, NAIVE_LATENCY = 1.0, (0.5, 2.0)
MAX_STEPS = 500


@dataclass(frozen=True)
class Scenario:
    target: Target
    profile: SiteProfile
    accounts: tuple[str, ...]
    start: datetime  # when planning begins, before any unlock


def seed_scenario(profile: SiteProfile, day: date = date(2026, 11, 26)) -> Scenario:
    """The seed's example: 3 consecutive hours between 11:00 and 18:00, X1 (3 accounts) else X3
    (2) else Fitness (3), accepting 2 consecutive hours; accounts user1..user3."""
    target = Target(
        name="seed-example",
        days=(day,),
        length=3,
        window=TimeWindow(11, 18),
        priorities=(
            Priority(1, "X1", ("X1 A", "X1 B"), 3),
            Priority(2, "X3", ("X3 A", "X3 B"), 2),
            Priority(3, "Fitness", (), 3),
        ),
        min_length=2,
        fallback_strategy="accept_2_consecutive_hours",
    )
    start = slot_start(day, 0, profile.tz).astimezone(UTC) - timedelta(days=8)
    return Scenario(target, profile, ("user1", "user2", "user3"), start)


@dataclass(frozen=True)
class RunResult:
    strategy: str
    kept: Block | None
    made: int
    surplus: int
    requests: int
    unlocks: int  # unlock instants whose slots we sent requests to

    def full(self, target: Target) -> bool:
        """The full block at the first-ranked location."""
        return self.kept is not None and self.kept.length == target.length and (
            self.kept.location == target.ranked()[0].location)


def accepted_block(bookings: Iterable[HeldBooking], target: Target) -> Block | None:
    """The best accepted block the bookings cover: best-ranked location, then longest."""
    rank = {p.location.casefold(): p.rank for p in target.priorities}
    hours: dict[tuple[str, date], set[int]] = {}
    for b in bookings:
        if b.hour in target.window.hours and b.day in target.days:
            hours.setdefault((b.location, b.day), set()).add(b.hour)
    found = []
    for (location, day), held in hours.items():
        for run in consecutive_runs(held):
            length = min(len(run), target.length)
            if length >= target.min_length:
                found.append(Block(day, run.start, length, location))
    if not found:
        return None
    return min(found, key=lambda b: (rank.get(b.location.casefold(), 99), -b.length, b.start_hour))


def play_planner(scenario: Scenario, world: World, rng: random.Random, strategy: str = SNIPE
                 ) -> RunResult:
    decide_now = DECIDERS[strategy]
    state = PlanState.start(scenario.target, scenario.profile, scenario.accounts)
    now = scenario.start
    for _ in range(MAX_STEPS):
        decision = decide_now(state, now, forecast=False)
        for r in decision.releases:
            world.release(r.booking.ref)
            state = state.after_release(r.booking.ref, r.kind)
        if decision.done:
            break
        strike = decision.strikes[0]
        for r in strike.releases_before:
            world.release(r.booking.ref)
            state = state.after_release(r.booking.ref, r.kind)
        # Attempts fire together; the next decision comes once the last answer is back.
        latencies = [rng.uniform(*LATENCY) for _ in strike.attempts]
        state = state.recorded(world.fire([
            (a, after(strike.fire_at, lat)) for a, lat in zip(strike.attempts, latencies, strict=True)
        ]))
        now = after(strike.fire_at, max(latencies, default=0.0))
    else:
        raise RuntimeError(f"plan of {scenario.target.name} did not end in {MAX_STEPS} steps")
    kept = decision.kept.block if decision.verdict == WON_BLOCK and decision.kept else None
    return RunResult(strategy, kept, len(state.made()), len(state.released), world.requests,
                     len(world.unlocks))


def play_naive(scenario: Scenario, world: World, rng: random.Random, strategy: str = NAIVE
               ) -> RunResult:
    target, profile = scenario.target, scenario.profile
    day = target.days[0]
    hours = list(target.window.hours)[: target.length]
    ranked = target.ranked()
    last_unlock = world.unlock(ranked[0].location, day, hours[-1])
    for n, priority in enumerate(ranked):
        loc = profile.location(priority.location)
        if loc is None:
            continue
        subs = priority.sub_locations or tuple(s.name for s in loc.sub_locations) or (None,)
        accounts = scenario.accounts[: priority.max_accounts]
        for hour in hours:
            if n == 0:
                fire = after(world.unlock(loc.name, day, hour), NAIVE_DELAY)
            else:  # the next priority is tried once the first one has failed
                fire = after(last_unlock, 60.0 * n)
            allow = Allowances(profile.rules, (b.holding for b in world.bookings))
            free = [a for a in accounts if allow.allows(a, day, hour, loc.name)]
            shots = []
            for i, account in enumerate(free):
                role = (PRIMARY if i == 0 else BACKUP) if n == 0 else FALLBACK
                attempt = Attempt(target.name, account, loc.name, subs[i % len(subs)], day, hour,
                                  role, fire)
                shots.append((attempt, after(fire, rng.uniform(*NAIVE_LATENCY))))
            world.fire(shots)
        if accepted_block(world.bookings, target) is not None:
            break
    kept = accepted_block(world.bookings, target)
    made = len(world.bookings)
    return RunResult(NAIVE, kept, made, made - (kept.length if kept else 0), world.requests,
                     len(world.unlocks))


DECIDERS = {SNIPE: decide, BEFORE: planner_before.decide}
PLAYERS = {SNIPE: play_planner, BEFORE: play_planner, NAIVE: play_naive}


@dataclass(frozen=True)
class Level:
    """What the runs meet: rivals at the first location (or none) and a contention level."""

    contention: Contention
    rivals: Rivals | None = None

    @property
    def name(self) -> str:
        return self.rivals.name if self.rivals is not None else self.contention.name


@dataclass(frozen=True)
class Row:
    level: Level
    strategy: str
    runs: int
    full_block: float  # the full block at the first-ranked location
    fallback_block: float  # another accepted block
    nothing: float
    made_per_target: float
    surplus_per_target: float  # made but not in the kept block
    requests_per_run: float
    requests_per_unlock: float
    ceiling: float | None = None  # the best policy's full-block rate (rival levels)
    ceiling_keeping: float | None = None  # the same, keeping a held accepted block

    def to_dict(self) -> dict[str, Any]:
        where = ({"rivals": self.level.name, "background": self.level.contention.name}
                 if self.level.rivals is not None else {"level": self.level.name})
        return {
            **where, "strategy": self.strategy, "runs": self.runs,
            "full_block": round(self.full_block, 4),
            "fallback_block": round(self.fallback_block, 4), "nothing": round(self.nothing, 4),
            "made_per_target": round(self.made_per_target, 3),
            "surplus_per_target": round(self.surplus_per_target, 3),
            "requests_per_run": round(self.requests_per_run, 2),
            "requests_per_unlock": round(self.requests_per_unlock, 2),
            "ceiling": None if self.ceiling is None else round(self.ceiling, 4),
            "ceiling_keeping": None if self.ceiling_keeping is None
            else round(self.ceiling_keeping, 4),
        }


def play(scenario: Scenario, where: Level | Contention, strategy: str, runs: int, seed: int = 0
         ) -> Row:
    """`runs` runs of `strategy`; run i meets the same world whatever the strategy."""
    if runs < 1:
        raise SimulationError(f"runs must be at least 1 (got {runs})")
    if strategy not in PLAYERS:
        raise SimulationError(f"unknown strategy {strategy!r} ({', '.join(STRATEGIES)})")
    where = where if isinstance(where, Level) else Level(where)
    results = []
    for i in range(runs):
        world = World(scenario.profile, scenario.target, where.contention,
                      random.Random(f"{seed}:{where.name}:{i}"), where.rivals)
        rng = random.Random(f"{seed}:{where.name}:{i}:{strategy}")
        results.append(PLAYERS[strategy](scenario, world, rng, strategy))
    target = scenario.target
    full = sum(r.full(target) for r in results) / runs
    block = sum(r.kept is not None for r in results) / runs
    return Row(
        where, strategy, runs, full, block - full, 1 - block,
        sum(r.made for r in results) / runs, sum(r.surplus for r in results) / runs,
        sum(r.requests for r in results) / runs,
        sum(r.requests for r in results) / max(1, sum(r.unlocks for r in results)),
    )


def compare(
    scenario: Scenario, levels: Sequence[Level | Contention] = LEVELS, runs: int = 200,
    seed: int = 0, strategies: Sequence[str] = STRATEGIES,
) -> list[Row]:
    """The report: one row per level and strategy, same seeds for every strategy; rival levels
    carry the ceilings of `ceiling`."""
    if runs < 1:
        raise SimulationError(f"runs must be at least 1 (got {runs})")
    rows = []
    for where in levels:
        where = where if isinstance(where, Level) else Level(where)
        best: tuple[float | None, float | None] = (None, None)
        if where.rivals is not None:
            best = (ceiling(scenario, where.rivals).value,
                    ceiling(scenario, where.rivals, keeping=True).value)
        rows += [replace(play(scenario, where, s, runs, seed), ceiling=best[0],
                         ceiling_keeping=best[1]) for s in strategies]
    return rows


def rival_levels(rivals: Sequence[Rivals], background: str = "medium") -> list[Level]:
    return [Level(level(background), r) for r in rivals]
