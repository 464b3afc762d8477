from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from snipe.adapters.db.migrations import HEAD, script_location
from snipe.adapters.db.models import Account, Booking
from snipe.adapters.db.store import Store
from snipe.errors import StoreError

SLOT = datetime(2026, 11, 26, 12, tzinfo=UTC)


@pytest.fixture
def store(home):
    s = Store.open(None)
    yield s
    s.dispose()


def add_account(store, netid="user1"):
    with store.unit_of_work() as uow:
        account = Account(netid=netid, password_enc=store.vault.seal("pw"))
        uow.session.add(account)
        uow.commit()
        return account.id


def claim(uow, account_id, hour, location, status="pending"):
    uow.session.add(Booking(account_id=account_id, booking_date=date(2026, 11, 26),
                            time_slot=f"{hour:02d}:00", location=location, slot_start=SLOT,
                            status=status))
    uow.session.flush()


def test_head_constant_matches_the_newest_migration():
    from alembic.script import ScriptDirectory
    from sqlalchemy import create_engine

    from snipe.adapters.db.migrations import alembic_config

    cfg = alembic_config(create_engine("sqlite://"))
    assert ScriptDirectory.from_config(cfg).get_current_head() == HEAD
    assert (script_location() / "env.py").is_file()


def test_schema_is_migrated_on_first_use_in_the_data_dir(store, home):
    assert (home / "snipe.db").is_file()
    assert store.scalar("SELECT version_num FROM alembic_version") == HEAD
    assert {"accounts", "bookings", "booking_log", "snipe_jobs", "slot_availability",
            "targets"} <= set(store.table_names())


def test_sqlite_runs_in_wal_with_foreign_keys_and_busy_timeout(store):
    with store.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 10000


def test_data_dir_and_key_are_private(store, home):
    store.vault  # noqa: B018 - creates the key
    assert (home.stat().st_mode & 0o777) == 0o700
    assert ((home / "secret.key").stat().st_mode & 0o777) == 0o600


def test_an_account_cannot_claim_the_same_hour_twice(store):
    account_id = add_account(store)
    with store.unit_of_work() as uow:
        claim(uow, account_id, 13, "X1")
        with pytest.raises(IntegrityError):
            claim(uow, account_id, 13, "Fitness")


def test_an_account_cannot_claim_the_same_location_twice_a_day(store):
    account_id = add_account(store)
    with store.unit_of_work() as uow:
        claim(uow, account_id, 13, "X1")
        with pytest.raises(IntegrityError):
            claim(uow, account_id, 14, "X1")


def test_released_bookings_free_the_claim(store):
    account_id = add_account(store)
    with store.unit_of_work() as uow:
        claim(uow, account_id, 13, "X1", status="released")
        claim(uow, account_id, 13, "X1")
        uow.commit()
    with store.reading() as session:
        assert len(session.scalars(select(Booking)).all()) == 2


def test_unit_of_work_rolls_back_without_commit(store):
    with store.unit_of_work() as uow:
        uow.session.add(Account(netid="ghost", password_enc=b"x"))
        uow.session.flush()
    with store.reading() as session:
        assert session.scalar(select(Account).where(Account.netid == "ghost")) is None


def test_a_bad_database_url_is_one_clear_error(home):
    with pytest.raises(StoreError, match="cannot use database nosuchdriver"):
        Store.open("nosuchdriver://")


def test_an_unusable_database_path_is_one_clear_error_and_creates_nothing(home, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(StoreError, match="its folder .* does not exist"):
        Store.open(str(blocker / "sub" / "x.db"))
    with pytest.raises(StoreError, match="its folder .* does not exist"):
        Store.open(str(tmp_path / "nowhere" / "x.db"))
    assert not (tmp_path / "nowhere").exists()


def test_password_is_not_in_the_database_file(store, home):
    with store.unit_of_work() as uow:
        uow.session.add(Account(netid="user1",
                                password_enc=store.vault.seal("correct-horse-battery")))
        uow.commit()
    store.dispose()
    raw = b"".join(p.read_bytes() for p in home.glob("snipe.db*"))
    assert b"user1" in raw  # the file really holds the row
    assert b"correct-horse-battery" not in raw


def test_the_alembic_command_line_migrates_the_data_dirs_database_privately(home):
    import stat
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[3]
    done = subprocess.run([sys.executable, "-m", "alembic", "upgrade", "head"], cwd=root,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    database = home / "snipe.db"
    assert stat.S_IMODE(database.stat().st_mode) == 0o600
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    current = subprocess.run([sys.executable, "-m", "alembic", "current"], cwd=root,
                             capture_output=True, text=True, timeout=120)
    assert "(head)" in current.stdout
