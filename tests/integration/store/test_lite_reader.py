"""`status` and `plan` read a SQLite store with the standard library: the same answers as the
SQLAlchemy repositories, and the migrations' head is the schema those queries know."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from bench.status_time import seed_store

from base_time import NOW
from snipe.adapters.db import lite, migrations
from snipe.adapters.db.lite import lite_reader, sqlite_file
from snipe.adapters.db.store import Store
from snipe.services.queries import status


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("status") / "home"
    assert seed_store(home, strikes=200, now=NOW) == 200
    return home


def test_the_lite_reader_answers_exactly_what_the_store_answers(seeded):
    store = Store.open(None, home=seeded)
    try:
        with store.reader() as uow:
            expected = status(uow, NOW, limit=20).to_dict()
            accounts = uow.accounts.all()
            held = uow.bookings.held(["user1", "user2"])
    finally:
        store.dispose()
    with lite_reader(seeded / "snipe.db") as uow:  # type: ignore[union-attr]
        assert status(uow, NOW, limit=20).to_dict() == expected
        assert uow.accounts.all() == accounts
        assert uow.bookings.held(["user1", "user2"]) == held
    assert len(expected["strikes"]) == 20 and expected["recent"] and expected["bookings"]


def test_no_file_or_an_unknown_schema_defers_to_the_store(tmp_path):
    assert lite_reader(tmp_path / "missing.db") is None
    foreign = tmp_path / "foreign.db"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE snipe_jobs (id INTEGER)")
    assert lite_reader(foreign) is None


def test_the_lite_queries_know_the_newest_schema():
    assert lite.HEAD == migrations.HEAD


def test_db_option_resolves_to_a_sqlite_file_or_none(tmp_path):
    assert sqlite_file(None, home=tmp_path) == tmp_path / "snipe.db"
    assert sqlite_file(str(tmp_path / "x.db"), tmp_path) == tmp_path / "x.db"
    assert sqlite_file(f"sqlite:///{tmp_path}/y.db", tmp_path) == tmp_path / "y.db"
    assert sqlite_file("postgresql+psycopg://u@h/db", tmp_path) is None
    assert sqlite_file("sqlite:///:memory:", tmp_path) is None


def test_status_command_reads_the_seeded_store(cli, seeded, monkeypatch):
    monkeypatch.setenv("SNIPE_HOME", str(seeded))
    monkeypatch.setenv("SNIPE_NOW", NOW.isoformat())
    result = cli("status", "--json")
    assert result.code == 0, result.err
    shown = result.json()
    assert len(shown["strikes"]) == 20
    assert [s["state"] for s in shown["strikes"]] == ["scheduled"] * 20
    assert len(shown["bookings"]) == 20  # one per target of the seed, 20 targets
