"""A read-only unit of work over a SQLite store with the standard library's `sqlite3`.

`snipe status`, `snipe plan` and `schedule --dry-run` read through it: importing SQLAlchemy and
the models alone costs a few tenths of a second on a small machine, and those commands answer
in well under half a second. It answers the same records as the SQLAlchemy repositories for the
few reads those commands make; anything else goes through the full store.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from snipe.domain.records import (
    AccountRecord,
    BookingRecord,
    ClockReading,
    ReleaseRecord,
    StrikeRecord,
    TargetRecord,
)
from snipe.domain.status import (
    ACTIVE_BOOKINGS,
    UPCOMING_STRIKES,
    BookingStatus,
    SlotHour,
    StrikeStatus,
    TargetState,
)

HEAD = "0003"  # the schema these queries know (kept in step with migrations.HEAD by a test)


def sqlite_file(db: str | None, home: Path) -> Path | None:
    """The SQLite file behind `--db` (the data dir's by default); None for other databases."""
    if not db:
        return home / "snipe.db"
    if "://" not in db:
        return Path(db).expanduser().resolve()
    prefix = "sqlite:///"
    if db.startswith(prefix) and "?" not in db and len(db) > len(prefix):
        name = db[len(prefix):]
        return None if name == ":memory:" else Path(name)
    return None


def _time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value).replace(tzinfo=UTC)


def _json(value: str | None) -> Any:
    return None if value is None else json.loads(value)


def _in(values: Iterable[str]) -> tuple[str, list[str]]:
    items = list(values)
    return ",".join("?" * len(items)) or "NULL", items


class LiteReader:
    """The reads of `status` and `plan`, as the repositories would answer them."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.accounts = self
        self.targets = _Targets(conn)
        self.bookings = _Bookings(conn)
        self.clocks = self
        self.releases = self
        self.views = _Views(conn, self.bookings)

    def __enter__(self) -> LiteReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.conn.close()

    def commit(self) -> None:
        raise RuntimeError("a lite reader only reads")

    def sealed_sample(self) -> bytes | None:
        """One password sealed in this store, if there is any (to check the key opens it)."""
        row = self.conn.execute("SELECT password_enc FROM accounts LIMIT 1").fetchone()
        return None if row is None else row[0]

    # -- accounts -------------------------------------------------------------------------
    _ACCOUNT = ("SELECT netid, site_profile, site_url, is_active, password_enc, member_id, "
                "quarantine, created_at, login_flow FROM accounts")

    def _account(self, r: tuple) -> AccountRecord:
        return AccountRecord(r[0], r[1], r[2], bool(r[3]), r[4], r[5], r[6], _time(r[7]), r[8])

    def all(self) -> list[AccountRecord]:
        return [self._account(r) for r in self.conn.execute(self._ACCOUNT + " ORDER BY netid")]

    def get(self, netid: str) -> AccountRecord | None:
        row = self.conn.execute(self._ACCOUNT + " WHERE netid = ?", (netid,)).fetchone()
        return None if row is None else self._account(row)

    def usable(self, site: str | None = None) -> list[str]:
        return [a.netid for a in self.all() if a.usable and (site is None or a.site == site)]

    # -- clocks and releases --------------------------------------------------------------

    def latest(self, site: str) -> ClockReading | None:
        row = self.conn.execute("SELECT site, offset_s, uncertainty_s, measured_at FROM "
                                "site_clocks WHERE site = ?", (site,)).fetchone()
        return None if row is None else ClockReading(row[0], row[1], row[2], _time(row[3]))  # type: ignore[arg-type]

    def owed(self) -> list[ReleaseRecord]:
        rows = self.conn.execute(
            "SELECT r.id, r.booking_id, a.netid, b.booking_reference, r.reason, r.kind, r.tries,"
            " r.next_try_at, r.last_error, b.target_id, b.sub_location, b.location,"
            " b.booking_date, b.time_slot FROM releases r JOIN bookings b ON b.id = r.booking_id"
            " JOIN accounts a ON a.id = b.account_id WHERE r.done_at IS NULL ORDER BY r.id")
        return [ReleaseRecord(r[0], r[1], r[2], r[3] or "", r[4], r[5], r[6], _time(r[7]), r[8],
                              r[9], f"{r[10] or r[11]} {r[12]} {r[13]}") for r in rows]


class _Targets:
    _SQL = ("SELECT id, name, site_profile, site_url, source, spec, state, repeat, target_date,"
            " fingerprint, plan_state, decision, next_wake, updated_at FROM targets")

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    @staticmethod
    def _record(r: tuple) -> TargetRecord:
        return TargetRecord(r[0], r[1], r[2], r[3], r[4], _json(r[5]) or {}, TargetState(r[6]),
                            r[7], None if r[8] is None else date.fromisoformat(r[8]), r[9],
                            _json(r[10]), _json(r[11]), _time(r[12]), _time(r[13]))

    def by_name(self, site: str, name: str) -> TargetRecord | None:
        row = self.conn.execute(self._SQL + " WHERE site_profile = ? AND name = ?",
                                (site, name)).fetchone()
        return None if row is None else self._record(row)

    def with_plans(self, states: Iterable[str]) -> list[TargetRecord]:
        marks, values = _in(states)
        return [self._record(r) for r in self.conn.execute(
            self._SQL + f" WHERE state IN ({marks}) AND plan_state IS NOT NULL ORDER BY id",
            values)]


class _Bookings:
    _SQL = ("SELECT b.id, a.netid, b.location, b.sub_location, b.booking_date, b.time_slot,"
            " b.slot_start, b.status, b.booking_reference, b.target_id, b.strike_id, t.name,"
            " a.site_profile FROM bookings b JOIN accounts a ON a.id = b.account_id"
            " LEFT OUTER JOIN targets t ON t.id = b.target_id")

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    @staticmethod
    def _record(r: tuple) -> BookingRecord:
        return BookingRecord(r[0], r[1], r[2], r[3], date.fromisoformat(r[4]),
                             SlotHour.parse(r[5]), _time(r[6]), BookingStatus(r[7]), r[8],  # type: ignore[arg-type]
                             r[9], r[10], r[11])

    def rows(self, where: str, values: list[Any]) -> list[tuple[BookingRecord, str]]:
        return [(self._record(r), r[12]) for r in self.conn.execute(
            self._SQL + f" WHERE {where} ORDER BY b.slot_start, b.id", values)]

    def held(self, accounts: Iterable[str]) -> list[BookingRecord]:
        names, netids = _in(accounts)
        states, active = _in(ACTIVE_BOOKINGS)
        return [b for b, _ in self.rows(f"a.netid IN ({names}) AND b.status IN ({states})",
                                        [*netids, *active])]


class _Views:
    _STRIKE = ("SELECT s.id, s.target_id, s.location, s.slot_start, s.scheduled_execution,"
               " s.priority, s.role, s.sub_locations, s.assigned_accounts, s.status, s.result,"
               " s.executed_at, s.created_at, t.name, t.site_profile FROM snipe_jobs s"
               " JOIN targets t ON t.id = s.target_id")

    def __init__(self, conn: sqlite3.Connection, bookings: _Bookings) -> None:
        self.conn = conn
        self._bookings = bookings

    def _strikes(self, where: str, values: list[Any]) -> list[tuple[StrikeRecord, str]]:
        return [(StrikeRecord(r[1], r[2], _time(r[3]), _time(r[4]), r[5], r[6],  # type: ignore[arg-type]
                              tuple(_json(r[7]) or ()), tuple(_json(r[8]) or ()),
                              StrikeStatus(r[9]), r[0], _json(r[10]), _time(r[11]),
                              _time(r[12]), r[13]), r[14])
                for r in self.conn.execute(self._STRIKE + where, values)]

    def upcoming(self, limit: int) -> list[tuple[StrikeRecord, str]]:
        marks, states = _in(UPCOMING_STRIKES)
        return self._strikes(f" WHERE s.status IN ({marks}) ORDER BY s.scheduled_execution,"
                             " s.priority LIMIT ?", [*states, limit])

    def recent(self, since: datetime, limit: int = 10) -> list[tuple[StrikeRecord, str]]:
        marks, states = _in(UPCOMING_STRIKES)
        after = since.astimezone(UTC).replace(tzinfo=None).isoformat(" ")
        return self._strikes(f" WHERE s.status NOT IN ({marks}) AND s.status != 'cancelled'"
                             " AND s.executed_at >= ? ORDER BY s.executed_at DESC LIMIT ?",
                             [*states, after, limit])

    def bookings(self, active_only: bool = True) -> list[tuple[BookingRecord, str]]:
        if not active_only:
            return self._bookings.rows("1 = 1", [])
        marks, states = _in(ACTIVE_BOOKINGS)
        return self._bookings.rows(f"b.status IN ({marks})", states)


def lite_reader(path: Path) -> LiteReader | None:
    """A reader of the store at `path` when it exists and has the schema these queries know;
    None otherwise (the caller then goes through the full store)."""
    if not path.is_file():
        return None
    try:
        conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=10)
    except sqlite3.Error:
        return None
    try:
        version = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.Error:
        conn.close()
        return None
    if version is None or version[0] != HEAD:
        conn.close()
        return None
    return LiteReader(conn)
