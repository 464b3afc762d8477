"""Per-account sessions kept between runs, sealed with the vault (0600 files in a 0700 dir).

A session (bearer token, member id, browser storage state) lives 24 h at the site, so one
login per account per day is enough; the driver reuses it until it is near expiry.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from snipe.adapters.paths import ensure_private_dir, sessions_dir, write_private
from snipe.adapters.secrets import Secret, Vault
from snipe.adapters.sites.base import SiteSession
from snipe.errors import SecretError

log = logging.getLogger(__name__)


class SessionStore:
    def __init__(self, vault: Vault, directory: Path | None = None) -> None:
        self._vault = vault
        self._dir = directory

    @property
    def directory(self) -> Path:
        return ensure_private_dir(self._dir) if self._dir else sessions_dir()

    def path_for(self, site: str, account: str) -> Path:
        # The name stays readable for a human but never depends on odd characters of an id.
        digest = hashlib.sha256(f"{site}\0{account}".encode()).hexdigest()[:12]
        readable = re.sub(r"[^A-Za-z0-9._-]+", "_", f"{site}-{account}")[:60]
        return self.directory / f"{readable}-{digest}.session"

    def save(self, session: SiteSession) -> Path:
        data = {
            "site": session.site,
            "account": session.account,
            "token": session.token.reveal(),
            "member_id": session.member_id,
            "expires_at": session.expires_at.isoformat(),
            "storage_state": session.storage_state,
            "login_flow": session.login_flow,
            "expires_local": session.expires_local,
        }
        path = self.path_for(session.site, session.account)
        write_private(path, self._vault.seal(json.dumps(data)))
        return path

    def load(self, site: str, account: str) -> SiteSession | None:
        """The saved session, or None when there is none or it cannot be read any more."""
        path = self.path_for(site, account)
        if not path.is_file():
            return None
        try:
            data = json.loads(self._vault.open_sealed(path.read_bytes()))
            return SiteSession(
                site=data["site"], account=data["account"], token=Secret(data["token"]),
                member_id=int(data["member_id"]),
                expires_at=datetime.fromisoformat(data["expires_at"]),
                storage_state=data.get("storage_state"), login_flow=data.get("login_flow", "api"),
                expires_local=data.get("expires_local"),
            )
        except (SecretError, OSError, ValueError, KeyError, TypeError) as exc:
            # A stale or foreign file only costs one login; never fail a strike over it.
            log.warning("saved session of %s on %s is unreadable (%s); logging in again",
                        account, site, type(exc).__name__)
            return None

    def drop(self, site: str, account: str) -> None:
        self.path_for(site, account).unlink(missing_ok=True)


@dataclass(frozen=True)
class Lifetime:
    expires_at: datetime  # by the site's clock
    left_s: float  # seconds left from the moment it was read


def jwt_claims(token: str) -> dict[str, Any] | None:
    """The payload of a JWT (unverified: we only read our own token's expiry), or None."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, TypeError):
        return None
    return claims if isinstance(claims, dict) else None


def _epoch(value: Any) -> float | None:
    """`issuedAt` as the app stores it: epoch seconds (or milliseconds), or an ISO time."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) / 1000 if value > 1e11 else float(value)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return None
    return None


def token_expiry(token: str, issued_at: Any, expires_in: Any, default_lifetime_s: float,
                 server_now: datetime) -> Lifetime:
    """When a token read just after its login expires.

    Its lifetime is the JWT's own `exp - iat` when it has them, else `expiresIn`, else the
    profile's; it runs from `issuedAt` (epoch seconds, as the app stores it) or `iat`. The
    seconds left are counted from now by the token's lifetime alone, so a site clock we have
    not measured yet cannot make a fresh token look expired (or eternal).
    """
    claims = jwt_claims(token) or {}
    exp, iat = _epoch(claims.get("exp")), _epoch(claims.get("iat"))
    if exp is not None and iat is not None and exp > iat:
        lifetime = exp - iat
    else:
        try:
            lifetime = float(expires_in) if expires_in else float(default_lifetime_s)
        except (TypeError, ValueError):
            lifetime = float(default_lifetime_s)
    issued = _epoch(issued_at) or iat
    if exp is not None:
        expires = datetime.fromtimestamp(exp, UTC)
    elif issued is not None:
        expires = datetime.fromtimestamp(issued + lifetime, UTC)
    else:
        expires = server_now + timedelta(seconds=lifetime)
    return Lifetime(expires, lifetime)
