"""Accounts: add (checking the password at the site when it is reachable), list, enable or
disable, check, remove. A refused password sets an account aside (quarantine) until the user
gives a new one or a check succeeds: a NetID can be locked by repeated refused logins."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from snipe.adapters.secrets import Secret
from snipe.adapters.sites.base import Credentials
from snipe.adapters.sites.errors import LoginFailed
from snipe.domain.records import AccountRecord
from snipe.errors import ConfigError, NotFoundError, PermanentError, SnipeError
from snipe.services.context import Context, quarantine

DEFAULT_SITE = "x-tudelft"


@dataclass(frozen=True)
class AccountView:
    netid: str
    site: str
    site_url: str | None
    is_active: bool
    active_bookings: int
    created_at: datetime | None
    quarantine: str | None = None
    login: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {"netid": self.netid, "site": self.site, "site_url": self.site_url,
                "is_active": self.is_active, "active_bookings": self.active_bookings,
                "created_at": None if self.created_at is None else self.created_at.isoformat(),
                "quarantine": self.quarantine, "login": self.login}


@dataclass(frozen=True)
class Added:
    outcome: str  # created / updated / unchanged
    site: str
    checked: str  # "ok", "skipped", or why it could not be checked


async def add_account(ctx: Context, netid: str, password: str, site: str | None = None,
                      site_url: str | None = None, login: str | None = None,
                      check: bool = True) -> Added:
    """Create or update an account. Updating keeps its site unless `site` is given. With
    `check`, the password is tried at the site first: refused, nothing is saved."""
    netid = netid.strip()
    if not netid:
        raise ConfigError("a netid cannot be empty")
    if len(netid) > 120:
        raise ConfigError(f"a netid is at most 120 characters (got {len(netid)})")
    if not password:
        raise ConfigError(f"no password given for {netid!r}")
    if login not in (None, "oidc", "api"):
        raise ConfigError(f"login must be oidc or api, not {login!r}")
    with ctx.reader() as uow:
        existing = uow.accounts.get(netid)
    site = site or (existing.site if existing else DEFAULT_SITE)
    if site_url is None and existing is not None and site == existing.site:
        site_url = existing.site_url
    login = login if login is not None else (existing.login_flow if existing else None)
    profile = ctx.profiles(site, site_url)  # an unknown profile is an error now
    checked = "skipped"
    if check:
        checked = await _try_login(ctx, profile, Credentials(netid, Secret(password), login))
    with ctx.uow() as uow:
        record = uow.accounts.get(netid)
        if record is None:
            uow.accounts.add(AccountRecord(netid, site, site_url, True, ctx.vault.seal(password),
                                           login_flow=login))
            outcome = "created"
        else:
            changes: dict[str, Any] = {}
            if ctx.vault.open_sealed(record.sealed_password).decode() != password:
                changes["sealed_password"] = ctx.vault.seal(password)
            if record.quarantine is not None and (changes or checked == "ok"):
                changes["quarantine"] = None  # a new password, or one the site took
            for name, value in (("site", site), ("site_url", site_url), ("login_flow", login)):
                if getattr(record, name) != value:
                    changes[name] = value
            if changes:
                uow.accounts.update(netid, **changes)
            outcome = "updated" if changes else "unchanged"
        uow.commit()
    return Added(outcome, site, checked)


async def _try_login(ctx: Context, profile: Any, creds: Credentials) -> str:
    """One login at the site: 'ok', or why it could not be checked (site unreachable...).
    A refused password raises: the account is not saved with it."""
    driver = ctx.drivers.of(profile)
    try:
        await driver.forget(creds)
        await driver.session(creds)
    except LoginFailed:
        raise PermanentError(f"the site refused the password of {creds.account}; nothing was "
                             "saved (check it, or use --no-check to save it anyway)") from None
    except SnipeError as exc:
        return f"not checked: {exc}"
    return "ok"


async def check_account(ctx: Context, netid: str) -> str:
    """Log the account in anew: success lifts a quarantine; a refusal sets it aside."""
    from snipe.services.context import account_of

    with ctx.reader() as uow:
        record = uow.accounts.get(netid)
    if record is None:
        raise NotFoundError(f"no account {netid!r} (see `snipe accounts list`)")
    with ctx.uow() as uow:  # the check itself is what may lift it
        uow.accounts.update(netid, quarantine=None)
        uow.commit()
    profile, creds = account_of(ctx, netid)
    driver = ctx.drivers.of(profile)
    try:
        await driver.forget(creds)
        session = await driver.session(creds)
    except LoginFailed as exc:
        quarantine(ctx, netid, str(exc))
        raise PermanentError(f"the site refused the password of {netid}; it stays set aside "
                             f"until `snipe accounts add {netid}` gives the right one") from None
    except SnipeError:
        with ctx.uow() as uow:  # not checked: leave it as it was
            uow.accounts.update(netid, quarantine=record.quarantine)
            uow.commit()
        raise
    left = driver.seconds_left(session) / 3600
    return f"logged in (member {session.member_id}, session valid {left:.1f} h)"


def list_accounts(ctx: Context) -> list[AccountView]:
    with ctx.reader() as uow:
        counts = uow.views.held_counts()  # type: ignore[attr-defined]
        return [AccountView(a.netid, a.site, a.site_url, a.active, counts.get(a.netid, 0),
                            a.created_at, a.quarantine, a.login_flow)
                for a in uow.accounts.all()]


def set_active(ctx: Context, netid: str, active: bool) -> None:
    with ctx.uow() as uow:
        if uow.accounts.get(netid) is None:
            raise NotFoundError(f"no account {netid!r} (see `snipe accounts list`)")
        uow.accounts.update(netid, active=active)
        uow.commit()


def remove_account(ctx: Context, netid: str, force: bool = False) -> None:
    """Delete the account, its stored password and its saved session (that file only)."""
    from snipe.adapters.sites.sessions import SessionStore

    with ctx.uow() as uow:
        record = uow.accounts.get(netid)
        if record is None:
            raise NotFoundError(f"no account {netid!r} (see `snipe accounts list`)")
        held = len(uow.bookings.held([netid]))
        if held and not force:
            raise PermanentError(f"{netid} holds {held} active booking(s); cancel them first or "
                                 "use --force")
        uow.accounts.remove(netid)
        uow.commit()
    home = ctx.settings.home
    if home is not None:
        SessionStore(ctx.vault, home / "sessions").drop(record.site, netid)  # type: ignore[arg-type]


async def check_accounts(ctx: Context, netids: list[str]) -> dict[str, str]:
    """Log several accounts in at once (the driver lets a few logins run together);
    netid -> 'ok ...' or why not."""
    import asyncio

    async def one(netid: str) -> str:
        try:
            return "ok: " + await check_account(ctx, netid)
        except SnipeError as exc:
            return f"failed: {exc}"

    results = await asyncio.gather(*(one(n) for n in netids))
    return dict(zip(netids, results, strict=True))
