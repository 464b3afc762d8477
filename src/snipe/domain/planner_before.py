"""The planner as it was before parallel attempts, kept to measure what they changed.

`snipe simulate` plays it as the `snipe-before` strategy. Only how a strike is composed differs
from `planner`: each hour gets one first attempt (most constrained account first), a same-instant
fallback comes before any second sub-hall of the primary, and a lower-ranked booking (insurance)
gives way only when no other account is free. The target's insurance policy is not read:
insurance is always taken.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from snipe.domain.decision import UNBLOCK, Decision, Release, Strike, slot_words
from snipe.domain.ledger import BACKUP, PRIMARY, Attempt, PlanState
from snipe.domain.outlook import Candidate, Outlook
from snipe.domain.planner import decide_with
from snipe.domain.rules import Holding
from snipe.domain.strikes import next_firing


def decide(state: PlanState, now: datetime, *, forecast: bool = True) -> Decision:
    return decide_with(compose_before, state, now, forecast=forecast, insure=True)


def compose_before(view: Outlook, aims: list[tuple[Candidate, str]]) -> Strike:
    """The earlier strike: one first attempt per slot, then spare accounts on other sub-halls."""
    fire_at, firing = next_firing(view, aims)
    pad = _Pad(view, fire_at)
    # Every slot's first attempt before any backup: a same-instant fallback at another location
    # is worth more than a second hall of the same hour (measured with the simulator: same block
    # rate, fewer wasted bookings).
    pad.first_attempts(firing)
    pad.backups(firing)
    return Strike(view.state.target.name, fire_at, tuple(pad.attempts), tuple(pad.before))


class _Pad:
    """The strike being composed: who goes where, and what gives way for it."""

    def __init__(self, view: Outlook, fire_at: datetime) -> None:
        self.view = view
        self.fire_at = fire_at
        self.allow = view.allowances.copy()
        self.busy: set[str] = set()
        self.extra: dict[str, set[str]] = {loc: set() for loc in view.priority}
        self.attempts: list[Attempt] = []
        self.before: list[Release] = []
        self.order = {a: i for i, a in enumerate(view.state.accounts)}
        self.first_sub: dict[tuple[str, int], str | None] = {}

    def _reserved(self, c: Candidate, h: int, account: str, used: set[str]) -> bool:
        """A backup by a new account spends quota the missing hours may need; it only matters
        when the priority allows fewer accounts than there are."""
        view, loc, day = self.view, c.location, c.block.day
        binding = view.priority[loc].max_accounts < len(view.state.accounts)
        if not binding or account in used:
            return False
        later = sum(1 for x in c.block.hours
                    if not view.held_at.get((loc, day, x)) and x != h
                    and view.fire_time(loc, day, x) > self.fire_at)
        return view.priority[loc].max_accounts - len(used) - 1 < later

    def choose(self, c: Candidate, h: int, releasing: bool, reserve: bool) -> tuple[Any, Any]:
        view, loc, day = self.view, c.location, c.block.day
        used = view.record.used.get(loc, set()) | self.extra[loc]
        options = []
        for a in view.state.accounts:
            if a in self.busy or not view.in_quota(a, loc, self.extra[loc]):
                continue
            if reserve and self._reserved(c, h, a, used):
                continue
            ok, gives_way = view.eligible(a, loc, day, h, releasing, self.allow)
            if ok:
                rank = (gives_way is not None, view.useful_hours(a, c, h), a not in used,
                        self.order[a])
                options.append((rank, a, gives_way))
        return min(options, key=lambda o: o[0])[1:] if options else (None, None)

    def add(self, c: Candidate, h: int, sub: str | None, role: str, account: str) -> None:
        self.allow.take(Holding(account, c.block.day, h, c.location))
        self.busy.add(account)
        self.extra[c.location].add(account)
        self.attempts.append(Attempt(self.view.state.target.name, account, c.location, sub,
                                     c.block.day, h, role, self.fire_at))

    def first_attempts(self, group: list[tuple[Candidate, str, int]]) -> None:
        for c, role, h in group:
            subs = self.view.open_subs(c.location, c.block.day, h)
            account, gives_way = self.choose(c, h, releasing=role == PRIMARY, reserve=False)
            if account is None:
                continue
            if gives_way is not None:
                self.allow.release(gives_way.holding)
                self.before.append(Release(
                    gives_way, UNBLOCK, f"{slot_words(gives_way)} gives way: {account} is "
                                        f"needed for {c.location} {h:02d}:00 at this strike"))
            self.add(c, h, subs[0], role, account)
            self.first_sub[(c.location, h)] = subs[0]

    def backups(self, group: list[tuple[Candidate, str, int]]) -> None:
        for c, role, h in group:
            if (c.location, h) not in self.first_sub:
                continue
            for sub in self.view.open_subs(c.location, c.block.day, h):
                if sub == self.first_sub[(c.location, h)]:
                    continue
                account, _ = self.choose(c, h, releasing=False, reserve=True)
                if account is None:
                    break
                self.add(c, h, sub, BACKUP if role == PRIMARY else role, account)
