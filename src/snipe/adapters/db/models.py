"""Typed tables. The seed's schema (accounts, bookings, slot_availability, snipe_jobs, booking_log)
adapted to the design: targets own strikes (snipe_jobs), attempts are booking_log rows, and the
per-account allowances are enforced by partial unique indexes over active bookings, so two
workers can never claim the same (account, day, hour) or (account, day, location).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ACTIVE_BOOKING = "status IN ('pending', 'confirmed')"


class UTCDateTime(TypeDecorator[datetime]):
    """Stored as naive UTC, returned aware: SQLite has no time zones, PostgreSQL gets UTC too."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


TIMESTAMPS = ("created_at", "updated_at", "timestamp", "last_checked")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    netid: Mapped[str] = mapped_column(String(120), unique=True)
    password_enc: Mapped[bytes] = mapped_column(LargeBinary)
    site_profile: Mapped[str] = mapped_column(String(60), default="x-tudelft")
    site_url: Mapped[str | None] = mapped_column(String(300))
    member_id: Mapped[int | None] = mapped_column(Integer)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Set when the site refused the password: nothing uses the account until the user acts.
    quarantine: Mapped[str | None] = mapped_column(String(300))
    # "oidc" (NetID single sign-on) or "api" (e-mail accounts); None: the site's default.
    login_flow: Mapped[str | None] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:  # never the password
        return f"Account(netid={self.netid!r}, site={self.site_profile!r}, active={self.is_active})"


class Target(Base):
    """One entry of `snipe_configs` as last imported from a bookings file."""

    __tablename__ = "targets"
    # A target is named within its site: a second bookings file updates it, never doubles it.
    __table_args__ = (UniqueConstraint("site_profile", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    source: Mapped[str] = mapped_column(String(500))
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    site_profile: Mapped[str] = mapped_column(String(60), default="x-tudelft")
    site_url: Mapped[str | None] = mapped_column(String(300))
    target_date: Mapped[date | None] = mapped_column(Date)
    repeat: Mapped[str | None] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(20), default="active")
    fingerprint: Mapped[str] = mapped_column(String(64))
    # The planner's state (held bookings, outcomes, releases) and its last decision, as JSON.
    plan_state: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    decision: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    next_wake: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    strikes: Mapped[list[Strike]] = relationship(back_populates="target")


class Strike(Base):
    """All attempts fired at one unlock instant for one location of one target (a snipe job)."""

    __tablename__ = "snipe_jobs"
    __table_args__ = (
        UniqueConstraint("target_id", "scheduled_execution", "location", "slot_start"),
        Index("ix_snipe_jobs_status_scheduled_execution", "status", "scheduled_execution"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("targets.id", ondelete="CASCADE"))
    target_date: Mapped[date] = mapped_column(Date)
    target_time: Mapped[str] = mapped_column(String(5))
    location: Mapped[str] = mapped_column(String(60))
    sub_locations: Mapped[list[str]] = mapped_column(JSON, default=list)
    priority: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(20), default="primary")
    scheduled_execution: Mapped[datetime] = mapped_column(UTCDateTime)
    slot_start: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20), default="scheduled")
    assigned_accounts: Mapped[list[str]] = mapped_column(JSON, default=list)
    consecutive_hours: Mapped[int] = mapped_column(Integer, default=1)
    time_window_start: Mapped[str | None] = mapped_column(String(5))
    time_window_end: Mapped[str | None] = mapped_column(String(5))
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    executed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    target: Mapped[Target] = relationship(back_populates="strikes")


class Booking(Base):
    """A booking held (or being claimed) on the site. Active rows are the local claims."""

    __tablename__ = "bookings"
    __table_args__ = (
        Index(
            "uq_bookings_active_hour", "account_id", "booking_date", "time_slot", unique=True,
            sqlite_where=text(ACTIVE_BOOKING), postgresql_where=text(ACTIVE_BOOKING),
        ),
        Index(
            "uq_bookings_active_location", "account_id", "booking_date", "location", unique=True,
            sqlite_where=text(ACTIVE_BOOKING), postgresql_where=text(ACTIVE_BOOKING),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    target_id: Mapped[int | None] = mapped_column(ForeignKey("targets.id", ondelete="SET NULL"))
    strike_id: Mapped[int | None] = mapped_column(ForeignKey("snipe_jobs.id", ondelete="SET NULL"))
    booking_date: Mapped[date] = mapped_column(Date)
    time_slot: Mapped[str] = mapped_column(String(5))
    location: Mapped[str] = mapped_column(String(60))
    sub_location: Mapped[str | None] = mapped_column(String(60))
    slot_start: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    booking_reference: Mapped[str | None] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    account: Mapped[Account] = relationship()


class BookingLog(Base):
    """Audit trail: every attempt, success, failure, release and cancel, with its timing."""

    __tablename__ = "booking_log"
    __table_args__ = (Index("ix_booking_log_timestamp", "timestamp"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    strike_id: Mapped[int | None] = mapped_column(ForeignKey("snipe_jobs.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(20))
    booking_date: Mapped[date] = mapped_column(Date)
    time_slot: Mapped[str] = mapped_column(String(5))
    location: Mapped[str] = mapped_column(String(60))
    sub_location: Mapped[str | None] = mapped_column(String(60))
    error_message: Mapped[str | None] = mapped_column(Text)
    execution_time_ms: Mapped[float | None] = mapped_column(Float)
    timestamp: Mapped[datetime] = mapped_column(UTCDateTime)

    account: Mapped[Account | None] = relationship()


class SlotAvailability(Base):
    __tablename__ = "slot_availability"
    __table_args__ = (
        UniqueConstraint("site_profile", "location", "sub_location", "booking_date", "time_slot"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_profile: Mapped[str] = mapped_column(String(60), default="x-tudelft")
    location: Mapped[str] = mapped_column(String(60))
    sub_location: Mapped[str | None] = mapped_column(String(60))
    booking_date: Mapped[date] = mapped_column(Date)
    time_slot: Mapped[str] = mapped_column(String(5))
    is_available: Mapped[bool] = mapped_column(Boolean)
    total_capacity: Mapped[int | None] = mapped_column(Integer)
    remaining_capacity: Mapped[int | None] = mapped_column(Integer)
    site_booking_id: Mapped[str | None] = mapped_column(String(60))
    last_checked: Mapped[datetime] = mapped_column(UTCDateTime)


class Release(Base):
    """A booking we must give back: kept until the site confirms it is gone."""

    __tablename__ = "releases"
    __table_args__ = (Index("ix_releases_done_at_next_try_at", "done_at", "next_try_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"),
                                            unique=True)
    reason: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(30))
    tries: Mapped[int] = mapped_column(Integer, default=0)
    next_try_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    booking: Mapped[Booking] = relationship()


class SiteClock(Base):
    """The site's clock as the daemon last measured it (countdowns in status and monitor)."""

    __tablename__ = "site_clocks"

    site: Mapped[str] = mapped_column(String(60), primary_key=True)
    offset_s: Mapped[float] = mapped_column(Float)
    uncertainty_s: Mapped[float] = mapped_column(Float)
    measured_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Lease(Base):
    """Who runs the daemon on this database, until when: one daemon per database, whichever
    data dir it was started from."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
