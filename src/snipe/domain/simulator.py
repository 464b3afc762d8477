"""Strategy simulator: plays a booking strategy against modelled contention many times.

Two strategies meet the same worlds (same seeds, see `contention`):
- `planner`: ours. `decide` is called at each instant, its strike fires at the unlock instant
  (plus a few tens of milliseconds of request latency), outcomes are fed back, releases applied.
- `naive`: the seed's section 5 example. A fixed block (the first N hours of the window) at the
  first location; each hour at xx:00:01, every account that may still book it tries, sub-locations
  taken in turn; whatever is won is kept (no surplus release); only after the whole block was
  tried does it move to the next priority, for the same hours; no insurance.

The report gives, per contention level and strategy: the share of runs ending with an accepted
block, with a full-length block, with the full block at the first location, and the bookings
wasted per run (made but not part of the block in the end: ours releases them, the naive
strategy keeps holding them).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from snipe.domain.contention import LEVELS, Contention, World, after
from snipe.domain.ledger import BACKUP, FALLBACK, PRIMARY, Attempt, HeldBooking, PlanState
from snipe.domain.planner import WON_BLOCK, decide
from snipe.domain.rules import Allowances
from snipe.domain.site import SiteProfile
from snipe.domain.slots import Block, TimeWindow, consecutive_runs, slot_start
from snipe.domain.targets import Priority, Target

PLANNER, NAIVE = "planner", "naive"
STRATEGIES = (PLANNER, NAIVE)
# Request latency of a pre-connected HTTP attempt fired at the instant, seconds.
OURS_LATENCY = (0.03, 0.12)
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
    wasted: int
    requests: int

    def full(self, target: Target) -> bool:
        return self.kept is not None and self.kept.length == target.length

    def preferred(self, target: Target) -> bool:
        return self.full(target) and self.kept is not None and (
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


def play_planner(scenario: Scenario, world: World, rng: random.Random) -> RunResult:
    state = PlanState.start(scenario.target, scenario.profile, scenario.accounts)
    now = scenario.start
    for _ in range(MAX_STEPS):
        decision = decide(state, now, forecast=False)
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
        latencies = [rng.uniform(*OURS_LATENCY) for _ in strike.attempts]
        state = state.recorded(
            world.attempt(a, after(strike.fire_at, lat))
            for a, lat in zip(strike.attempts, latencies, strict=True)
        )
        now = after(strike.fire_at, max(latencies, default=0.0))
    else:
        raise RuntimeError(f"plan of {scenario.target.name} did not end in {MAX_STEPS} steps")
    kept = decision.kept.block if decision.verdict == WON_BLOCK and decision.kept else None
    return RunResult(PLANNER, kept, len(state.made()), len(state.released), world.requests)


def play_naive(scenario: Scenario, world: World, rng: random.Random) -> RunResult:
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
            for i, account in enumerate(free):
                role = (PRIMARY if i == 0 else BACKUP) if n == 0 else FALLBACK
                attempt = Attempt(target.name, account, loc.name, subs[i % len(subs)], day, hour,
                                  role, fire)
                world.attempt(attempt, after(fire, rng.uniform(*NAIVE_LATENCY)))
        if accepted_block(world.bookings, target) is not None:
            break
    kept = accepted_block(world.bookings, target)
    made = len(world.bookings)
    return RunResult(NAIVE, kept, made, made - (kept.length if kept else 0), world.requests)


PLAYERS = {PLANNER: play_planner, NAIVE: play_naive}


@dataclass(frozen=True)
class Row:
    level: str
    strategy: str
    runs: int
    block_rate: float  # an accepted block kept
    full_rate: float  # the full N hours
    preferred_rate: float  # the full N hours at the first-ranked location
    wasted_per_run: float
    requests_per_run: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "level": self.level, "strategy": self.strategy, "runs": self.runs,
            "block_rate": round(self.block_rate, 4), "full_rate": round(self.full_rate, 4),
            "preferred_rate": round(self.preferred_rate, 4),
            "wasted_per_run": round(self.wasted_per_run, 3),
            "requests_per_run": round(self.requests_per_run, 2),
        }


def play(
    scenario: Scenario, contention: Contention, strategy: str, runs: int, seed: int = 0
) -> Row:
    """`runs` runs of `strategy`; run i meets the same world whatever the strategy."""
    if runs < 1:
        raise ValueError(f"runs must be at least 1 (got {runs})")
    player = PLAYERS[strategy]
    results = []
    for i in range(runs):
        world = World(scenario.profile, scenario.target, contention,
                      random.Random(f"{seed}:{contention.name}:{i}"))
        rng = random.Random(f"{seed}:{contention.name}:{i}:{strategy}")
        results.append(player(scenario, world, rng))
    target = scenario.target
    return Row(
        contention.name, strategy, runs,
        sum(r.kept is not None for r in results) / runs,
        sum(r.full(target) for r in results) / runs,
        sum(r.preferred(target) for r in results) / runs,
        sum(r.wasted for r in results) / runs,
        sum(r.requests for r in results) / runs,
    )


def compare(
    scenario: Scenario, levels: Sequence[Contention] = LEVELS, runs: int = 200, seed: int = 0,
    strategies: Sequence[str] = STRATEGIES,
) -> list[Row]:
    """The report: one row per contention level and strategy, same seeds for every strategy."""
    return [play(scenario, c, s, runs, seed) for c in levels for s in strategies]
