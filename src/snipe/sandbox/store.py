"""The sandbox's own SQLite: tables, engine, and one serialised unit of work.

Rules are enforced in SQL (conditional UPDATEs whose row counts are verified, all inside one
transaction that rolls back on any mismatch), so they hold even if two processes share a state
file. Within one process a lock serialises transactions, because an in-memory SQLite database
lives on a single shared connection.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    event,
)
from sqlalchemy.pool import StaticPool

metadata = MetaData()

accounts = Table(
    "accounts", metadata,
    Column("id", Integer, primary_key=True),  # the memberId
    Column("netid", String, nullable=False, unique=True),
    Column("email", String, nullable=False, unique=True),
    Column("password_hash", String, nullable=True),  # null: a bot, it cannot log in
    Column("first_name", String, nullable=False),
    Column("last_name", String, nullable=False),
    Column("bot", String, nullable=True),  # name of the bot driving this account
)

tokens = Table(
    "tokens", metadata,
    Column("token_hash", String, primary_key=True),
    Column("account_id", Integer, ForeignKey("accounts.id"), nullable=False),
    Column("issued_at", Float, nullable=False),  # sandbox POSIX seconds
)

days = Table(  # local days whose default slots were materialised
    "days", metadata,
    Column("day", String, primary_key=True),
)

slots = Table(
    "slots", metadata,
    Column("booking_id", Integer, primary_key=True),
    Column("location", String, nullable=False),
    Column("sub_location", String, nullable=True),
    Column("tag_id", Integer, nullable=False),
    Column("product_id", Integer, nullable=False),
    Column("linked_product_id", Integer, nullable=True),
    Column("start", Integer, nullable=False),  # POSIX seconds, UTC
    Column("end", Integer, nullable=False),
    Column("unlock_at", Integer, nullable=False),  # start - window
    Column("day", String, nullable=False),  # local calendar day, YYYY-MM-DD
    Column("hour", Integer, nullable=False),  # local start hour
    Column("capacity", Integer, nullable=False),
    Column("participation_count", Integer, nullable=False, default=0),
    Index("ix_slots_start", "start"),
)

participations = Table(
    "participations", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account_id", Integer, ForeignKey("accounts.id"), nullable=False),
    Column("booking_id", Integer, nullable=False),
    Column("created_at", Float, nullable=False),  # sandbox POSIX seconds
    Column("cancelled_at", Float, nullable=True),
    # 1 booked; 3 on the waitlist of a full slot (holds neither a place nor an allowance)
    Column("status", Integer, nullable=False, default=1, server_default="1"),
    Index("ix_participations_account", "account_id"),
)

# One row per (account, day, rule, key) counting what the account holds; a booking takes one
# unit of its hour and one of its location with `UPDATE ... WHERE used < max`.
allowances = Table(
    "allowances", metadata,
    Column("account_id", Integer, primary_key=True),
    Column("day", String, primary_key=True),
    Column("rule", String, primary_key=True),  # "hour" or "location"
    Column("key", String, primary_key=True),  # "13" or "X1"
    Column("used", Integer, nullable=False, default=0),
)


def _on_connect(dbapi_connection: object, _record: object) -> None:
    # pysqlite's own transaction handling is turned off so that `_on_begin` decides how to BEGIN.
    dbapi_connection.isolation_level = None  # type: ignore[attr-defined]
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _on_begin(conn: Connection) -> None:
    # Take the write lock at BEGIN so concurrent writers queue instead of failing mid-way.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def _add_missing_columns(engine: Engine) -> None:
    """A state file written before a column existed gets it with its default."""
    with engine.begin() as conn:
        present = {row[1] for row in conn.exec_driver_sql("PRAGMA table_info(participations)")}
        if "status" not in present:
            conn.exec_driver_sql(
                "ALTER TABLE participations ADD COLUMN status INTEGER NOT NULL DEFAULT 1")


class Store:
    """The engine plus a lock; `transaction()` is the one unit of work."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._lock = threading.RLock()

    @classmethod
    def open(cls, state_path: Path | None) -> Store:
        if state_path is None:
            engine = create_engine(
                "sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}
            )
        else:
            state_path.parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(
                f"sqlite:///{state_path}", connect_args={"check_same_thread": False, "timeout": 10}
            )
        event.listen(engine, "connect", _on_connect)
        event.listen(engine, "begin", _on_begin)
        metadata.create_all(engine)
        _add_missing_columns(engine)
        return cls(engine)

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any exception."""
        with self._lock, self.engine.begin() as conn:
            yield conn

    def close(self) -> None:
        self.engine.dispose()
