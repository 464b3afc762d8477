"""The record of one target's strikes: bookings held, attempts made and their outcomes, releases.

`PlanState` is what the planner reads and what the engine persists between wake-ups. It is a frozen
value: the engine derives the next state with `recorded` (outcomes of a strike), `after_release`
(a booking cancelled) and `reconciled` (the bookings the site really shows).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from snipe.domain.errors import PermanentError
from snipe.domain.rules import Holding
from snipe.domain.site import SiteProfile
from snipe.domain.slots import Block
from snipe.domain.targets import Target, target_from_dict, target_to_dict

PRIMARY, BACKUP, FALLBACK, INSURANCE = "primary", "backup", "fallback", "insurance"
ROLES = (PRIMARY, BACKUP, FALLBACK, INSURANCE)

WON = "won"
FULL, LIMIT, NOT_OPEN, ERROR = "full", "limit", "not_open", "error"
RESULTS = (WON, FULL, LIMIT, NOT_OPEN, ERROR)

# A sub-slot that keeps answering "not open" is given up after this many attempts, so a plan
# always ends; "full" gives it up at once.
MAX_TRIES_PER_SLOT = 3
# An attempt that failed for a reason of the moment (the site down, an answer we could not read)
# says nothing about the slot: it is tried again after 1, 2, 4, ... seconds, this many times (so
# a short outage at an unlock does not end a target); past that the slot monitor watches it.
MAX_ERROR_TRIES = 6
ERROR_BACKOFF_S = 1.0
# A booking the site made but whose id we could not read yet has this ref until a
# reconciliation reads it: it may hold a place, but it is not confirmed.
UNREAD = "unread-"


class PlanError(PermanentError):
    """A plan state or an outcome is malformed."""


def utc(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise PlanError(f"instant {instant.isoformat()} has no timezone")
    return instant.astimezone(UTC)


@dataclass(frozen=True)
class HeldBooking:
    """A booking an account holds on the site; `target` is the target it was made for."""

    account: str
    location: str
    sub_location: str | None
    day: date
    hour: int
    ref: str
    target: str

    @property
    def holding(self) -> Holding:
        return Holding(self.account, self.day, self.hour, self.location)

    @property
    def confirmed(self) -> bool:
        """The site confirmed it with its own id."""
        return not self.ref.startswith(UNREAD)

    def describe(self) -> str:
        where = self.sub_location or self.location
        return f"{where} {self.day} {self.hour:02d}:00 by {self.account}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "account": self.account, "location": self.location,
            "sub_location": self.sub_location, "day": self.day.isoformat(), "hour": self.hour,
            "ref": self.ref, "target": self.target,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HeldBooking:
        return cls(
            data["account"], data["location"], data.get("sub_location"),
            date.fromisoformat(data["day"]), int(data["hour"]), str(data["ref"]), data["target"],
        )


@dataclass(frozen=True)
class Attempt:
    """One account booking one slot at one strike."""

    target: str
    account: str
    location: str
    sub_location: str | None
    day: date
    hour: int
    role: str
    fire_at: datetime  # UTC

    @property
    def sub_slot(self) -> tuple[str, str | None, date, int]:
        return (self.location, self.sub_location, self.day, self.hour)

    def describe(self) -> str:
        where = self.sub_location or self.location
        return f"{self.account} -> {where} {self.day} {self.hour:02d}:00 ({self.role})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target, "account": self.account, "location": self.location,
            "sub_location": self.sub_location, "day": self.day.isoformat(), "hour": self.hour,
            "role": self.role, "fire_at": self.fire_at.isoformat(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Attempt:
        role = data["role"]
        if role not in ROLES:
            raise PlanError(f"unknown attempt role {role!r} (known: {', '.join(ROLES)})")
        return cls(
            data["target"], data["account"], data["location"], data.get("sub_location"),
            date.fromisoformat(data["day"]), int(data["hour"]), role,
            utc(datetime.fromisoformat(data["fire_at"])),
        )


@dataclass(frozen=True)
class Outcome:
    """What the site answered to an attempt: won (with the booking's ref) or a refusal reason."""

    attempt: Attempt
    result: str
    ref: str | None = None

    def __post_init__(self) -> None:
        if self.result not in RESULTS:
            raise PlanError(f"unknown attempt result {self.result!r} (known: {', '.join(RESULTS)})")
        if self.result == WON and not self.ref:
            raise PlanError(f"won attempt {self.attempt.describe()} has no booking ref")

    @property
    def won(self) -> bool:
        return self.result == WON

    def booking(self) -> HeldBooking:
        a = self.attempt
        assert self.ref is not None
        return HeldBooking(a.account, a.location, a.sub_location, a.day, a.hour, self.ref, a.target)

    def to_dict(self) -> dict[str, Any]:
        return {"attempt": self.attempt.to_dict(), "result": self.result, "ref": self.ref}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Outcome:
        return cls(Attempt.from_dict(data["attempt"]), data["result"], data.get("ref"))


@dataclass(frozen=True)
class Released:
    booking: HeldBooking
    kind: str

    def to_dict(self) -> dict[str, Any]:
        return {"booking": self.booking.to_dict(), "kind": self.kind}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Released:
        return cls(HeldBooking.from_dict(data["booking"]), data["kind"])


@dataclass(frozen=True)
class PlanState:
    """Everything the planner needs about one target; `held` covers every target of the accounts
    (their bookings limit what an account may still book)."""

    target: Target
    profile: SiteProfile
    accounts: tuple[str, ...]
    held: tuple[HeldBooking, ...] = ()
    outcomes: tuple[Outcome, ...] = ()
    released: tuple[Released, ...] = ()
    # Slots (location, day, hour) the user took out of the plan (a cancelled strike).
    excluded: frozenset[tuple[str, date, int]] = frozenset()
    # What a slot list shows right now (the slot monitor's eyes; never saved): sub-slots held by
    # someone else, and sub-slots free again whatever was lost there before.
    seen_taken: frozenset[tuple[str, str | None, date, int]] = frozenset()
    seen_free: frozenset[tuple[str, str | None, date, int]] = frozenset()
    # The block the target was won with (set when a decision's verdict is won), and the one it
    # replaced at its last upgrade.
    kept: Block | None = None
    upgraded_from: Block | None = None

    @classmethod
    def start(
        cls, target: Target, profile: SiteProfile, accounts: Iterable[str],
        held: Iterable[HeldBooking] = (),
    ) -> PlanState:
        """A fresh state: the target's own accounts if it names some, else every usable one."""
        usable = tuple(target.accounts) or tuple(accounts)
        return cls(target, profile, usable, tuple(held))

    def mine(self) -> tuple[HeldBooking, ...]:
        return tuple(b for b in self.held if b.target == self.target.name)

    def made(self) -> tuple[HeldBooking, ...]:
        """Every booking this target's attempts won."""
        return tuple(o.booking() for o in self.outcomes if o.won)

    def recorded(self, outcomes: Iterable[Outcome]) -> PlanState:
        """The state after a strike: won attempts become held bookings."""
        new = tuple(outcomes)
        known = {b.ref for b in self.held}
        won = [o.booking() for o in new if o.won and o.ref not in known]
        return replace(self, outcomes=self.outcomes + new, held=self.held + tuple(won))

    def after_release(self, ref: str, kind: str = "released") -> PlanState:
        """The state once the booking `ref` has been cancelled on the site."""
        gone = [b for b in self.held if b.ref == ref]
        if not gone:
            return self
        return replace(
            self,
            held=tuple(b for b in self.held if b.ref != ref),
            released=self.released + tuple(Released(b, kind) for b in gone),
        )

    def reconciled(self, bookings: Iterable[HeldBooking]) -> PlanState:
        """The state with `held` replaced by what the site shows (at restart, before a retry)."""
        return replace(self, held=tuple(bookings))

    def settled(self, kept: Block | None) -> PlanState:
        """The state once a decision kept `kept` (its verdict won) or nothing (not won yet, or
        failed); a won target moving to another block has upgraded from its old one."""
        if kept is None:
            return replace(self, kept=None, upgraded_from=None)
        if self.kept is not None and kept != self.kept:
            return replace(self, kept=kept, upgraded_from=self.kept)
        return replace(self, kept=kept)

    def to_dict(self) -> dict[str, Any]:
        return {
            "profile": self.profile.name,
            "target": target_to_dict(self.target),
            "accounts": list(self.accounts),
            "held": [b.to_dict() for b in self.held],
            "outcomes": [o.to_dict() for o in self.outcomes],
            "released": [r.to_dict() for r in self.released],
            "excluded": [[loc, day.isoformat(), hour] for loc, day, hour in
                         sorted(self.excluded)],
            **{key: block.to_dict() for key, block in (("kept", self.kept),
                                                       ("upgraded_from", self.upgraded_from))
               if block is not None},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], profile: SiteProfile) -> PlanState:
        if data.get("profile") not in (None, profile.name):
            raise PlanError(
                f"plan state was made for profile {data['profile']!r}, not {profile.name!r}"
            )
        try:
            return cls(
                target=target_from_dict(data["target"]),
                profile=profile,
                accounts=tuple(data["accounts"]),
                held=tuple(HeldBooking.from_dict(b) for b in data.get("held", [])),
                outcomes=tuple(Outcome.from_dict(o) for o in data.get("outcomes", [])),
                released=tuple(Released.from_dict(r) for r in data.get("released", [])),
                excluded=frozenset((loc, date.fromisoformat(day), int(hour))
                                   for loc, day, hour in data.get("excluded", [])),
                kept=_block(data.get("kept")),
                upgraded_from=_block(data.get("upgraded_from")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise PlanError(f"plan state is malformed: {type(exc).__name__}: {exc}") from None


def _block(data: dict[str, Any] | None) -> Block | None:
    return None if data is None else Block.from_dict(data)


@dataclass
class SlotRecord:
    """What the outcomes so far say about sub-slots and accounts (derived, never persisted)."""

    tries: dict[tuple[str, str | None, date, int], int] = field(default_factory=dict)
    taken: set[tuple[str, str | None, date, int]] = field(default_factory=set)
    blocked_location: set[tuple[str, date, str]] = field(default_factory=set)
    blocked_hour: set[tuple[str, date, int]] = field(default_factory=set)
    used: dict[str, set[str]] = field(default_factory=dict)
    errors: dict[tuple[str, str | None, date, int], int] = field(default_factory=dict)
    last_error: dict[tuple[str, date, int], datetime] = field(default_factory=dict)

    @classmethod
    def of(cls, outcomes: Iterable[Outcome]) -> SlotRecord:
        record = cls()
        by_account: dict[tuple[tuple[str, str | None, date, int], str], int] = {}
        errors: dict[tuple[tuple[str, str | None, date, int], str], int] = {}
        for o in outcomes:
            a = o.attempt
            record.used.setdefault(a.location, set()).add(a.account)
            if o.result == ERROR:
                key = (a.sub_slot, a.account)
                n = errors[key] = errors.get(key, 0) + 1
                record.errors[a.sub_slot] = max(record.errors.get(a.sub_slot, 0), n)
                hour = (a.location, a.day, a.hour)
                record.last_error[hour] = max(record.last_error.get(hour, a.fire_at), a.fire_at)
                continue
            # Tries are counted per account: parallel attempts of one strike (one per account)
            # are one try, each retry of the sub-slot another.
            n = by_account[(a.sub_slot, a.account)] = by_account.get((a.sub_slot, a.account), 0) + 1
            record.tries[a.sub_slot] = max(record.tries.get(a.sub_slot, 0), n)
            if o.result == FULL:
                record.taken.add(a.sub_slot)
            elif o.result == LIMIT:
                # The site counts something we do not see; stop asking it for this day's
                # location and hour with that account.
                record.blocked_location.add((a.account, a.day, a.location))
                record.blocked_hour.add((a.account, a.day, a.hour))
        return record

    def observed(self, taken: Iterable[tuple[str, str | None, date, int]],
                 free: Iterable[tuple[str, str | None, date, int]]) -> SlotRecord:
        """The record with what a slot list shows now: taken sub-slots are lost, free ones are
        open again (their earlier failures no longer count)."""
        for sub_slot in free:
            self.taken.discard(sub_slot)
            self.tries.pop(sub_slot, None)
            self.errors.pop(sub_slot, None)
        self.taken.update(taken)
        return self

    def open_to_us(self, sub_slot: tuple[str, str | None, date, int]) -> bool:
        return (sub_slot not in self.taken and self.tries.get(sub_slot, 0) < MAX_TRIES_PER_SLOT
                and self.errors.get(sub_slot, 0) < MAX_ERROR_TRIES)

    def retry_at(self, location: str, day: date, hour: int) -> datetime | None:
        """When a slot whose last attempt failed for a reason of the moment may be tried
        again (1, 2, 4, ... seconds after it), or None."""
        last = self.last_error.get((location, day, hour))
        if last is None:
            return None
        errors = max((n for (loc, _, d, h), n in self.errors.items()
                      if (loc, d, h) == (location, day, hour)), default=0)
        return last + timedelta(seconds=ERROR_BACKOFF_S * 2 ** max(0, errors - 1))

    def blocked(self, account: str, day: date, hour: int, location: str) -> bool:
        return (account, day, location) in self.blocked_location or (
            account, day, hour) in self.blocked_hour
