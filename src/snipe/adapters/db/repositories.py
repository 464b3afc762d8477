"""The repositories over SQLAlchemy: rows in, domain records out.

Each works inside the unit of work's session; none commits. Claims of (account, day, hour) and
(account, day, location) rely on the partial unique indexes of `bookings`: a second claim fails
its savepoint and answers None.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from snipe.adapters.db.models import (
    Account,
    Booking,
    Strike,
    Target,
)
from snipe.domain.records import (
    AccountRecord,
    BookingRecord,
    StrikeRecord,
    TargetRecord,
)
from snipe.domain.status import (
    ACTIVE_BOOKINGS,
    BookingStatus,
    SlotHour,
    StrikeStatus,
    TargetState,
)


def account_id_of(session: Session, netid: str) -> int | None:
    return session.scalar(select(Account.id).where(Account.netid == netid))


class SqlAccounts:
    def __init__(self, session: Session) -> None:
        self.session = session

    @staticmethod
    def _record(row: Account) -> AccountRecord:
        return AccountRecord(row.netid, row.site_profile, row.site_url, row.is_active,
                             row.password_enc, row.member_id, row.quarantine, row.created_at,
                             row.login_flow)

    def _row(self, netid: str) -> Account | None:
        return self.session.scalar(select(Account).where(Account.netid == netid))

    def get(self, netid: str) -> AccountRecord | None:
        row = self._row(netid)
        return None if row is None else self._record(row)

    def all(self) -> list[AccountRecord]:
        return [self._record(r) for r in self.session.scalars(
            select(Account).order_by(Account.netid))]

    def usable(self, site: str | None = None) -> list[str]:
        query = select(Account.netid).where(Account.is_active.is_(True),
                                            Account.quarantine.is_(None)).order_by(Account.id)
        if site is not None:
            query = query.where(Account.site_profile == site)
        return list(self.session.scalars(query))

    def add(self, record: AccountRecord) -> None:
        self.session.add(Account(netid=record.netid, password_enc=record.sealed_password,
                                 site_profile=record.site, site_url=record.site_url,
                                 is_active=record.active, member_id=record.member_id,
                                 quarantine=record.quarantine, login_flow=record.login_flow))
        self.session.flush()

    FIELDS = {"site": "site_profile", "site_url": "site_url", "active": "is_active",
              "sealed_password": "password_enc", "member_id": "member_id",
              "quarantine": "quarantine", "login_flow": "login_flow"}

    def update(self, netid: str, **changes: Any) -> None:
        row = self._row(netid)
        if row is None:
            raise KeyError(netid)
        for name, value in changes.items():
            setattr(row, self.FIELDS[name], value)
        self.session.flush()

    def remove(self, netid: str) -> None:
        row = self._row(netid)
        if row is not None:
            self.session.delete(row)
            self.session.flush()


def _target_record(row: Target) -> TargetRecord:
    return TargetRecord(row.id, row.name, row.site_profile, row.site_url, row.source, row.spec,
                        TargetState(row.state), row.repeat, row.target_date, row.fingerprint,
                        row.plan_state, row.decision, row.next_wake, row.updated_at)


class SqlTargets:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, target_id: int) -> TargetRecord | None:
        row = self.session.get(Target, target_id)
        return None if row is None else _target_record(row)

    def by_name(self, site: str, name: str) -> TargetRecord | None:
        row = self.session.scalar(select(Target).where(Target.site_profile == site,
                                                       Target.name == name))
        return None if row is None else _target_record(row)

    def of_source(self, source: str) -> list[TargetRecord]:
        return [_target_record(r) for r in self.session.scalars(
            select(Target).where(Target.source == source).order_by(Target.id))]

    def add(self, record: TargetRecord) -> int:
        row = Target(name=record.name, source=record.source, spec=record.spec,
                     site_profile=record.site, fingerprint=record.fingerprint)
        self.session.add(row)
        self.session.flush()
        record.id = row.id
        self.save(record)
        return row.id

    def save(self, record: TargetRecord) -> None:
        row = self.session.get(Target, record.id)
        assert row is not None, f"target {record.id} is gone"
        row.name, row.source, row.spec = record.name, record.source, record.spec
        row.site_profile, row.site_url = record.site, record.site_url
        row.state, row.repeat, row.target_date = record.state.value, record.repeat, \
            record.target_date
        row.fingerprint = record.fingerprint
        row.plan_state, row.decision, row.next_wake = record.plan_state, record.decision, \
            record.next_wake
        self.session.flush()

    def active_ids(self) -> list[int]:
        return list(self.session.scalars(select(Target.id).where(
            Target.state == TargetState.ACTIVE.value).order_by(Target.id)))

    def with_plans(self, states: Sequence[str]) -> list[TargetRecord]:
        return [_target_record(r) for r in self.session.scalars(
            select(Target).where(Target.state.in_(states), Target.plan_state.is_not(None))
            .order_by(Target.id))]

    def change_token(self) -> tuple[Any, ...]:
        return tuple(self.session.execute(
            select(Target.id, Target.fingerprint, Target.state).order_by(Target.id)).all())


def strike_record(row: Strike, target: str = "") -> StrikeRecord:
    return StrikeRecord(row.target_id, row.location, row.slot_start, row.scheduled_execution,
                        row.priority, row.role, tuple(row.sub_locations or ()),
                        tuple(row.assigned_accounts or ()), StrikeStatus(row.status), row.id,
                        row.result, row.executed_at, row.created_at, target)


class SqlStrikes:
    def __init__(self, session: Session) -> None:
        self.session = session

    def of_target(self, target_id: int) -> list[StrikeRecord]:
        return [strike_record(r) for r in self.session.scalars(
            select(Strike).where(Strike.target_id == target_id)
            .order_by(Strike.scheduled_execution, Strike.id))]

    def get(self, strike_id: int) -> StrikeRecord | None:
        row = self.session.get(Strike, strike_id)
        return None if row is None else strike_record(row, row.target.name)

    def _fields(self, record: StrikeRecord, tz: Any = None) -> dict[str, Any]:
        local = record.slot_start if tz is None else record.slot_start.astimezone(tz)
        return {
            "target_id": record.target_id, "location": record.location,
            "slot_start": record.slot_start, "scheduled_execution": record.fire_at,
            "priority": record.rank, "role": record.role,
            "sub_locations": list(record.sub_locations),
            "assigned_accounts": list(record.accounts), "status": record.status.value,
            "result": record.result, "executed_at": record.executed_at,
            "target_date": local.date(), "target_time": f"{local:%H:%M}",
        }

    def add(self, record: StrikeRecord) -> int:
        row = Strike(**self._fields(record, record.slot_start.tzinfo))
        self.session.add(row)
        self.session.flush()
        record.id = row.id
        return row.id

    def save(self, record: StrikeRecord) -> None:
        row = self.session.get(Strike, record.id)
        assert row is not None, f"strike {record.id} is gone"
        for name, value in self._fields(record, record.slot_start.tzinfo).items():
            setattr(row, name, value)
        self.session.flush()

    def overdue(self, before: datetime) -> list[StrikeRecord]:
        """Waiting strikes whose instant is before `before` and that were planned before it."""
        rows = self.session.scalars(select(Strike).where(
            Strike.status == StrikeStatus.SCHEDULED.value, Strike.scheduled_execution < before,
            Strike.created_at < Strike.scheduled_execution))
        return [strike_record(r, r.target.name) for r in rows]


def booking_record(row: Booking, netid: str, target: str | None = None) -> BookingRecord:
    return BookingRecord(row.id, netid, row.location, row.sub_location, row.booking_date,
                         SlotHour.parse(row.time_slot), row.slot_start, BookingStatus(row.status),
                         row.booking_reference, row.target_id, row.strike_id, target)


class SqlBookings:
    def __init__(self, session: Session) -> None:
        self.session = session

    def _rows(self, *where: Any) -> list[BookingRecord]:
        rows = self.session.execute(
            select(Booking, Account.netid, Target.name)
            .join(Account, Account.id == Booking.account_id)
            .outerjoin(Target, Target.id == Booking.target_id)
            .where(*where).order_by(Booking.slot_start, Booking.id)).all()
        return [booking_record(b, netid, name) for b, netid, name in rows]

    def get(self, booking_id: int) -> BookingRecord | None:
        found = self._rows(Booking.id == booking_id)
        return found[0] if found else None

    def claim(self, account: str, target_id: int | None, location: str, sub_location: str | None,
              day: date, hour: int, slot_start: datetime) -> int | None:
        account_id = account_id_of(self.session, account)
        if account_id is None:
            return None
        row = Booking(account_id=account_id, target_id=target_id, booking_date=day,
                      time_slot=str(SlotHour(hour)), location=location,
                      sub_location=sub_location, slot_start=slot_start,
                      status=BookingStatus.PENDING.value)
        try:
            with self.session.begin_nested():
                self.session.add(row)
        except IntegrityError:
            return None
        return row.id

    def settle(self, booking_id: int, status: BookingStatus, reference: str | None = None,
               strike_id: int | None = None, sub_location: str | None = None) -> None:
        row = self.session.get(Booking, booking_id)
        assert row is not None, f"booking {booking_id} is gone"
        row.status = status.value
        if reference is not None:
            row.booking_reference = reference
        if strike_id is not None:
            row.strike_id = strike_id
        if sub_location is not None:
            row.sub_location = sub_location
        self.session.flush()

    def held(self, accounts: Iterable[str]) -> list[BookingRecord]:
        return self._rows(Account.netid.in_(list(accounts)), Booking.status.in_(ACTIVE_BOOKINGS))

    def pending(self, accounts: Iterable[str]) -> list[BookingRecord]:
        return self._rows(Account.netid.in_(list(accounts)),
                          Booking.status == BookingStatus.PENDING.value)

    def active_of(self, account: str, since: datetime) -> list[BookingRecord]:
        return self._rows(Account.netid == account, Booking.status.in_(ACTIVE_BOOKINGS),
                          Booking.slot_start >= since)

    def by_reference(self, account: str, reference: str) -> BookingRecord | None:
        found = self._rows(Account.netid == account, Booking.booking_reference == reference)
        return found[-1] if found else None

    def add_held(self, account: str, target_id: int | None, location: str,
                 sub_location: str | None, slot_start: datetime, reference: str | None,
                 tz: Any) -> int:
        account_id = account_id_of(self.session, account)
        assert account_id is not None, f"no account {account}"
        local = slot_start.astimezone(tz)
        row = Booking(account_id=account_id, target_id=target_id, booking_date=local.date(),
                      time_slot=str(SlotHour(local.hour)), location=location,
                      sub_location=sub_location, slot_start=slot_start,
                      status=BookingStatus.CONFIRMED.value, booking_reference=reference)
        self.session.add(row)
        self.session.flush()
        return row.id
