"""Sandbox accounts (`user1`/`pass1` ...), bearer tokens and the one-time codes of the SSO flow."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select

from snipe.sandbox.clock import Clock
from snipe.sandbox.refusals import Refusal
from snipe.sandbox.store import Store, accounts, tokens

MEMBER_ID_BASE = 100_000
EMAIL_DOMAIN = "student.tudelft.nl"
CODE_LIFETIME_S = 120.0  # real seconds an SSO code may wait before the app redeems it


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def jwt_shaped(claims: dict[str, Any]) -> str:
    """A token that looks like the real site's RS256 JWT: a readable header and payload, and
    random bytes where the signature goes (the sandbox looks tokens up, it never verifies one)."""
    header = {"alg": "RS256", "typ": "JWT"}
    parts = [json.dumps(header, separators=(",", ":")).encode(),
             json.dumps(claims, separators=(",", ":")).encode(), secrets.token_bytes(256)]
    return ".".join(_b64url(part) for part in parts)


@dataclass(frozen=True)
class Member:
    id: int
    netid: str
    email: str
    first_name: str
    last_name: str
    bot: str | None = None

    def json(self) -> dict[str, Any]:
        return {
            "id": self.id, "email": self.email, "firstName": self.first_name,
            "lastName": self.last_name, "netId": self.netid,
        }


def _member(row: Any) -> Member:
    return Member(row.id, row.netid, row.email, row.first_name, row.last_name, row.bot)


class AccountBook:
    def __init__(self, store: Store, clock: Clock, token_lifetime_s: int,
                 jwt_tokens: bool = False) -> None:
        self.store = store
        self.clock = clock
        self.token_lifetime_s = token_lifetime_s
        self.jwt_tokens = jwt_tokens
        self._codes: dict[str, tuple[int, float]] = {}
        self._codes_lock = threading.Lock()

    def ensure_users(self, count: int) -> None:
        """Accounts user1..userN with passwords pass1..passN (kept if the state file has them)."""
        with self.store.transaction() as conn:
            for n in range(1, count + 1):
                conn.execute(insert(accounts).prefix_with("OR IGNORE").values(
                    id=MEMBER_ID_BASE + n, netid=f"user{n}", email=f"user{n}@{EMAIL_DOMAIN}",
                    password_hash=_digest(f"pass{n}"), first_name="User", last_name=str(n),
                ))

    def bot_account(self, name: str, bot: str) -> Member:
        """The account `name` driven by `bot`, created on first use (it has no password)."""
        with self.store.transaction() as conn:
            row = conn.execute(select(accounts).where(accounts.c.netid == name)).first()
            if row is None:
                result = conn.execute(insert(accounts).values(
                    netid=name, email=f"{name}@bots.invalid", password_hash=None,
                    first_name="Bot", last_name=name, bot=bot,
                ))
                row = conn.execute(
                    select(accounts).where(accounts.c.id == result.inserted_primary_key[0])
                ).one()
        return _member(row)

    def find(self, name: str) -> Member | None:
        """By netid or email."""
        folded = name.strip().casefold()
        with self.store.transaction() as conn:
            row = conn.execute(select(accounts).where(
                (func.lower(accounts.c.netid) == folded) | (func.lower(accounts.c.email) == folded)
            )).first()
        return _member(row) if row else None

    def check(self, email: str, password: str) -> Member:
        """The member with these credentials (a netid works as email), or a refusal."""
        member = self.find(email)
        stored = None
        if member is not None:
            with self.store.transaction() as conn:
                stored = conn.execute(
                    select(accounts.c.password_hash).where(accounts.c.id == member.id)
                ).scalar()
        if member is None or stored is None or not hmac.compare_digest(stored, _digest(password)):
            raise Refusal("invalid_credentials", "wrong email/netid or password")
        return member

    def login(self, email: str, password: str) -> tuple[Member, str]:
        """Check credentials and issue a bearer token."""
        member = self.check(email, password)
        return member, self.issue(member)

    def issue(self, member: Member) -> str:
        now = self.clock.now_s()
        token = (jwt_shaped(self.claims(member, now)) if self.jwt_tokens
                 else secrets.token_urlsafe(32))
        with self.store.transaction() as conn:
            conn.execute(insert(tokens).values(
                token_hash=_digest(token), account_id=member.id, issued_at=now
            ))
        return token

    def claims(self, member: Member, now: float) -> dict[str, Any]:
        """What a token says about its member: subject, issue and expiry (epoch seconds)."""
        return {"sub": str(member.id), "email": member.email, "iat": int(now),
                "exp": int(now) + self.token_lifetime_s, "jti": secrets.token_hex(8)}

    def id_token(self, member: Member) -> str:
        """An OIDC id token of the same shape (the app keeps it; the API never reads it)."""
        claims = self.claims(member, self.clock.now_s())
        return jwt_shaped(claims | {"netid": member.netid, "name": member.first_name})

    def owners_of_tokens(self) -> dict[str, str]:
        """Token digest -> netid of every token ever issued (expired ones too)."""
        with self.store.transaction() as conn:
            rows = conn.execute(select(tokens.c.token_hash, accounts.c.netid)
                                .join(accounts, accounts.c.id == tokens.c.account_id)).all()
        return {row.token_hash: row.netid for row in rows}

    def member_of(self, token: str | None) -> Member:
        """The member a bearer token belongs to; refuses unknown and expired tokens."""
        if not token:
            raise Refusal("unauthorized", "missing bearer token")
        with self.store.transaction() as conn:
            row = conn.execute(
                select(tokens.c.issued_at, accounts)
                .join(accounts, accounts.c.id == tokens.c.account_id)
                .where(tokens.c.token_hash == _digest(token))
            ).first()
        if row is None:
            raise Refusal("unauthorized", "unknown bearer token")
        if self.clock.now_s() - row.issued_at >= self.token_lifetime_s:
            raise Refusal("token_expired", "bearer token expired; log in again")
        return _member(row)

    # --- the SSO round trip: the identity provider hands the app a one-time code ------------
    def grant_code(self, member: Member) -> str:
        code = secrets.token_urlsafe(24)
        with self._codes_lock:
            now = time.monotonic()
            self._codes = {c: v for c, v in self._codes.items() if v[1] > now}
            self._codes[code] = (member.id, now + CODE_LIFETIME_S)
        return code

    def redeem_code(self, code: str) -> tuple[Member, str]:
        with self._codes_lock:
            entry = self._codes.pop(code, None)
        if entry is None or entry[1] < time.monotonic():
            raise Refusal("invalid_credentials", "unknown or expired sign-in code")
        with self.store.transaction() as conn:
            row = conn.execute(select(accounts).where(accounts.c.id == entry[0])).one()
        member = _member(row)
        return member, self.issue(member)
