"""Booking and cancelling, with the site's rules enforced atomically (seed 002).

One transaction per request: the slot counters are raised with one conditional UPDATE whose row
count must equal the number of slots, and each allowance (per account and day: one per hour, one
per location) is taken with `UPDATE ... WHERE used < max` verified the same way. Any mismatch
raises a `Refusal`, which rolls the whole transaction back: nothing is half-booked.

Where the variant says so, a slot opens `release_lag_s` after its unlock, and a full group slot
(one without sub-locations: Fitness) puts a single-slot request on its waitlist instead of
refusing it: a waitlist entry holds neither a place nor an allowance.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, delete, insert, select, true, update

from snipe.domain.site import AccountRules
from snipe.sandbox.catalogue import Catalogue
from snipe.sandbox.clock import Clock, iso
from snipe.sandbox.refusals import Refusal
from snipe.sandbox.store import Store, accounts, allowances, participations, slots

MAX_SLOTS_PER_REQUEST = 24
BOOKED = 1
WAITLISTED = 3


@dataclass(frozen=True)
class Booked:
    """One participation as stored, with its slot."""

    id: int
    account_id: int
    account: str
    bot: str | None
    created_at: float
    slot: Any
    status: int = BOOKED

    def state_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "account": self.account,
            "location": self.slot.location,
            "sub_location": self.slot.sub_location,
            "start": iso(self.slot.start),
            "booking_id": self.slot.booking_id,
            "created_at": iso(self.created_at),
            "by": "bot" if self.bot else "account",
            "bot": self.bot,
        }


class BookingDesk:
    """The one booking code path: accounts, pages, admin and bots all come through here."""

    def __init__(
        self, store: Store, clock: Clock, catalogue: Catalogue, rules: AccountRules,
        release_lag_s: float = 0.0, waitlist: bool = False,
    ) -> None:
        self.store = store
        self.clock = clock
        self.catalogue = catalogue
        self.rules = rules
        self.release_lag_s = release_lag_s
        self.waitlist = waitlist
        # (sandbox) Requests that reached the server in sandbox time but are not served yet (the
        # `peer` bots'): served up to a request's own instant before it, in arrival order.
        self.arrivals: Callable[[float], None] | None = None
        # (sandbox) Told of each place a cancellation frees (slot row, sandbox time).
        self.freed: Callable[[Any, float], None] | None = None

    def book(self, account_id: int, booking_ids: list[int], at_s: float | None = None
             ) -> list[Booked]:
        """Book every slot for the account, or none of them (raises the first refusal).

        `booking_ids` are the sandbox's slot ids (a slot's public `bookingId` when it has one);
        `at_s` is when the request reached the server (default: now, in sandbox time).
        """
        if not booking_ids or len(booking_ids) > MAX_SLOTS_PER_REQUEST:
            raise Refusal("malformed_request",
                          f"give 1 to {MAX_SLOTS_PER_REQUEST} bookingIds, got {len(booking_ids)}")
        if len(set(booking_ids)) != len(booking_ids):
            raise Refusal("malformed_request", "the same bookingId is given twice")
        self.catalogue.ensure_ids(booking_ids)
        now = self.clock.now_s() if at_s is None else at_s
        if self.arrivals is not None:
            self.arrivals(now)
        with self.store.transaction() as conn:
            ordered = self._open_slots(conn, booking_ids, now)
            waitlists = self.waitlist and len(ordered) == 1 and ordered[0].sub_location is None
            if waitlists and self._holds(conn, account_id, booking_ids):
                raise Refusal("limit_hour", f"already registered for slot {booking_ids[0]}",
                              reason="already_registered")
            try:
                self._take_places(conn, booking_ids)
            except Refusal as refusal:
                if waitlists:
                    return self._insert(conn, account_id, ordered, now, WAITLISTED)
                raise self._explained(conn, account_id, booking_ids, refusal) from None
            try:
                for slot in ordered:
                    self._take_allowances(conn, account_id, slot)
            except Refusal as refusal:
                raise self._explained(conn, account_id, booking_ids, refusal) from None
            return self._insert(conn, account_id, ordered, now, BOOKED)

    def _open_slots(self, conn: Connection, booking_ids: list[int], now: float) -> list[Any]:
        """The slots, in request order, each checked to exist, not to have started, and to be
        open (its unlock, plus the release lag, is past)."""
        found = self.catalogue.load(conn, booking_ids)
        ordered = []
        for booking_id in booking_ids:
            slot = found.get(booking_id)
            if slot is None:
                raise Refusal("not_found", f"no slot with bookingId {booking_id}",
                              human="Booking not found")
            if slot.start <= now:
                raise Refusal("slot_started", f"slot {booking_id} started at {iso(slot.start)}")
            opens = slot.unlock_at + self.release_lag_s
            if opens > now:
                raise Refusal("not_open_yet",
                              f"slot {booking_id} opens for booking at {iso(opens)}")
            ordered.append(slot)
        return ordered

    def _insert(self, conn: Connection, account_id: int, ordered: list[Any], now: float,
                status: int) -> list[Booked]:
        made = []
        for slot in ordered:
            result = conn.execute(insert(participations).values(
                account_id=account_id, booking_id=slot.booking_id, created_at=now, status=status
            ))
            made.append(result.inserted_primary_key[0])
        return self._load(conn, participations.c.id.in_(made), waitlist=True)

    def _holds(self, conn: Connection, account_id: int, booking_ids: list[int]) -> bool:
        """Whether the account is already registered (booked or waitlisted) on one of these."""
        return conn.execute(select(participations.c.id).where(
            participations.c.account_id == account_id,
            participations.c.booking_id.in_(booking_ids),
            participations.c.cancelled_at.is_(None),
        ).limit(1)).first() is not None

    def _explained(self, conn: Connection, account_id: int, booking_ids: list[int],
                   refusal: Refusal) -> Refusal:
        """A refusal whose real cause is that the account already holds the slot says so."""
        if self._holds(conn, account_id, booking_ids):
            refusal.reason, refusal.human = "already_registered", None
        return refusal

    def _take_places(self, conn: Connection, booking_ids: list[int]) -> None:
        taken = conn.execute(
            update(slots)
            .where(slots.c.booking_id.in_(booking_ids),
                   slots.c.participation_count < slots.c.capacity)
            .values(participation_count=slots.c.participation_count + 1)
        ).rowcount
        if taken != len(booking_ids):
            what = "the slot is" if len(booking_ids) == 1 else "a slot of the request is"
            raise Refusal("full", f"{what} full")

    def _allowance_keys(self, slot: Any) -> list[tuple[str, str, int, str]]:
        return [
            ("hour", str(slot.hour), self.rules.max_bookings_per_hour_per_day, "limit_hour"),
            ("location", slot.location, self.rules.max_bookings_per_location_per_day,
             "limit_location"),
        ]

    def _take_allowances(self, conn: Connection, account_id: int, slot: Any) -> None:
        for rule, key, most, code in self._allowance_keys(slot):
            conn.execute(insert(allowances).prefix_with("OR IGNORE").values(
                account_id=account_id, day=slot.day, rule=rule, key=key, used=0
            ))
            taken = conn.execute(
                update(allowances)
                .where(allowances.c.account_id == account_id, allowances.c.day == slot.day,
                       allowances.c.rule == rule, allowances.c.key == key,
                       allowances.c.used < most)
                .values(used=allowances.c.used + 1)
            ).rowcount
            if taken != 1:
                if rule == "hour":
                    message = f"already booked at {slot.hour:02d}:00 on {slot.day}"
                else:
                    message = f"already booked at {slot.location} on {slot.day}"
                raise Refusal(code, message)

    def cancel(self, participation_id: int, account_id: int | None = None) -> None:
        """Cancel a booking (the account's own unless `account_id` is None): frees its place and
        both allowances."""
        now = self.clock.now_s()
        if self.arrivals is not None:
            self.arrivals(now)
        with self.store.transaction() as conn:
            slot = self._cancel(conn, participation_id, account_id, now)
        if slot is not None and self.freed is not None:
            self.freed(slot, now)

    def _cancel(self, conn: Connection, participation_id: int, account_id: int | None,
                now: float | None = None) -> Any:
        """Cancel one booking; returns the slot whose place it freed (None for a waitlist
        entry)."""
        where = [participations.c.id == participation_id, participations.c.cancelled_at.is_(None)]
        if account_id is not None:
            where.append(participations.c.account_id == account_id)
        row = conn.execute(select(participations).where(*where)).first()
        if row is None:
            raise Refusal("not_found", f"no booking {participation_id} of yours",
                          human="Participation not found")
        gone = conn.execute(
            update(participations).where(*where).values(
                cancelled_at=self.clock.now_s() if now is None else now)
        ).rowcount
        if row.status == WAITLISTED:  # it held neither a place nor an allowance
            if gone != 1:
                raise RuntimeError(f"booking {participation_id} changed while it was cancelled")
            return None
        slot = conn.execute(select(slots).where(slots.c.booking_id == row.booking_id)).one()
        freed = conn.execute(
            update(slots)
            .where(slots.c.booking_id == row.booking_id, slots.c.participation_count > 0)
            .values(participation_count=slots.c.participation_count - 1)
        ).rowcount
        if gone != 1 or freed != 1:
            raise RuntimeError(f"booking {participation_id} changed while it was cancelled")
        if not self.rules.cancel_restores_allowance:
            return slot
        for rule, key, _most, _code in self._allowance_keys(slot):
            conn.execute(
                update(allowances)
                .where(allowances.c.account_id == row.account_id, allowances.c.day == slot.day,
                       allowances.c.rule == rule, allowances.c.key == key, allowances.c.used > 0)
                .values(used=allowances.c.used - 1)
            )
        return slot

    def cancel_slots(self, conn: Connection, booking_ids: list[int]) -> int:
        """Cancel every active booking of these slots (their slots are about to be removed)."""
        held = conn.execute(select(participations.c.id).where(
            participations.c.booking_id.in_(booking_ids), participations.c.cancelled_at.is_(None)
        )).scalars().all()
        for participation_id in held:
            self._cancel(conn, participation_id, None)
        return len(held)

    def held(self, account_id: int | None = None, since: float | None = None,
             until: float | None = None, waitlist: bool = False) -> list[Booked]:
        """Active bookings (of one account, starting in [since, until)), by start; with
        `waitlist`, waitlist entries too."""
        where = []
        if account_id is not None:
            where.append(participations.c.account_id == account_id)
        if since is not None:
            where.append(slots.c.start >= since)
        if until is not None:
            where.append(slots.c.start < until)
        with self.store.transaction() as conn:
            return self._load(conn, and_(true(), *where), waitlist=waitlist)

    def members_of(self, booking_ids: list[int]) -> dict[int, list[int]]:
        """The members holding a place on each of these slots (waitlist entries excluded)."""
        if not booking_ids:
            return {}
        with self.store.transaction() as conn:
            rows = conn.execute(
                select(participations.c.booking_id, participations.c.account_id)
                .where(participations.c.booking_id.in_(booking_ids),
                       participations.c.cancelled_at.is_(None),
                       participations.c.status == BOOKED)
                .order_by(participations.c.id)
            ).all()
        members: dict[int, list[int]] = {}
        for booking_id, account_id in rows:
            members.setdefault(booking_id, []).append(account_id)
        return members

    def _load(self, conn: Connection, condition: Any, waitlist: bool = False) -> list[Booked]:
        where = [participations.c.cancelled_at.is_(None), condition]
        if not waitlist:
            where.append(participations.c.status == BOOKED)
        rows = conn.execute(
            select(participations.c.id, participations.c.account_id, participations.c.created_at,
                   participations.c.status.label("participation_status"),
                   accounts.c.netid, accounts.c.bot, slots)
            .join(accounts, accounts.c.id == participations.c.account_id)
            .join(slots, slots.c.booking_id == participations.c.booking_id)
            .where(*where)
            .order_by(slots.c.start, participations.c.id)
        ).all()
        return [Booked(r.id, r.account_id, r.netid, r.bot, r.created_at, r,
                       r.participation_status) for r in rows]

    def clear(self) -> None:
        """Forget every booking (accounts, tokens and slots stay)."""
        with self.store.transaction() as conn:
            conn.execute(delete(participations))
            conn.execute(delete(allowances))
            conn.execute(update(slots).values(participation_count=0))
