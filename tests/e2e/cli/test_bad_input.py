"""Bad input gets one line that names the problem, a non-zero exit, no traceback, and changes
nothing: a damaged or foreign database, a bookings file that is too deep or too big, a data
folder that is a file or cannot be made, paths with unusual characters."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[3] / "bookings.example.json"


def one_line(result, *fragments: str) -> None:  # type: ignore[no-untyped-def]
    assert result.code != 0
    line = result.err.strip()
    assert "\n" not in line and "Traceback" not in result.err and "unexpected" not in line
    for fragment in fragments:
        assert fragment in line, line


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def stored(snipe, home) -> Path:  # type: ignore[no-untyped-def]
    """A real store with an account in it."""
    assert snipe("accounts", "add", "user1", "--site", "sandbox", "--password-stdin",
                 "--no-check", stdin="pass1\n").code == 0
    return home / "snipe.db"


def damaged(stored: Path, tmp_path: Path, how: str) -> Path:
    copy = tmp_path / f"{how}.db"
    data = bytearray(stored.read_bytes())
    if how == "truncated":
        data = data[:5000]
    else:  # every page but the first scribbled over
        for offset in range(4096, len(data), 4096):
            data[offset:offset + 512] = b"\xde\xad\xbe\xef" * 128
    copy.write_bytes(bytes(data))
    return copy


@pytest.mark.parametrize("how", ["truncated", "corrupted"])
@pytest.mark.parametrize("args", [("status",), ("jobs", "list"), ("accounts", "list"),
                                  ("daemon", "--once", "--within", "1")], ids=" ".join)
def test_a_damaged_database_is_one_line_and_left_as_it_is(snipe, stored, tmp_path, how, args):
    db = damaged(stored, tmp_path, how)
    before = sha(db)
    one_line(snipe("--db", str(db), *args), "cannot open the database", "malformed")
    assert sha(db) == before


def test_a_file_that_is_not_a_database_is_one_line_and_left_as_it_is(snipe, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("my gym notes\n" * 100)
    for args in (("status",), ("jobs", "list"), ("bookings", "list")):
        one_line(snipe("--db", str(notes), *args), "not a database")
    assert notes.read_text() == "my gym notes\n" * 100


@pytest.mark.parametrize("command", ["plan", "schedule"])
def test_json_nested_too_deeply_is_one_line_and_creates_nothing(snipe, home, tmp_path, command):
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    one_line(snipe(command, str(deep)), "nested too deeply")
    assert not home.exists()


def test_a_huge_file_is_refused_unread_and_a_long_name_is_named(snipe, home, tmp_path):
    huge = tmp_path / "huge.json"
    data = json.loads(EXAMPLE.read_text())
    data["snipe_configs"][0]["name"] = "N" * 50_000_000
    huge.write_text(json.dumps(data))
    one_line(snipe("schedule", str(huge)), "is not a bookings file")
    data["snipe_configs"][0]["name"] = "N" * 300
    long = tmp_path / "long.json"
    long.write_text(json.dumps(data))
    result = snipe("schedule", str(long))
    one_line(result, "$.snipe_configs[0].name", "at most 120 characters")
    assert "N" * 121 not in result.err + result.out and "INSERT" not in result.err
    assert not home.exists()


def test_a_data_folder_that_is_a_file_is_named(snipe, tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.write_text("not a folder")
    monkeypatch.setenv("SNIPE_HOME", str(home))
    for args in (("status",), ("accounts", "list"), ("plan", str(EXAMPLE))):
        one_line(snipe(*args), "is a file, not a folder")
    assert home.read_text() == "not a folder"


def test_a_data_folder_that_cannot_be_made_is_named(snipe, monkeypatch):
    monkeypatch.setenv("SNIPE_HOME", "/proc/1/snipe-cannot-be-here")
    one_line(snipe("accounts", "add", "user1", "--site", "sandbox", "--password-stdin",
                   "--no-check", stdin="pass1\n"), "cannot create the folder")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only folder anyway")
def test_a_read_only_data_folder_is_named(snipe, stored):
    folder = stored.parent
    folder.chmod(0o500)
    try:
        one_line(snipe("accounts", "add", "user2", "--site", "sandbox", "--password-stdin",
                       "--no-check", stdin="pass2\n"))
    finally:
        folder.chmod(0o700)


def test_paths_with_parentheses_colons_and_percent_signs_work(snipe, tmp_path, monkeypatch,
                                                             bookings):
    home = tmp_path / "we(ird):%x"
    monkeypatch.setenv("SNIPE_HOME", str(home))
    assert snipe("accounts", "add", "user1", "--site", "sandbox", "--password-stdin",
                 "--no-check", stdin="pass1\n").code == 0
    assert snipe("schedule", str(bookings)).code == 0
    assert snipe("status").code == 0 and snipe("jobs", "list").code == 0
    other = tmp_path / "b(2):%y" / "other.db"
    other.parent.mkdir()
    assert snipe("--db", str(other), "jobs", "list").code == 0 and other.exists()
    shutil.rmtree(home)
