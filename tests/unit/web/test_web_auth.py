"""The token, the signed session cookie and the CSRF rules, as plain functions."""

from __future__ import annotations

import stat

import pytest

from snipe.web.auth import (
    cross_site,
    csrf_ok,
    rotate_token,
    session_secret,
    session_valid,
    sign_session,
    token_matches,
    token_record,
)
from snipe.web.guard import host_name
from snipe.web.serve import BadBind, is_loopback, parse_bind


def test_the_token_is_kept_hashed_in_a_private_file(tmp_path) -> None:
    home = tmp_path / "home"
    token = rotate_token(home)
    stored = (home / "web-token").read_text()
    assert token not in stored
    assert stat.S_IMODE((home / "web-token").stat().st_mode) == 0o600
    record = token_record(home)
    assert token_matches(record, token) and token_matches(record, f" {token}\n")
    assert not token_matches(record, token[:-1]) and not token_matches(None, token)
    assert rotate_token(home) != token and not token_matches(token_record(home), token)


def test_a_session_is_signed_for_one_token_generation_and_expires(tmp_path) -> None:
    home = tmp_path / "home"
    rotate_token(home)
    secret = session_secret(home)
    assert session_secret(home) == secret
    assert stat.S_IMODE((home / "web-secret").stat().st_mode) == 0o600
    record = token_record(home)
    cookie = sign_session(secret, record.generation, now=1_000_000.0, days=1)
    assert session_valid(secret, cookie, record, now=1_000_000.0)
    assert not session_valid(secret, cookie, record, now=1_000_000.0 + 86_401)
    assert not session_valid(b"another secret", cookie, record, now=1_000_000.0)
    rotate_token(home)
    assert not session_valid(secret, cookie, token_record(home), now=1_000_000.0)
    assert not session_valid(secret, None, record) and not session_valid(secret, "x", record)


def test_cross_site_requests_are_told_apart() -> None:
    host = "127.0.0.1:8788"
    assert cross_site("GET", host, "http://evil.example", "cross-site") is None
    assert cross_site("POST", host, "http://127.0.0.1:8788", "same-origin") is None
    assert cross_site("POST", host, None, None) is None
    assert cross_site("POST", host, "http://127.0.0.1:9999", None) == "sent by another origin"
    assert cross_site("DELETE", host, "null", None) == "sent by another origin"
    assert "another site" in cross_site("PUT", host, None, "same-site")
    assert csrf_ok("abc", "abc") and not csrf_ok("abc", "abd") and not csrf_ok("", "")


@pytest.mark.parametrize(("text", "bind"), [
    (None, ("127.0.0.1", 8788)), ("9000", ("127.0.0.1", 9000)),
    ("0.0.0.0:8788", ("0.0.0.0", 8788)), ("[::1]:8080", ("::1", 8080)),
    ("myhost:81", ("myhost", 81)),
])
def test_binds_read_as_host_and_port(text, bind) -> None:
    assert parse_bind(text) == bind


@pytest.mark.parametrize("text", ["host:", "70000", "a:b", ":80", "[::1]:x"])
def test_bad_binds_are_one_line_usage_errors(text) -> None:
    with pytest.raises(BadBind) as caught:
        parse_bind(text)
    assert caught.value.exit_code == 2 and "[HOST:]PORT" in str(caught.value)


def test_only_loopback_goes_without_a_login() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5")
    assert not is_loopback("myhost")
    assert host_name("[::1]:8788") == "::1" and host_name("LocalHost:1") == "localhost"
    assert host_name("127.0.0.1") == "127.0.0.1"
