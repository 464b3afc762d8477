"""Which blocks of a target can still be won, given what is held, what was lost and the rules.

A block is *complete* when this target holds every hour of it at its location; it is *live* when
it is not complete yet and every missing hour can still be won: the slot starts in the future, a
sub-location of it was neither taken nor tried too often, and enough accounts may still book it
(one account per hour, by the site's allowances, within the priority's `max_accounts` and the
profile's fair-use budget of requests per account and unlock instant). The last part is a small
maximum-flow problem: hours on one side, accounts on the other.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import date, datetime

from snipe.domain.ledger import HeldBooking, PlanState, SlotRecord
from snipe.domain.rules import Allowances
from snipe.domain.scoring import score_block
from snipe.domain.site import Location
from snipe.domain.slots import Block, TimeWindow, candidate_blocks, slot_start, unlock_instant
from snipe.domain.targets import Priority

SubSlot = tuple[str, str | None, date, int]


@dataclass(frozen=True)
class Candidate:
    """A block the target would accept, with the rank of its location and its W_C score."""

    block: Block
    rank: int
    score: float

    @property
    def location(self) -> str:
        return self.block.location

    @property
    def merit(self) -> tuple[int, int, float]:
        """Better-ranked location first (the user's "else X3, else Fitness"), then longer (a
        shorter block is only what `fallback_strategy` accepts), then better W_C score."""
        return (-self.rank, self.block.length, self.score)

    def describe(self) -> str:
        b = self.block
        return f"{b.location} {b.day} {b.start_hour:02d}:00-{b.end_hour:02d}:00"


def target_candidates(state: PlanState) -> list[Candidate]:
    target, profile = state.target, state.profile
    window = TimeWindow(
        max(target.window.start_hour, profile.first_start_hour),
        min(target.window.end_hour, profile.last_end_hour),
    )
    found: list[Candidate] = []
    for priority in target.ranked():
        loc = profile.location(priority.location)
        if loc is None or not loc.bookable:
            continue
        for day in target.days:
            for length in range(target.length, target.min_length - 1, -1):
                for block in candidate_blocks(day, window, length, loc.name):
                    score = 0.0
                    if target.preferences is not None:
                        score = score_block(
                            day, block.start_hour, block.end_hour, target.preferences
                        ).total
                    found.append(Candidate(block, priority.rank, score))
    found.sort(key=lambda c: (c.rank, -c.block.length, -c.score, c.block.day, c.block.start_hour))
    return found


class Outlook:
    """A snapshot at `now` of one target's chances, over the bookings `mine` it holds."""

    def __init__(
        self, state: PlanState, now: datetime, mine: list[HeldBooking],
        candidates: list[Candidate], record: SlotRecord,
    ) -> None:
        self.state, self.now, self.record = state, now, record
        profile = state.profile
        self.tz, self.rules = profile.tz, profile.rules
        self.budget = profile.max_requests_per_unlock_per_account
        self.candidates = candidates
        self.mine = mine
        self.priority: dict[str, Priority] = {}
        self.loc: dict[str, Location] = {}
        for p in state.target.ranked():
            loc = profile.location(p.location)
            if loc is not None and loc.name not in self.priority:
                self.priority[loc.name], self.loc[loc.name] = p, loc
        mine_refs = {b.ref for b in mine}
        others = [b for b in state.held if b.target != state.target.name]
        # Bookings of this target dropped from `mine` are being released in this decision.
        counted = others + mine
        if not self.rules.cancel_restores_allowance:
            counted += [r.booking for r in state.released]
            counted += [b for b in state.mine() if b.ref not in mine_refs]
        self.allowances = Allowances(self.rules, (b.holding for b in counted))
        self.held_at: dict[tuple[str, date, int], list[HeldBooking]] = {}
        for b in mine:
            self.held_at.setdefault((b.location, b.day, b.hour), []).append(b)
        self._live: dict[tuple[Candidate, bool], bool] = {}
        self._ours: set[SubSlot] | None = None
        self._spent: dict[tuple[str, datetime], int] | None = None

    # -- slots -----------------------------------------------------------------------------
    def rank(self, location: str) -> int:
        p = self.priority.get(location)
        return p.rank if p else 10**6

    def subs(self, location: str) -> tuple[str | None, ...]:
        p, loc = self.priority[location], self.loc[location]
        if p.sub_locations:
            return tuple(p.sub_locations)
        return tuple(s.name for s in loc.sub_locations) or (None,)

    def open_subs(self, location: str, day: date, hour: int) -> list[str | None]:
        if location not in self.loc or slot_start(day, hour, self.tz) <= self.now:
            return []
        if (location, day, hour) in self.state.excluded:
            return []
        return [s for s in self.subs(location) if self.record.open_to_us((location, s, day, hour))]

    def winnable(self, location: str, day: date, hour: int) -> bool:
        return bool(self.open_subs(location, day, hour))

    def unlock(self, location: str, day: date, hour: int) -> datetime:
        return unlock_instant(slot_start(day, hour, self.tz), self.loc[location].window)

    def fire_time(self, location: str, day: date, hour: int) -> datetime:
        """The slot's unlock instant, or `now` when it is already open; after an attempt that
        failed for a reason of the moment, once its back-off has passed."""
        retry = self.record.retry_at(location, day, hour)
        return max(self.unlock(location, day, hour), self.now, retry or self.now)

    def losses(self, location: str, sub: str | None) -> int:
        """How many of `sub`'s hours went to someone else when we asked for them: a rival's
        first aim shows there."""
        if self._ours is None:
            self._ours = {(b.location, b.sub_location, b.day, b.hour) for b in self.state.made()}
        return sum(1 for s in self.record.taken
                   if s[0] == location and s[1] == sub and s not in self._ours)

    def spent(self, account: str, unlock: datetime) -> int:
        """Requests `account` already sent for slots that unlock at `unlock` (fair-use budget)."""
        if self._spent is None:
            self._spent = {}
            for o in self.state.outcomes:
                a = o.attempt
                if a.location in self.loc:
                    key = (a.account, self.unlock(a.location, a.day, a.hour))
                    self._spent[key] = self._spent.get(key, 0) + 1
        return self._spent.get((account, unlock), 0)

    # -- blocks ----------------------------------------------------------------------------
    def held_hours(self, c: Candidate) -> int:
        b = c.block
        return sum(1 for h in b.hours if self.held_at.get((b.location, b.day, h)))

    def complete(self, c: Candidate) -> bool:
        return self.held_hours(c) == c.block.length

    def best_complete(self) -> Candidate | None:
        return next((c for c in self.candidates if self.complete(c)), None)

    def quota_left(self, location: str) -> int:
        return self.priority[location].max_accounts - len(self.record.used.get(location, ()))

    def in_quota(self, account: str, location: str, extra: set[str] | None = None) -> bool:
        used = self.record.used.get(location, set()) | (extra or set())
        return account in used or len(used) < self.priority[location].max_accounts

    def eligible(
        self, account: str, location: str, day: date, hour: int, releasing: bool,
        allowances: Allowances | None = None,
    ) -> tuple[bool, HeldBooking | None]:
        """May `account` book this slot? With `releasing`, a booking of this target at a
        lower-ranked location in the same hour may give way: it is returned to be released."""
        if self.record.blocked(account, day, hour, location):
            return False, None
        if self.spent(account, self.unlock(location, day, hour)) >= self.budget:
            return False, None  # fair use: no more requests for this unlock instant
        allow = allowances or self.allowances
        refusal = allow.refusal(account, day, hour, location)
        if refusal is None:
            return True, None
        if not releasing or refusal.rule != "hour" or not self.rules.cancel_restores_allowance:
            return False, None
        for b in self.mine:
            if (b.account, b.day, b.hour) == (account, day, hour) and (
                self.rank(b.location) > self.rank(location)
            ):
                trial = allow.copy()
                trial.release(b.holding)
                if trial.refusal(account, day, hour, location) is None:
                    return True, b
        return False, None

    def live(self, c: Candidate, releasing: bool = False) -> bool:
        key = (c, releasing)
        if key not in self._live:
            self._live[key] = self._assignable(c, releasing)
        return self._live[key]

    def _assignable(self, c: Candidate, releasing: bool) -> bool:
        b = c.block
        needed = []
        for h in b.hours:
            if self.held_at.get((b.location, b.day, h)):
                continue
            if not self.winnable(b.location, b.day, h):
                return False
            needed.append(h)
        if not needed:
            return False
        used = self.record.used.get(b.location, set())
        budget = max(0, self.quota_left(b.location))
        reachable = len(used & set(self.state.accounts)) + budget
        if len(needed) > self.rules.max_bookings_per_location_per_day * min(
                reachable, len(self.state.accounts)):
            return False  # too few accounts may book here, whatever they hold
        options = {
            h: [a for a in self.state.accounts
                if (a in used or budget > 0) and self.eligible(a, b.location, b.day, h, releasing)[0]]
            for h in needed
        }
        if any(not accounts for accounts in options.values()):
            return False
        cap = {
            a: self.rules.max_bookings_per_location_per_day
            - sum(1 for x in self.allowances.holdings
                  if x.account == a and x.day == b.day and x.location == b.location)
            for a in self.state.accounts
        }
        return max_assignment(options, cap, used, budget) == len(needed)

    def useful_hours(self, account: str, c: Candidate, skip: int) -> int:
        """How many other missing hours of `c` the account could still serve (for choosing the
        most constrained account first)."""
        b = c.block
        return sum(
            1 for h in b.hours
            if h != skip and not self.held_at.get((b.location, b.day, h))
            and self.allowances.allows(account, b.day, h, b.location)
        )


def max_assignment(
    options: dict[int, list[str]], cap: dict[str, int], free: set[str], budget: int
) -> int:
    """Most hours that get a distinct booking each: account `a` serves at most `cap[a]` hours, and
    at most `budget` accounts outside `free` (not yet counted against the quota) are used."""
    src, sink, gate = ("s",), ("t",), ("b",)
    flow: dict[tuple, dict[tuple, int]] = {}

    def edge(u: tuple, v: tuple, c: int) -> None:
        flow.setdefault(u, {})[v] = flow.get(u, {}).get(v, 0) + c
        flow.setdefault(v, {}).setdefault(u, 0)

    accounts = {a for accs in options.values() for a in accs}
    for h, accs in options.items():
        edge(src, ("h", h), 1)
        for a in accs:
            edge(("h", h), ("a", a), 1)
    for a in accounts:
        edge(("a", a), sink if a in free else gate, max(0, cap.get(a, 1)))
    edge(gate, sink, budget)
    total = 0
    while True:
        parent: dict[tuple, tuple] = {src: src}
        queue = deque([src])
        while queue and sink not in parent:
            u = queue.popleft()
            for v, c in flow[u].items():
                if c > 0 and v not in parent:
                    parent[v] = u
                    queue.append(v)
        if sink not in parent:
            return total
        v = sink
        while v != src:
            u = parent[v]
            flow[u][v] -= 1
            flow[v][u] += 1
            v = u
        total += 1
