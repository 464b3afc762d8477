"""Opening the store: engine, SQLite pragmas, immediate write transactions, units of work."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DatabaseError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from snipe.adapters.clock import Clock, SystemClock
from snipe.adapters.paths import data_dir, ensure_private_dir
from snipe.errors import StoreError

log = logging.getLogger(__name__)

DB_FILE = "snipe.db"
READ_ONLY = "snipe_read_only"


def resolve_url(db: str | None, home: Path | None = None) -> str:
    """`--db` accepts a SQLAlchemy URL or a plain file path; default is the data dir's file."""
    if not db:
        return f"sqlite:///{(home or data_dir()) / DB_FILE}"
    if "://" in db:
        return db
    return f"sqlite:///{Path(db).expanduser().resolve()}"


def _sqlite_pragmas(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's begin event, not pysqlite, decide how transactions start.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA busy_timeout = 10000")
        cursor.execute("PRAGMA foreign_keys = ON")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(conn: Any) -> None:
        # Writers take the lock up front, so two processes never interleave read-then-write.
        if conn.get_execution_options().get(READ_ONLY):
            conn.exec_driver_sql("BEGIN")
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str, create_folder: bool = False) -> Engine:
    """The engine of `url`. A SQLite file is created 0600 (its -wal and -shm follow its mode);
    its folder must exist unless it is the data dir (`create_folder`)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreError(f"--db {url!r} is neither a file path nor a database URL") from None
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            _prepare_file(Path(parsed.database).expanduser(), create_folder)
        engine = create_engine(url, connect_args={"timeout": 10})
        _sqlite_pragmas(engine)
        return engine
    try:
        return create_engine(url, pool_pre_ping=True)
    except Exception as exc:  # a missing driver such as psycopg
        raise StoreError(f"cannot use database {parsed.render_as_string()}: {exc}") from None


def _prepare_file(path: Path, create_folder: bool) -> None:
    from snipe.adapters.paths import touch_private

    folder = path.parent
    if not folder.is_dir():
        if not create_folder or folder.exists():
            raise StoreError(f"cannot open the database {path}: its folder {folder} does not "
                             "exist")
        try:
            ensure_private_dir(folder)
        except OSError as exc:
            raise StoreError(f"cannot create the database folder {folder}: "
                             f"{exc.strerror or exc}") from None
    if path.exists() and not path.is_file():
        raise StoreError(f"cannot open the database {path}: it is not a file")
    try:
        touch_private(path)
    except OSError as exc:
        raise StoreError(f"cannot open the database {path}: {exc.strerror or exc}") from None


def _stamp_times(session: Session, _context: Any, _instances: Any) -> None:
    """Row timestamps come from the store's clock, never from the machine's: a test (or a
    what-if run) at any date writes rows of that date."""
    from snipe.adapters.db.models import TIMESTAMPS

    now = session.info["clock"].now()
    for row in session.new:
        for name in TIMESTAMPS:
            if hasattr(row, name) and getattr(row, name) is None:
                setattr(row, name, now)
    for row in session.dirty:
        if hasattr(row, "updated_at") and session.is_modified(row, include_collections=False):
            row.updated_at = now


class UnitOfWork:
    """One use case's transaction over the repositories: rolls back unless `commit()` is
    called."""

    def __init__(self, session: Session) -> None:
        from snipe.adapters.db import bookkeeping as books
        from snipe.adapters.db import repositories as repo

        self.session = session
        self.accounts = repo.SqlAccounts(session)
        self.targets = repo.SqlTargets(session)
        self.strikes = repo.SqlStrikes(session)
        self.bookings = repo.SqlBookings(session)
        self.attempts = books.SqlAttempts(session)
        self.releases = books.SqlReleases(session)
        self.slots = books.SqlSlotCache(session)
        self.clocks = books.SqlSiteClocks(session)
        self.leases = books.SqlLeases(session)
        from snipe.adapters.db.views import SqlViews

        self.views = SqlViews(session)

    def __enter__(self) -> UnitOfWork:
        return self

    def __exit__(self, *exc: object) -> None:
        self.rollback()
        self.session.close()

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()


class Store:
    def __init__(self, engine: Engine, home: Path | None = None,
                 clock: Clock | None = None) -> None:
        self.engine = engine
        self.home = home
        self.clock = clock or SystemClock()
        info = {"clock": self.clock}
        self._writer = sessionmaker(engine, expire_on_commit=False, info=info)
        event.listen(self._writer, "before_flush", _stamp_times)
        self._reader = sessionmaker(
            engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False, info=info
        )
        self._vault: Any = None

    @classmethod
    def open(cls, db: str | None = None, home: Path | None = None, migrate: bool = True,
             clock: Clock | None = None) -> Store:
        from snipe.adapters.db.migrations import ensure_schema

        url = resolve_url(db, home)
        engine = make_engine(url, create_folder=not db)
        store = cls(engine, home, clock)
        if migrate:
            try:
                ensure_schema(engine)
            except DatabaseError as exc:
                engine.dispose()
                where = engine.url.database or engine.url.render_as_string()
                raise StoreError(f"cannot open the database {where}: {exc.orig}") from None
        return store

    @property
    def vault(self) -> Any:
        if self._vault is None:
            from snipe.adapters.secrets import Vault

            self._vault = Vault.load(self.home, sealed_exists=self.sealed_sample() is not None)
        return self._vault

    def sealed_sample(self) -> bytes | None:
        """One secret sealed in this store (a password), if there is any."""
        try:
            with self.engine.execution_options(**{READ_ONLY: True}).connect() as conn:
                return conn.execute(text("SELECT password_enc FROM accounts LIMIT 1")).scalar()
        except OperationalError:
            return None

    def check_key(self) -> None:
        """Refuse, in one line that says how to mend it, when the key file is missing or does
        not open the passwords sealed here; create nothing."""
        from snipe.adapters.secrets import check_key_opens

        check_key_opens(self.sealed_sample(), self.home)

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(self._writer())

    def reader(self) -> UnitOfWork:
        """A unit of work that only reads (a deferred transaction: never the write lock)."""
        return UnitOfWork(self._reader())

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A read-only session (deferred transaction, never takes the write lock)."""
        with self._reader() as session:
            yield session

    def table_names(self) -> list[str]:
        return inspect(self.engine).get_table_names()

    def dispose(self) -> None:
        self.engine.dispose()

    def scalar(self, sql: str) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(text(sql)).scalar()
