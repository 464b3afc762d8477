"""The key file that opens the stored passwords is never silently replaced: when it is missing
or another one, every command that needs the store refuses in one line that says how to mend
it, and creates or changes nothing; the account commands that mend it still work."""

from __future__ import annotations

import hashlib
import stat

import pytest
from cryptography.fernet import Fernet

COMMANDS = [
    ("status",), ("status", "--json"), ("jobs", "list"), ("bookings", "list"), ("log",),
    ("stats",), ("monitor", "--once"), ("daemon", "--once", "--within", "1"),
    ("calendar",), ("slots", "X1", "--cached"),
]


def digest(home) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Every file's content (SQLite's own -wal/-shm bookkeeping aside: private, checked so)."""
    files = [p for p in sorted(home.iterdir()) if p.is_file() and p.name != "daemon.lock"]
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in files)
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in files
            if not p.name.endswith(("-wal", "-shm"))}


@pytest.fixture
def sealed(snipe, home):  # type: ignore[no-untyped-def]
    """A data dir holding two sealed passwords."""
    for n in (1, 2):
        added = snipe("accounts", "add", f"user{n}", "--site", "sandbox", "--password-stdin",
                      "--no-check", stdin=f"pass{n}\n")
        assert added.code == 0, added.err
    return home


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_a_missing_key_stops_every_command_in_one_line_and_creates_nothing(snipe, sealed, args,
                                                                          bookings):
    (sealed / "secret.key").unlink()
    before = digest(sealed)
    result = snipe(*args)
    assert result.code != 0
    line = result.err.strip()
    assert "\n" not in line and "Traceback" not in result.err
    assert "key file" in line and "is missing" in line and "snipe accounts add" in line
    assert not (sealed / "secret.key").exists()
    assert digest(sealed) == before


@pytest.mark.parametrize("args", [("status",), ("jobs", "list"), ("plan", "{bookings}"),
                                  ("schedule", "{bookings}")], ids=" ".join)
def test_another_key_stops_every_command_and_is_left_as_it_is(snipe, sealed, args, bookings):
    other = Fernet.generate_key()
    (sealed / "secret.key").write_bytes(other)
    before = digest(sealed)
    result = snipe(*(str(bookings) if a == "{bookings}" else a for a in args))
    assert result.code != 0
    assert "does not open the passwords" in result.err and "\n" not in result.err.strip()
    assert (sealed / "secret.key").read_bytes() == other and digest(sealed) == before


def test_the_accounts_can_be_listed_removed_and_added_again_without_the_key(snipe, sealed):
    (sealed / "secret.key").unlink()
    listed = snipe("accounts", "list")
    assert listed.code == 0 and "user1" in listed.out
    refused = snipe("accounts", "add", "user3", "--site", "sandbox", "--password-stdin",
                    "--no-check", stdin="pass3\n")
    assert refused.code != 0 and "is missing" in refused.err  # a new key would strand the rest
    for n in (1, 2):
        assert snipe("accounts", "remove", f"user{n}", "--force").code == 0
    again = snipe("accounts", "add", "user1", "--site", "sandbox", "--password-stdin",
                  "--no-check", stdin="pass1\n")
    assert again.code == 0, again.err
    assert (sealed / "secret.key").exists() and snipe("status").code == 0


def test_doctor_names_the_problem_as_a_failed_check(snipe, sealed):
    (sealed / "secret.key").unlink()
    result = snipe("doctor", "--no-browser", "--json")
    assert result.code == 1
    [key] = [c for c in result.json()["checks"] if c["check"] == "key file"]
    assert key["state"] == "fail" and "is missing" in key["detail"]
    assert not (sealed / "secret.key").exists()
