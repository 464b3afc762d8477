"""Upgrade swaps: a won target trades its block for a better one, never left with neither.

A target is won with a block (`PlanState.kept`): X3 or Fitness when X1 was lost, or fewer hours
than asked when `fallback_strategy` accepts them. Slots come back when people cancel. When every
missing hour of a better block shows free in the slot lists (`seen_free`, the slot monitor's
eyes), `plan_upgrade` books that whole block at once, with accounts that may hold it *beside*
the old one: nothing is given back first, and no account would hold two bookings in one hour or
two at one location on one day even if every attempt won.

What follows is `decide`'s, like any outcome (`decide_won`): only once every booking of the
better block is held and confirmed by the site is the old block released (kind `upgraded`); a
better block left incomplete (an hour lost to someone faster) is rolled back: the bookings it
made are released (kind `upgrade_undone`) and the old block is kept. A won target makes no
strikes of its own: it only moves through an upgrade, and never ends with less than it had.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from snipe.domain.decision import (
    UPGRADE_UNDONE,
    UPGRADED,
    WON_BLOCK,
    Decision,
    KeptBlock,
    Release,
    slot_words,
)
from snipe.domain.ledger import PRIMARY, Attempt, HeldBooking, PlanState, SlotRecord, utc
from snipe.domain.outlook import Candidate, Outlook, target_candidates
from snipe.domain.rules import Allowances, Holding
from snipe.domain.slots import Block, slot_start


@dataclass(frozen=True)
class Upgrade:
    """A better block to book whole, beside the block held: one attempt per missing hour, each on
    a sub-slot seen free, `reasons[i]` saying why `attempts[i]` goes there."""

    target: str
    at: datetime
    old: Block
    new: Block
    attempts: tuple[Attempt, ...]
    reasons: tuple[str, ...]

    def describe(self) -> str:
        return f"{self.old.describe()} → {self.new.describe()}"


def kept_candidate(view: Outlook) -> Candidate | None:
    """The block the target was won with, when it is still an accepted block and wholly held."""
    kept = view.state.kept
    if kept is None:
        return None
    return next((c for c in view.candidates if c.block == kept and view.complete(c)), None)


def won_view(state: PlanState, now: datetime) -> tuple[Outlook, Candidate | None]:
    record = SlotRecord.of(state.outcomes).observed(state.seen_taken, state.seen_free)
    view = Outlook(state, utc(now), list(state.mine()), target_candidates(state), record)
    return view, kept_candidate(view)


def plan_upgrade(state: PlanState, now: datetime) -> Upgrade | None:
    """The best block better than the one a won target holds whose every missing hour is seen
    free now and can be booked beside it, or None (not won, upgrades off, nothing better free)."""
    if not state.target.upgrade:
        return None
    view, old = won_view(state, now)
    if old is None:
        return None
    for c in view.candidates:  # best merit first
        if c.merit <= old.merit:
            break
        found = _whole(view, c)
        if found is not None:
            attempts, reasons = _attempts(view, old, c, found)
            return Upgrade(state.target.name, view.now, old.block, c.block, attempts, reasons)
    return None


def wanted(state: PlanState, now: datetime) -> list[Candidate]:
    """The blocks better than the one a won target holds that it could book beside it were
    their slots free (for the slot monitor to know which lists to read, whatever was lost there
    before); [] when the target is not won or its upgrades are off."""
    if not state.target.upgrade:
        return []
    view, old = won_view(state, now)
    if old is None:
        return []
    found = []
    for c in view.candidates:
        if c.merit <= old.merit:
            break
        b = c.block
        missing = [h for h in b.hours if not view.held_at.get((b.location, b.day, h))]
        if missing and all(slot_start(b.day, h, view.tz) > view.now
                           and (b.location, b.day, h) not in state.excluded for h in missing) \
                and _assign(view, c, missing, 0, view.allowances, frozenset()) is not None:
            found.append(c)
    return found


def _whole(view: Outlook, c: Candidate) -> dict[int, tuple[str | None, str]] | None:
    """hour -> (sub-slot seen free, account) for every missing hour of `c`, or None."""
    b = c.block
    missing = [h for h in b.hours if not view.held_at.get((b.location, b.day, h))]
    if not missing:
        return None
    subs: dict[int, str | None] = {}
    for h in missing:
        free = [s for s in view.open_subs(b.location, b.day, h)
                if (b.location, s, b.day, h) in view.state.seen_free]
        if not free:
            return None
        subs[h] = min(free, key=lambda s: view.losses(b.location, s))
    accounts = _assign(view, c, missing, 0, view.allowances, frozenset())
    if accounts is None:
        return None
    return {h: (subs[h], accounts[h]) for h in missing}


def _assign(view: Outlook, c: Candidate, hours: list[int], i: int, allow: Allowances,
            new: frozenset[str]) -> dict[int, str] | None:
    """An account for each of `hours[i:]` that may book it with everything held still held,
    within the priority's `max_accounts` and the fair-use budget (backtracking; a block has a
    few hours and a target a few accounts)."""
    if i == len(hours):
        return {}
    b, h = c.block, hours[i]
    used = view.record.used.get(b.location, set())
    quota = view.priority[b.location].max_accounts
    order = sorted(view.state.accounts, key=lambda a: (a not in (used | new),
                                                       view.state.accounts.index(a)))
    for a in order:
        fresh = a not in used and a not in new
        if fresh and len(used | new) >= quota:
            continue
        ok, _ = view.eligible(a, b.location, b.day, h, False, allow)
        if not ok:
            continue
        trial = allow.copy()
        trial.take(Holding(a, b.day, h, b.location))
        rest = _assign(view, c, hours, i + 1, trial, (new | {a}) if fresh else new)
        if rest is not None:
            return {h: a, **rest}
    return None


def _attempts(view: Outlook, old: Candidate, c: Candidate,
              found: dict[int, tuple[str | None, str]]
              ) -> tuple[tuple[Attempt, ...], tuple[str, ...]]:
    b = c.block
    attempts, reasons = [], []
    for h, (sub, account) in sorted(found.items()):
        attempts.append(Attempt(view.state.target.name, account, b.location, sub, b.day, h,
                                PRIMARY, view.now))
        held = [x for x in view.mine if x.account == account and x.day == b.day]
        beside = (f"beside its {', '.join(f'{x.location} {x.hour:02d}:00' for x in held)}"
                  if held else "holding nothing that day")
        reasons.append(f"upgrade {old.describe()} → {c.describe()}: {sub or b.location} "
                       f"{h:02d}:00 was freed; {account} may book it {beside}")
    return tuple(attempts), tuple(reasons)


def decide_won(view: Outlook, old: Candidate, releases: list[Release],
               notes: tuple[str, ...]) -> Decision:
    """What a won target keeps and gives back: the better block once wholly held and
    confirmed (the old one goes), else the old block (what an upgrade made goes)."""
    state = view.state
    keep, pending = old, ()
    best = view.best_complete()
    if best is not None and best.merit > old.merit:
        if all(x.confirmed for x in _bookings(view, best)):
            keep = best
        else:  # held, but the site has not confirmed every booking: keep both until it does
            pending = tuple(_bookings(view, best))
    kept = _bookings(view, keep)
    for x in view.mine:
        if x not in kept and x not in pending:
            releases.append(_given_back(view, x, keep))
    upgraded_from = old.block if keep is not old else state.upgraded_from
    return Decision(state.target.name, view.now, WON_BLOCK, tuple(releases), (),
                    KeptBlock(keep.block, tuple(kept)), (), notes, upgraded_from)


def _bookings(view: Outlook, c: Candidate) -> list[HeldBooking]:
    b = c.block
    return [view.held_at[(b.location, b.day, h)][0] for h in b.hours]


def _given_back(view: Outlook, x: HeldBooking, keep: Candidate) -> Release:
    """An old block (a complete accepted block worse than the one kept) was upgraded; anything
    else was made by an upgrade that could not be completed."""
    for c in view.candidates:
        if c is not keep and c.merit < keep.merit and view.complete(c) and x in _bookings(view, c):
            return Release(x, UPGRADED, f"{slot_words(x)}: upgraded {c.describe()} → "
                                        f"{keep.describe()}")
    return Release(x, UPGRADE_UNDONE, f"{slot_words(x)} was booked for an upgrade that could "
                                      f"not be completed; {keep.describe()} is kept")
