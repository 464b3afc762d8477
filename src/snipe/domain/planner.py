"""The planner: from a target's state and `now`, the next strike, the releases due and the verdict.

The engine calls `decide(state, now)` at every wake-up, fires the first strike's attempts at its
instant, records their outcomes in the state, applies the releases, and calls again: every strike
is planned from what really happened before it.

How a decision is made (DESIGN.md, Strategy):
1. Surplus: two bookings of the same hour at one location -> keep one, release the rest at once.
2. Keep only what can still matter: the best complete accepted block, and bookings inside a block
   that can still be won and would beat it. Everything else is an orphan (or superseded) and goes.
3. Verdict: if no block better than the best complete one can still be won, the target is won
   (that block is kept) or failed (nothing is kept). A target once won (`PlanState.kept`) makes
   no more strikes: it keeps its block, or swaps it for a better one wholly held (`upgrade`).
4. Aims: the best block that can still be won (primary), and for each other location the best
   one that beats what is held: same-window locations fire at the same instants with other
   accounts (fallback), longer-window ones are booked early (insurance) unless the target's
   insurance policy is `off`.
5. The next strike is the earliest instant any aimed hour fires (its unlock, or now when open),
   composed by `strikes`: every account that can still help fires at the primary, spread over
   its sub-halls, then the fallbacks and the insurance take the accounts left.
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
    slot_words,
)
from snipe.domain.ledger import (
    FALLBACK,
    FULL,
    INSURANCE,
    PRIMARY,
    WON,
    HeldBooking,
    Outcome,
    PlanState,
    SlotRecord,
    utc,
)
from snipe.domain.outlook import Candidate, Outlook, target_candidates
from snipe.domain.strikes import Compose, compose_strike
from snipe.domain.targets import OFF
from snipe.domain.upgrade import decide_won, kept_candidate

FORECAST_LIMIT = 24

__all__ = [
    "FAILED", "IN_PROGRESS", "INSURANCE_DONE", "NOT_KEPT", "ORPHAN", "SUPERSEDED", "SURPLUS",
    "UNBLOCK", "WON_BLOCK", "Aim", "Decision", "KeptBlock", "Release", "Strike", "decide",
]


def decide(state: PlanState, now: datetime, *, forecast: bool = True) -> Decision:
    """The next step for `state`'s target at `now` (aware). Pure: same input, same decision."""
    return decide_with(compose_strike, state, now, forecast=forecast)


def decide_with(compose: Compose, state: PlanState, now: datetime, *, forecast: bool = True,
                insure: bool | None = None) -> Decision:
    """`decide` with another way of composing strikes (`planner_before` keeps the earlier one).
    Insurance is aimed for unless the target's policy is `off`; `insure=True` always does."""
    now = utc(now)
    name = state.target.name
    record = SlotRecord.of(state.outcomes).observed(state.seen_taken, state.seen_free)
    candidates = target_candidates(state)
    notes: list[str] = []
    if not candidates:
        notes.append(f"{name}: no location of the target can be booked on this site")
    if not state.accounts:
        notes.append(f"{name}: no account to strike with")
    mine = list(state.mine())

    view = Outlook(state, now, mine, candidates, record)
    releases = _surplus(view, mine)
    if releases:
        view = Outlook(state, now, mine, candidates, record)
    old = kept_candidate(view)
    if old is not None:  # won: it only moves by an upgrade (domain/upgrade.py)
        return decide_won(view, old, releases, tuple(notes))

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
                releases.append(Release(b, NOT_KEPT, f"{slot_words(b)} is not part of the kept block"))
        verdict = WON_BLOCK if best else FAILED
        block = KeptBlock(best.block, tuple(kept)) if best else None
        return Decision(name, now, verdict, tuple(releases), (), block, (), tuple(notes))

    aims = _aims(view, top, best, insure)
    if top.score < 0:
        notes.append(f"{name}: the best block left scores {top.score:.0f} (< 0); "
                     "preferences are hard to match, confirm before relying on it")
    strike = compose(view, aims)
    decision = Decision(
        name, now, IN_PROGRESS, tuple(releases), (strike,), None,
        tuple(Aim(c.block, role, view.held_hours(c), c.score) for c, role in aims), tuple(notes),
    )
    if forecast:
        later = _forecast(compose, state, decision, insure)
        decision = replace(decision, strikes=(strike, *later))
    return decision


def _surplus(view: Outlook, mine: list[HeldBooking]) -> list[Release]:
    """Two bookings of one hour at one location: keep one, release the others (from `mine`)."""
    releases = []
    for group in list(view.held_at.values()):
        if len(group) > 1:
            keep = min(group, key=lambda b: (_flexibility(view, b), _sub_order(view, b)))
            for b in group:
                if b is not keep:
                    mine.remove(b)
                    releases.append(Release(b, SURPLUS, f"{slot_words(b)} is already held by "
                                                        f"{keep.account}: release the extra win"))
    return releases


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
        return Release(b, ORPHAN, f"{slot_words(b)} can no longer be part of an accepted block")
    loc, kept_loc = view.loc.get(b.location), view.loc[best.location]
    if loc is not None and loc.window_hours > kept_loc.window_hours:
        return Release(b, INSURANCE_DONE,
                       f"{slot_words(b)} was insurance; {best.describe()} is held")
    return Release(b, SUPERSEDED, f"{slot_words(b)} is superseded by {best.describe()}")


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


def _aims(view: Outlook, top: Candidate, best: Candidate | None, insure: bool | None
          ) -> list[tuple[Candidate, str]]:
    aims = [(top, PRIMARY)]
    top_window = view.loc[top.location].window_hours
    if insure is None:
        insure = view.state.target.insurance != OFF
    for location in view.priority:
        if location == top.location:
            continue
        role = INSURANCE if view.loc[location].window_hours > top_window else FALLBACK
        if role == INSURANCE and not insure:
            continue  # booked as a plain slot once the better locations have failed
        c = _pick(view, _better(best), releasing=False, location=location)
        if c is not None:
            aims.append((c, role))
    return aims


def _forecast(compose: Compose, state: PlanState, decision: Decision, insure: bool | None
              ) -> list[Strike]:
    """The strikes after the next one if each of our first requests to a slot wins. A
    follow-up once a strike's answers are back (a fallback for the hour, with the accounts that
    lost) is planned then, at the same instant: it is not listed as a strike of its own."""
    later: list[Strike] = []
    strike = decision.strikes[0]
    for n in range(FORECAST_LIMIT):
        for r in (*decision.releases, *strike.releases_before):
            state = state.after_release(r.booking.ref, r.kind)
        # Each sub-slot goes to the first of our requests to it; a second hall of the hour won
        # in parallel is released as surplus by the next decision.
        first = {a.sub_slot: i for i, a in reversed(list(enumerate(strike.attempts)))}
        state = state.recorded(
            Outcome(a, WON, f"forecast-{n}-{i}") if first[a.sub_slot] == i else Outcome(a, FULL)
            for i, a in enumerate(strike.attempts)
        )
        decision = decide_with(compose, state, strike.fire_at, forecast=False, insure=insure)
        if decision.done or not decision.strikes:
            break
        follow_up = decision.strikes[0].fire_at == strike.fire_at
        strike = decision.strikes[0]
        if not follow_up:
            later.append(strike)
    return later
