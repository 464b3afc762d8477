"""`snipe status` reads a SQLite store with the standard library: same answer as the ORM."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from bench.status_time import seed_store

from snipe.adapters.db.store import Store
from snipe.services.records import sqlite_file, status, status_from_file

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("status") / "home"
    assert seed_store(home, strikes=200, now=NOW) == 200
    return home


def test_direct_read_answers_exactly_what_the_store_answers(seeded):
    store = Store.open(None, home=seeded)
    try:
        expected = status(store, NOW, limit=20).to_dict()
    finally:
        store.dispose()
    direct = status_from_file(seeded / "snipe.db", NOW, limit=20)
    assert direct is not None
    assert direct.to_dict() == expected
    assert len(expected["strikes"]) == 20 and expected["recent"] and expected["bookings"]


def test_no_file_or_an_unknown_schema_defers_to_the_store(tmp_path):
    assert status_from_file(tmp_path / "missing.db", NOW) is None
    foreign = tmp_path / "foreign.db"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE snipe_jobs (id INTEGER)")
    assert status_from_file(foreign, NOW) is None


def test_db_option_resolves_to_a_sqlite_file_or_none(tmp_path):
    assert sqlite_file(None, home=tmp_path) == tmp_path / "snipe.db"
    assert sqlite_file(str(tmp_path / "x.db")) == tmp_path / "x.db"
    assert sqlite_file(f"sqlite:///{tmp_path}/y.db") == tmp_path / "y.db"
    assert sqlite_file("postgresql+psycopg://u@h/db") is None
    assert sqlite_file("sqlite:///:memory:") is None


def test_status_command_reads_the_seeded_store(cli, seeded, monkeypatch):
    monkeypatch.setenv("SNIPE_HOME", str(seeded))
    monkeypatch.setenv("SNIPE_NOW", NOW.isoformat())
    result = cli("status", "--json")
    assert result.code == 0, result.err
    shown = result.json()
    assert len(shown["strikes"]) == 20
    assert [s["state"] for s in shown["strikes"]] == ["scheduled"] * 20
    assert len(shown["bookings"]) == 20  # one per target of the seed, 20 targets
