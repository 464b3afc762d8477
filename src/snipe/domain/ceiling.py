"""The ceiling: the best full-block rate any policy can reach against rivals, by expectimax.

The decision tree of a target such as the seed's example (N consecutive hours of the first-ranked
location inside a time window, several accounts) against `rivals` (see `rivals` for the model).
The best policy knows the model, including where the rivals aim, but not the outcome of any race
before it is run. Its value is the probability of ending with a full block at the first location.

Model of the tree, and why each simplification keeps it exact for that value:
- Only the first location matters: bookings elsewhere (fallback, insurance) never help the value,
  and the best policy simply does not make them, so they take no account away from it.
- Accounts are interchangeable: with at most one booking per hour and one per location per day,
  what counts is how many accounts hold no booking of the location (`accounts - held hours`).
- One decision per unlock instant, hour by hour. Before the strike the policy may release any
  hall it holds; then it sends `k_s` of its free accounts to each sub-hall s (one request per
  account, never two for one hour: an account may hold one booking per hour).
- Chance node: the first wave. A sub-hall with `k_s` of ours and `r_s` rivals goes to us with
  probability k_s / (k_s + r_s), the sub-halls independently. Refused rivals then take the halls
  left free; a hall we win twice over is released at once and goes to a refused rival, if any.
- Each past hour ends in one of four states: LOST (a rival holds every hall), FREE (a hall is
  free and no rival wants it: we may take it whenever we like, so it costs no account until
  then), HELD_SAFE (we hold it; released, it would be FREE), HELD_FRAGILE (we hold it; released,
  a refused rival takes it).
- An hour that can no longer be part of a block not yet decided is released (it only ties up an
  account): the state is the number of hours still to unlock and the states of the last N-1
  hours. Memoised; with equal rivals on every sub-hall, sub-hall splits are counted once.
- The value at the end is 1 when N consecutive hours are all HELD or FREE (enough accounts take
  the FREE ones), else 0.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import combinations, product
from typing import TYPE_CHECKING

from snipe.domain.rivals import Rivals, SimulationError

if TYPE_CHECKING:
    from snipe.domain.simulator import Scenario

LOST, FREE, SAFE, FRAGILE, KEPT = "lost", "free", "held", "held-fragile", "kept"
HELD = (SAFE, FRAGILE, KEPT)
USABLE = (*HELD, FREE)


@dataclass(frozen=True)
class Ceiling:
    value: float  # probability of a full block under the best policy
    first_split: tuple[int, ...]  # the best policy's accounts per sub-hall at the first unlock
    states: int  # distinct states evaluated


def ceiling(scenario: Scenario, rivals: Rivals, keeping: bool = False) -> Ceiling:
    """The best policy's full-block rate for `scenario`'s target against `rivals`. With
    `keeping`, the policy never releases a held accepted block (a shorter one the target's
    fallback strategy accepts) to chase the full one, as the planner does."""
    target, profile = scenario.target, scenario.profile
    rules = profile.rules
    if (rules.max_bookings_per_hour_per_day, rules.max_bookings_per_location_per_day) != (1, 1) or (
            not rules.cancel_restores_allowance) or len(target.days) != 1:
        raise SimulationError("the ceiling models one day under one-booking-per-hour-and-location "
                              "rules where a cancellation restores the allowance")
    first = target.ranked()[0]
    loc = profile.location(first.location)
    if loc is None:
        raise SimulationError(f"location {first.location!r} is not on site {profile.name!r}")
    subs = len(first.sub_locations or loc.sub_locations) or 1
    tree = Tree(
        hours=len(target.window.hours), length=target.length,
        accounts=min(len(target.accounts or scenario.accounts), first.max_accounts),
        aims=rivals.aims(subs),
        kept_from=target.min_length if keeping and target.min_length < target.length else None,
    )
    value, split = tree.best()
    return Ceiling(value, split, len(tree.memo))


State = tuple[int, tuple[str, ...], int]  # hours left, last N-1 hours, accounts locked


@dataclass
class Tree:
    hours: int  # hours of the window, unlocked one after the other
    length: int  # hours of the block
    accounts: int
    aims: tuple[int, ...]  # rivals aiming first at each sub-hall
    kept_from: int | None = None  # held runs this long are kept (never released)
    memo: dict[State, float] = field(default_factory=dict)

    def best(self) -> tuple[float, tuple[int, ...]]:
        # The hours before the window count as lost: no block can use them.
        return self._decide((self.hours, (LOST,) * (self.length - 1), 0))

    def value(self, state: State) -> float:
        """Best success probability from `state`."""
        if state not in self.memo:
            left, recent, locked = state
            run = 0
            for s in recent:
                run = run + 1 if s in USABLE else 0
            hopeless = run + left < self.length or self.accounts - locked < self.length
            self.memo[state] = 0.0 if left == 0 or hopeless else self._decide(state)[0]
        return self.memo[state]

    def _decide(self, state: State) -> tuple[float, tuple[int, ...]]:
        left, recent, locked = state
        best, best_split = -1.0, ()
        movable = [i for i, s in enumerate(recent) if s in (SAFE, FRAGILE)]
        for n in range(len(movable) + 1):
            for gone in combinations(movable, n):
                kept = tuple(_released(s) if i in gone else s for i, s in enumerate(recent))
                free_accounts = self.accounts - locked - sum(s in HELD for s in kept)
                for split in self._splits(free_accounts):
                    value = sum(p * self._after(left, kept, locked, hour)
                                for p, hour in self._race(split))
                    # On a tie, the split that fires more accounts (it books what is free at once).
                    if value > best + 1e-12 or (value > best - 1e-12 and sum(split) > sum(best_split)):
                        best, best_split = value, split
        return best, best_split

    def _after(self, left: int, kept: tuple[str, ...], locked: int, hour: str) -> float:
        recent = self._keep((*kept, hour))
        if _run(recent, USABLE) >= self.length:
            return 1.0
        # The oldest hour leaves the window: released, or locked for good when kept.
        return self.value((left - 1, recent[1:], locked + (recent[0] == KEPT)))

    def _keep(self, recent: tuple[str, ...]) -> tuple[str, ...]:
        """Mark the held run ending with the new hour as kept once it is an accepted block."""
        if self.kept_from is None or recent[-1] not in HELD:
            return recent
        start = len(recent)
        while start > 0 and recent[start - 1] in HELD:
            start -= 1
        if len(recent) - start < self.kept_from:
            return recent
        return recent[:start] + (KEPT,) * (len(recent) - start)
    def _splits(self, free_accounts: int) -> Iterator[tuple[int, ...]]:
        symmetric = len(set(self.aims)) == 1
        for split in product(range(free_accounts + 1), repeat=len(self.aims)):
            if sum(split) > free_accounts:
                continue
            if symmetric and list(split) != sorted(split, reverse=True):
                continue  # the mirror split has the same value
            yield split

    def _race(self, split: tuple[int, ...]) -> Iterator[tuple[float, str]]:
        """The first wave at one hour: (probability, state the hour ends in)."""
        for wins in product((True, False), repeat=len(split)):
            p = 1.0
            for k, r, won in zip(split, self.aims, wins, strict=True):
                if k == 0:
                    p *= 0.0 if won else 1.0
                else:
                    chance = k / (k + r)
                    p *= chance if won else 1 - chance
            if p == 0.0:
                continue
            ours = sum(wins)
            taken_by_rivals = sum(1 for k, r, won in zip(split, self.aims, wins, strict=True)
                                  if not won and r > 0)
            free = sum(1 for k, r, won in zip(split, self.aims, wins, strict=True)
                       if not won and r == 0)
            hungry = sum(self.aims) - taken_by_rivals
            fallen = min(hungry, free)
            hungry, free = hungry - fallen, free - fallen
            if ours:
                hungry = max(0, hungry - (ours - 1))  # the surplus goes to a refused rival
                yield p, FRAGILE if hungry else SAFE
            else:
                yield p, FREE if free else LOST


def _released(state: str) -> str:
    return FREE if state == SAFE else LOST


def _run(states: tuple[str, ...], usable: tuple[str, ...]) -> int:
    """The longest run of consecutive usable hours."""
    run = longest = 0
    for s in states:
        run = run + 1 if s in usable else 0
        longest = max(longest, run)
    return longest
