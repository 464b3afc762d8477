"""Who may use the dashboard: the access token, the signed session cookie, and the CSRF rules.

On loopback nobody logs in. Bound to any other address, the page asks once for the token that
`snipe web token` printed; only its SHA-256 is kept (`web-token`, 0600: the token has 192 bits,
so a fast hash is enough). The session cookie is HMAC-signed with a secret of the data dir
(`web-secret`, 0600) and names the token's generation, so rotating the token ends every session.

Every state-changing request must pass the CSRF check: not sent by another site (Sec-Fetch-Site,
Origin), and carrying the double-submit token (the `snipe_csrf` cookie echoed in the
`X-Snipe-CSRF` header, which another site can neither read nor send).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from snipe.adapters.paths import create_private, ensure_private_dir, write_private
from snipe.errors import PermanentError

TOKEN_FILE = "web-token"
SECRET_FILE = "web-secret"
SESSION_COOKIE = "snipe_session"
CSRF_COOKIE = "snipe_csrf"
CSRF_HEADER = "x-snipe-csrf"
SESSION_DAYS = 30
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class NoToken(PermanentError):
    """The server must ask for a login but no token was ever made."""


@dataclass(frozen=True)
class TokenRecord:
    digest: str  # hex SHA-256 of the token
    generation: str  # changes at every rotation: sessions of an older one are void


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def rotate_token(home: Path) -> str:
    """A new token (printed once, never stored in the clear); every session ends."""
    ensure_private_dir(home)
    token = secrets.token_urlsafe(24)
    record = {"sha256": _digest(token), "generation": secrets.token_hex(8)}
    write_private(home / TOKEN_FILE, json.dumps(record).encode())
    return token


def token_record(home: Path) -> TokenRecord | None:
    try:
        data = json.loads((home / TOKEN_FILE).read_text())
        return TokenRecord(str(data["sha256"]), str(data["generation"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def token_matches(record: TokenRecord | None, given: str) -> bool:
    return record is not None and hmac.compare_digest(record.digest, _digest(given.strip()))


def session_secret(home: Path) -> bytes:
    """The data dir's cookie-signing secret, made on first use (0600)."""
    ensure_private_dir(home)
    path = home / SECRET_FILE
    if not path.is_file():
        create_private(path, secrets.token_bytes(32))
    return path.read_bytes()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def sign_session(secret: bytes, generation: str, now: float | None = None,
                 days: int = SESSION_DAYS) -> str:
    expires = int((now if now is not None else time.time()) + days * 86400)
    payload = f"{generation}.{expires}"
    return f"{payload}.{_b64(hmac.new(secret, payload.encode(), hashlib.sha256).digest())}"


def session_valid(secret: bytes, cookie: str | None, record: TokenRecord | None,
                  now: float | None = None) -> bool:
    if not cookie or record is None:
        return False
    payload, _, signature = cookie.rpartition(".")
    generation, _, expires = payload.partition(".")
    expected = _b64(hmac.new(secret, payload.encode(), hashlib.sha256).digest())
    if not hmac.compare_digest(signature, expected) or generation != record.generation:
        return False
    return expires.isdigit() and int(expires) > (now if now is not None else time.time())


def new_csrf_token() -> str:
    return secrets.token_urlsafe(18)


def cross_site(method: str, host: str | None, origin: str | None, fetch_site: str | None
               ) -> str | None:
    """Why a state-changing request looks sent by another site (None: it does not)."""
    if method not in UNSAFE_METHODS:
        return None
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        return f"sent by another site (Sec-Fetch-Site: {fetch_site})"
    if origin is not None:
        own = (host or "").lower()
        theirs = origin.split("://", 1)[-1].rstrip("/").lower()
        if origin == "null" or theirs != own:
            return "sent by another origin"
    return None


def csrf_ok(cookie: str | None, header: str | None) -> bool:
    return bool(cookie) and bool(header) and hmac.compare_digest(cookie or "", header or "")
