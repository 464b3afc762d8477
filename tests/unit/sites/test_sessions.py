from __future__ import annotations

import stat

from base_time import TUESDAY_NOON
from snipe.adapters.secrets import Secret, Vault
from snipe.adapters.sites.base import SiteSession
from snipe.adapters.sites.sessions import SessionStore


def a_session() -> SiteSession:
    return SiteSession("sandbox", "user1", Secret("tok-secret-123"), 100001,
                       TUESDAY_NOON,
                       {"cookies": [], "origins": []}, "oidc")


def test_sessions_round_trip_sealed_in_private_files(private_home) -> None:
    store = SessionStore(Vault.load())
    path = store.save(a_session())
    assert b"tok-secret-123" not in path.read_bytes()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    loaded = store.load("sandbox", "user1")
    assert loaded is not None
    assert loaded.token.reveal() == "tok-secret-123"
    assert (loaded.member_id, loaded.expires_at, loaded.login_flow) == (
        100001, TUESDAY_NOON, "oidc")
    assert loaded.storage_state == {"cookies": [], "origins": []}


def test_sessions_are_kept_per_site_and_account(private_home) -> None:
    store = SessionStore(Vault.load())
    store.save(a_session())
    assert store.load("x-tudelft", "user1") is None
    assert store.load("sandbox", "user2") is None
    store.drop("sandbox", "user1")
    assert store.load("sandbox", "user1") is None


def test_a_session_sealed_with_another_key_is_ignored(private_home, tmp_path) -> None:
    from cryptography.fernet import Fernet

    SessionStore(Vault(Fernet.generate_key()), private_home / "sessions").save(a_session())
    assert SessionStore(Vault.load(), private_home / "sessions").load("sandbox", "user1") is None
