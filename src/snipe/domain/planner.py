"""The planner: from a target's state and `now`, the next strike, the releases due and the verdict.

The engine calls `decide(state, now)` at every wake-up, fires the first strike's attempts at its
instant, records their outcomes in the state, applies the releases, and calls again: every strike
is planned from what really happened before it.

How a decision is made (DESIGN.md, Strategy):
1. Surplus: two bookings of the same hour at one location -> keep one, release the rest at once.
2. Keep only what can still matter: the best complete accepted block, and bookings inside a block
   that can still be won and would beat it. Everything else is an orphan (or superseded) and goes.
3. Verdict: if no block better than the best complete one can still be won, the target is won
   (that block is kept) or failed (nothing is kept).
4. Aims: the best block that can still be won (primary), and for each other location the best
   one that beats what is held: same-window locations fire at the same instants with other
   accounts (fallback), longer-window ones are booked early (insurance).
5. The next strike is the earliest instant any aimed hour fires (its unlock, or now when open).
   Each hour gets a first attempt (most constrained account first), then spare accounts go to the
   other sub-locations (backup). Only the primary may release a lower-ranked booking of the
   account's hour, just before the strike, when no account is free otherwise.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from snipe.domain.decision import (
    FAILED,
    IN_PROGRESS,
    INSURANCE_DONE,
    NOT_KEPT,
    ORPHAN,
    SUPERSEDED,
    SURPLUS,
    UNBLOCK,
    WON_BLOCK,
    Aim,
    Decision,
    KeptBlock,
    Release,
    Strike,
)
from snipe.domain.ledger import (
    BACKUP,
    FALLBACK,
    FULL,
    INSURANCE,
    PRIMARY,
    WON,
    Attempt,
    HeldBooking,
    Outcome,
    PlanState,
    SlotRecord,
    utc,
)
from snipe.domain.outlook import Candidate, Outlook, target_candidates
from snipe.domain.rules import Holding

FORECAST_LIMIT = 24

__all__ = [
    "FAILED", "IN_PROGRESS", "INSURANCE_DONE", "NOT_KEPT", "ORPHAN", "SUPERSEDED", "SURPLUS",
    "UNBLOCK", "WON_BLOCK", "Aim", "Decision", "KeptBlock", "Release", "Strike", "decide",
]


def decide(state: PlanState, now: datetime, *, forecast: bool = True) -> Decision:
    """The next step for `state`'s target at `now` (aware). Pure: same input, same decision."""
    now = utc(now)
    name = state.target.name
    record = SlotRecord.of(state.outcomes)
    candidates = target_candidates(state)
    notes: list[str] = []
    if not candidates:
        notes.append(f"{name}: no location of the target can be booked on this site")
    if not state.accounts:
        notes.append(f"{name}: no account to strike with")
    mine = list(state.mine())
    releases: list[Release] = []

    view = Outlook(state, now, mine, candidates, record)
    for group in list(view.held_at.values()):
        if len(group) > 1:
            keep = min(group, key=lambda b: (_flexibility(view, b), _sub_order(view, b)))
            for b in group:
                if b is not keep:
                    mine.remove(b)
                    releases.append(Release(b, SURPLUS, f"{_slot(b)} is already held by "
                                                        f"{keep.account}: release the extra win"))
    if releases:
        view = Outlook(state, now, mine, candidates, record)

    best = view.best_complete()
    kept = _kept(view, best)
    for b in list(mine):
        if b in kept or _in_live_better(view, b, best):
            continue
        mine.remove(b)
        releases.append(_unneeded(view, b, best))
    if len(mine) != len(state.mine()):
        view = Outlook(state, now, mine, candidates, record)

    top = _pick(view, _better(best), releasing=True)
    if top is None:
        for b in mine:
            if b not in kept:  # pragma: no cover - step 2 already released them
                releases.append(Release(b, NOT_KEPT, f"{_slot(b)} is not part of the kept block"))
        verdict = WON_BLOCK if best else FAILED
        block = KeptBlock(best.block, tuple(kept)) if best else None
        return Decision(name, now, verdict, tuple(releases), (), block, (), tuple(notes))

    aims = _aims(view, top, best)
    if top.score < 0:
        notes.append(f"{name}: the best block left scores {top.score:.0f} (< 0); "
                     "preferences are hard to match, confirm before relying on it")
    strike = _next_strike(view, aims)
    decision = Decision(
        name, now, IN_PROGRESS, tuple(releases), (strike,), None,
        tuple(Aim(c.block, role, view.held_hours(c), c.score) for c, role in aims), tuple(notes),
    )
    if forecast:
        decision = replace(decision, strikes=(strike, *_forecast(state, decision)))
    return decision


def _slot(b: HeldBooking) -> str:
    return f"{b.sub_location or b.location} {b.day} {b.hour:02d}:00 ({b.account})"


def _flexibility(view: Outlook, b: HeldBooking) -> int:
    """How many other hours of the window the account could still book here: keep the win of the
    least flexible account, so the freer one serves the hours still missing."""
    freed = view.allowances.copy()
    freed.release(b.holding)
    return sum(1 for h in view.state.target.window.hours
               if h != b.hour and freed.allows(b.account, b.day, h, b.location))


def _sub_order(view: Outlook, b: HeldBooking) -> int:
    subs = view.subs(b.location) if b.location in view.priority else ()
    return subs.index(b.sub_location) if b.sub_location in subs else len(subs)


def _better(best: Candidate | None):
    return lambda c: best is None or c.merit > best.merit


def _kept(view: Outlook, best: Candidate | None) -> list[HeldBooking]:
    if best is None:
        return []
    b = best.block
    return [view.held_at[(b.location, b.day, h)][0] for h in b.hours]


def _in_live_better(view: Outlook, booking: HeldBooking, best: Candidate | None) -> bool:
    better = _better(best)
    return any(
        c.location == booking.location and c.block.day == booking.day
        and booking.hour in c.block.hours and better(c) and view.live(c, releasing=True)
        for c in view.candidates
    )


def _unneeded(view: Outlook, b: HeldBooking, best: Candidate | None) -> Release:
    if best is None:
        return Release(b, ORPHAN, f"{_slot(b)} can no longer be part of an accepted block")
    loc, kept_loc = view.loc.get(b.location), view.loc[best.location]
    if loc is not None and loc.window_hours > kept_loc.window_hours:
        return Release(b, INSURANCE_DONE,
                       f"{_slot(b)} was insurance; {best.describe()} is held")
    return Release(b, SUPERSEDED, f"{_slot(b)} is superseded by {best.describe()}")


def _pick(view: Outlook, better, releasing: bool, location: str | None = None
          ) -> Candidate | None:
    """The block to go for (at `location`, or anywhere): among the live blocks of the best rank
    and length, the one with most hours held, then best score, then earliest."""
    pool = [c for c in view.candidates
            if (location is None or c.location == location) and better(c)]
    first = next((c for c in pool if view.live(c, releasing)), None)
    if first is None:
        return None
    group = [c for c in pool if (c.rank, c.block.length) == (first.rank, first.block.length)]
    group.sort(key=lambda c: (-view.held_hours(c), -c.score, c.block.day, c.block.start_hour))
    return next(c for c in group if view.live(c, releasing))


def _aims(view: Outlook, top: Candidate, best: Candidate | None) -> list[tuple[Candidate, str]]:
    aims = [(top, PRIMARY)]
    top_window = view.loc[top.location].window_hours
    for location in view.priority:
        if location == top.location:
            continue
        c = _pick(view, _better(best), releasing=False, location=location)
        if c is not None:
            role = INSURANCE if view.loc[location].window_hours > top_window else FALLBACK
            aims.append((c, role))
    return aims


def _next_strike(view: Outlook, aims: list[tuple[Candidate, str]]) -> Strike:
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
        allow.take(_holding(account, c, h))
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
                                      f"{_slot(gives_way)} gives way: {account} is needed for "
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


def _forecast(state: PlanState, decision: Decision) -> list[Strike]:
    """The strikes after the next one if each slot's first attempt wins (backups lose)."""
    later: list[Strike] = []
    strike = decision.strikes[0]
    for n in range(FORECAST_LIMIT):
        for r in (*decision.releases, *strike.releases_before):
            state = state.after_release(r.booking.ref, r.kind)
        state = state.recorded(
            Outcome(a, FULL) if a.role == BACKUP else Outcome(a, WON, f"forecast-{n}-{i}")
            for i, a in enumerate(strike.attempts)
        )
        decision = decide(state, strike.fire_at, forecast=False)
        if decision.done or not decision.strikes:
            break
        strike = decision.strikes[0]
        later.append(strike)
    return later
