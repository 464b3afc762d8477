"""How a strike is composed: which account fires at which slot at one instant, and why.

The strike fires the earliest missing hours of the aims (their unlock instant, or now when open):
1. Primary: every account that can still help fires at it, not one per hour. Each firing hour
   first gets the account able to serve the fewest other missing hours (the freer ones stay for
   the hours to come), then the other accounts are dealt over the hours, within the priority's
   `max_accounts` and the profile's fair-use budget. Against rivals as fast as we are a single
   attempt is a coin toss: k of our requests against r rivals' on one sub-hall win it with
   probability k/(k+r), and a sub-hall without a request of ours goes to a rival uncontested.
   A surplus win costs nothing: the planner releases it at once, which restores the allowances.
2. Each hour's accounts are laid over its open sub-halls, round robin, starting with the
   sub-hall where rivals took the fewest of our slots so far (listed order on a tie): with the
   seed's three accounts, X1 A gets two and X1 B one; a lone account goes where rivals were seen
   least.
3. A booking of the target at a lower-ranked location in the same hour gives way just before
   the strike only for an hour's first attempt when no account is free otherwise, except
   insurance under the `yield` policy, which gives way whenever its account can fire at the
   primary (insurance never costs the primary a parallel attempt).
4. Then the same-instant fallbacks and the insurance: one first attempt per slot with the
   accounts left, then spare accounts on the other sub-locations.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from snipe.domain.decision import UNBLOCK, Release, Strike, slot_words
from snipe.domain.ledger import BACKUP, FALLBACK, INSURANCE, PRIMARY, Attempt, HeldBooking
from snipe.domain.outlook import Candidate, Outlook
from snipe.domain.rules import Holding
from snipe.domain.targets import KEEP, YIELD

Compose = Callable[[Outlook, list[tuple[Candidate, str]]], Strike]
Firing = tuple[Candidate, str, int]  # an aim, its role, one of its missing hours
ORDINALS = ("first", "second", "third", "fourth", "fifth")


def next_firing(view: Outlook, aims: list[tuple[Candidate, str]]
                ) -> tuple[datetime, list[Firing]]:
    """The earliest instant at which an hour of the aims not held yet can be fired, and every
    such hour firing then."""
    missing = [
        (c, role, h) for c, role in aims for h in c.block.hours
        if not view.held_at.get((c.location, c.block.day, h))
    ]
    fire_at = min(view.fire_time(c.location, c.block.day, h) for c, _, h in missing)
    return fire_at, [(c, role, h) for c, role, h in missing
                     if view.fire_time(c.location, c.block.day, h) == fire_at]


def compose_strike(view: Outlook, aims: list[tuple[Candidate, str]]) -> Strike:
    fire_at, firing = next_firing(view, aims)
    pad = Pad(view, fire_at)
    _primary(pad, [(c, h) for c, role, h in firing if role == PRIMARY])
    _others(pad, [f for f in firing if f[1] != PRIMARY])
    return Strike(view.state.target.name, fire_at, tuple(pad.attempts), tuple(pad.before),
                  tuple(pad.reasons))


class Pad:
    """The strike being composed: its attempts, and the allowances as if every attempt won."""

    def __init__(self, view: Outlook, fire_at: datetime) -> None:
        self.view, self.fire_at = view, fire_at
        self.allow = view.allowances.copy()
        self.busy: set[str] = set()
        self.extra: dict[str, set[str]] = {loc: set() for loc in view.priority}
        self.attempts: list[Attempt] = []
        self.reasons: list[str] = []
        self.before: list[Release] = []
        self.order = {a: i for i, a in enumerate(view.state.accounts)}

    def options(self, c: Candidate, h: int, gives_way: Callable[[HeldBooking], bool],
                reserve: bool) -> list[tuple[str, HeldBooking | None]]:
        """Accounts that may fire at hour `h` of `c`, best first, each with the booking that
        would give way for it (or None)."""
        view, loc, day = self.view, c.location, c.block.day
        used = view.record.used.get(loc, set()) | self.extra[loc]
        quota = view.priority[loc].max_accounts
        # A new account spends quota the block's later hours may need; it only matters when the
        # priority allows fewer accounts than there are.
        later = sum(1 for x in c.block.hours
                    if not view.held_at.get((loc, day, x)) and x != h
                    and view.fire_time(loc, day, x) > self.fire_at)
        tight = reserve and quota < len(view.state.accounts) and quota - len(used) - 1 < later
        found = []
        for a in view.state.accounts:
            if a in self.busy or not view.in_quota(a, loc, self.extra[loc]):
                continue
            if tight and a not in used:
                continue
            ok, way = view.eligible(a, loc, day, h, True, self.allow)
            if not ok or (way is not None and not gives_way(way)):
                continue
            rank = (way is not None, view.useful_hours(a, c, h), a not in used, self.order[a])
            found.append((rank, a, way))
        return [(a, way) for _, a, way in sorted(found, key=lambda f: f[0])]

    def claim(self, c: Candidate, h: int, account: str, way: HeldBooking | None) -> None:
        if way is not None:
            self.allow.release(way.holding)
            self.before.append(Release(way, UNBLOCK, f"{slot_words(way)} gives way: {account} "
                                                     f"is needed for {c.location} {h:02d}:00 "
                                                     "at this strike"))
        self.allow.take(Holding(account, c.block.day, h, c.location))
        self.busy.add(account)
        self.extra[c.location].add(account)

    def fire(self, c: Candidate, h: int, sub: str | None, role: str, account: str,
             reason: str) -> None:
        self.attempts.append(Attempt(self.view.state.target.name, account, c.location, sub,
                                     c.block.day, h, role, self.fire_at))
        self.reasons.append(reason)


def _primary(pad: Pad, hours: list[tuple[Candidate, int]]) -> None:
    if not hours:
        return
    view = pad.view
    policy = view.state.target.insurance
    window = view.loc[hours[0][0].location].window_hours

    def gives_way(first: bool) -> Callable[[HeldBooking], bool]:
        def may(b: HeldBooking) -> bool:
            insurance = b.location in view.loc and view.loc[b.location].window_hours > window
            return first or (insurance and policy == YIELD)
        return may

    team: dict[int, list[tuple[str, HeldBooking | None]]] = {}
    for c, h in hours:
        found = pad.options(c, h, gives_way(True), reserve=False)
        if found:
            pad.claim(c, h, *found[0])
            team[h] = [found[0]]
    # A second request only beats a rival to a hall (capacity 1); at a large location it would
    # just be a second booking to release.
    hall = view.loc[hours[0][0].location].capacity == 1
    dealing = True
    while dealing:  # the other accounts, one per hour in turn
        dealing = False
        for c, h in hours:
            room = hall or len(team.get(h, ())) < len(view.open_subs(c.location, c.block.day, h))
            found = pad.options(c, h, gives_way(False), reserve=True) if h in team and room else []
            if found:
                pad.claim(c, h, *found[0])
                team[h].append(found[0])
                dealing = True
    for c, h in hours:
        if h in team:
            _lay(pad, c, h, team[h])


def _lay(pad: Pad, c: Candidate, h: int, team: list[tuple[str, HeldBooking | None]]) -> None:
    """Deal the hour's accounts over its sub-halls, least-lost sub-hall first."""
    view = pad.view
    subs = view.open_subs(c.location, c.block.day, h)
    if not subs:  # pragma: no cover - an aimed hour always has an open sub-slot
        return
    losses = {s: view.losses(c.location, s) for s in subs}
    ranked = sorted(subs, key=lambda s: (losses[s], subs.index(s)))
    hall = view.loc[c.location].capacity == 1
    on: dict[str | None, int] = {}
    for i, (account, way) in enumerate(team):
        sub = ranked[i % len(ranked)]
        on[sub] = on.get(sub, 0) + 1
        where = sub or c.location
        if len(team) == 1 and not hall:
            why = f"primary: one request is enough at {c.location}, which has room for many"
        elif len(team) == 1:
            why = (f"primary, lone attempt: no other account may book {c.location} at {h:02d}:00"
                   + (f"; rivals took {where} least so far" if len(set(losses.values())) > 1
                      else ""))
        elif i == 0:
            why = f"primary, first of {len(team)} parallel attempts at {h:02d}:00"
        elif on[sub] > 1:
            why = (f"parallel, {ORDINALS[min(on[sub], 5) - 1]} account on {where}: against a "
                   "rival as fast as us a single attempt is a coin toss")
        else:
            why = f"parallel, covers {where}: a sub-hall we leave out goes to a rival uncontested"
        if way is not None:
            why += f"; its {way.location} {way.hour:02d}:00 booking gives way just before"
        pad.fire(c, h, sub, PRIMARY if i == 0 else BACKUP, account, why)


def _others(pad: Pad, firing: list[tuple[Candidate, str, int]]) -> None:
    view = pad.view
    never: Callable[[HeldBooking], bool] = lambda b: False  # noqa: E731
    first_sub: dict[tuple[str, int], str | None] = {}
    beside = bool(pad.attempts)
    for c, role, h in firing:
        found = pad.options(c, h, never, reserve=False)
        if not found:
            continue
        account = found[0][0]
        sub = view.open_subs(c.location, c.block.day, h)[0]
        pad.claim(c, h, account, None)
        pad.fire(c, h, sub, role, account, _why_other(view, c, role, beside))
        first_sub[(c.location, h)] = sub
    for c, role, h in firing:
        if (c.location, h) not in first_sub:
            continue
        for sub in view.open_subs(c.location, c.block.day, h):
            if sub == first_sub[(c.location, h)]:
                continue
            found = pad.options(c, h, never, reserve=True)
            if not found:
                break
            pad.claim(c, h, found[0][0], None)
            pad.fire(c, h, sub, role, found[0][0], f"{role}, spare account on {sub or c.location}")


def _why_other(view: Outlook, c: Candidate, role: str, beside_primary: bool) -> str:
    if role == INSURANCE:
        policy = view.state.target.insurance
        then = {YIELD: "it gives way if its account can fire at the primary",
                KEEP: "it is kept through the primary's strikes"}.get(policy, "")
        return (f"insurance: {c.location} unlocks {view.loc[c.location].window_hours} h ahead, "
                f"before the primary; {then}")
    if role == FALLBACK and beside_primary:
        return "same-instant fallback, with an account the primary cannot use at this hour"
    return role
