"""The planner as it was before parallel attempts, kept to measure what they changed.

`snipe simulate` plays it as the `snipe-before` strategy. Only how a strike is composed differs
from `planner`: each hour gets one first attempt (most constrained account first), a same-instant
fallback comes before any second sub-hall of the primary, and a lower-ranked booking (insurance)
gives way only when no other account is free. The target's insurance policy is not read:
insurance is always taken.
"""

from __future__ import annotations

from datetime import datetime

from snipe.domain.decision import UNBLOCK, Decision, Release, Strike, slot_words
from snipe.domain.ledger import BACKUP, PRIMARY, Attempt, PlanState
from snipe.domain.outlook import Candidate, Outlook
from snipe.domain.planner import decide_with
from snipe.domain.rules import Holding


def decide(state: PlanState, now: datetime, *, forecast: bool = True) -> Decision:
    return decide_with(compose_before, state, now, forecast=forecast, insure=True)


def compose_before(view: Outlook, aims: list[tuple[Candidate, str]]) -> Strike:
    """The earlier strike: one first attempt per slot, then spare accounts on other sub-halls."""
    name = view.state.target.name
    missing = [
        (c, role, h) for c, role in aims for h in c.block.hours
        if not view.held_at.get((c.location, c.block.day, h))
    ]
    fire_at = min(view.fire_time(c.location, c.block.day, h) for c, _, h in missing)
    firing = [(c, role, h) for c, role, h in missing
              if view.fire_time(c.location, c.block.day, h) == fire_at]
    allow = view.allowances.copy()
    busy: set[str] = set()
    extra: dict[str, set[str]] = {loc: set() for loc in view.priority}
    attempts: list[Attempt] = []
    before: list[Release] = []
    order = {a: i for i, a in enumerate(view.state.accounts)}

    def choose(c: Candidate, h: int, releasing: bool, reserve: bool):
        loc, day = c.location, c.block.day
        used = view.record.used.get(loc, set()) | extra[loc]
        options = []
        for a in view.state.accounts:
            if a in busy or not view.in_quota(a, loc, extra[loc]):
                continue
            # A backup by a new account spends quota the missing hours may need; it only
            # matters when the priority allows fewer accounts than there are.
            binding = view.priority[loc].max_accounts < len(view.state.accounts)
            if reserve and binding and a not in used:
                later = sum(1 for x in c.block.hours
                            if not view.held_at.get((loc, day, x)) and x != h
                            and view.fire_time(loc, day, x) > fire_at)
                if view.priority[loc].max_accounts - len(used) - 1 < later:
                    continue
            ok, gives_way = view.eligible(a, loc, day, h, releasing, allow)
            if ok:
                rank = (gives_way is not None, view.useful_hours(a, c, h), a not in used, order[a])
                options.append((rank, a, gives_way))
        return min(options, key=lambda o: o[0])[1:] if options else (None, None)

    def add(c: Candidate, h: int, sub: str | None, role: str, account: str) -> None:
        allow.take(Holding(account, c.block.day, h, c.location))
        busy.add(account)
        extra[c.location].add(account)
        attempts.append(Attempt(name, account, c.location, sub, c.block.day, h, role, fire_at))

    first_sub: dict[tuple[str, int], str | None] = {}

    def first_attempts(group: list[tuple[Candidate, str, int]]) -> None:
        for c, role, h in group:
            subs = view.open_subs(c.location, c.block.day, h)
            account, gives_way = choose(c, h, releasing=role == PRIMARY, reserve=False)
            if account is None:
                continue
            if gives_way is not None:
                allow.release(gives_way.holding)
                before.append(Release(gives_way, UNBLOCK,
                                      f"{slot_words(gives_way)} gives way: {account} is needed for "
                                      f"{c.location} {h:02d}:00 at this strike"))
            add(c, h, subs[0], role, account)
            first_sub[(c.location, h)] = subs[0]

    def backups(group: list[tuple[Candidate, str, int]]) -> None:
        for c, role, h in group:
            if (c.location, h) not in first_sub:
                continue
            for sub in view.open_subs(c.location, c.block.day, h):
                if sub == first_sub[(c.location, h)]:
                    continue
                account, _ = choose(c, h, releasing=False, reserve=True)
                if account is None:
                    break
                add(c, h, sub, BACKUP if role == PRIMARY else role, account)

    # Every slot's first attempt before any backup: a same-instant fallback at another location
    # is worth more than a second hall of the same hour (measured with the simulator: same block
    # rate, fewer wasted bookings).
    first_attempts(firing)
    backups(firing)
    return Strike(name, fire_at, tuple(attempts), tuple(before))


def _holding(account: str, c: Candidate, hour: int) -> Holding:
    return Holding(account, c.block.day, hour, c.location)
