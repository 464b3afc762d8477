"""Accounts: add, list, enable/disable, remove, and credentials for the site drivers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select

from snipe.adapters.db.models import Account, Booking
from snipe.adapters.db.store import Store, UnitOfWork
from snipe.adapters.secrets import Secret, Vault
from snipe.domain.site import SiteProfile
from snipe.errors import ConfigError, NotFoundError, PermanentError

ACTIVE = ("pending", "confirmed")


@dataclass(frozen=True)
class AccountView:
    netid: str
    site: str
    site_url: str | None
    is_active: bool
    active_bookings: int
    created_at: datetime

    def to_dict(self) -> dict[str, object]:
        return {
            "netid": self.netid,
            "site": self.site,
            "site_url": self.site_url,
            "is_active": self.is_active,
            "active_bookings": self.active_bookings,
            "created_at": self.created_at.isoformat(),
        }


@dataclass(frozen=True)
class Credentials:
    netid: str
    password: Secret
    profile: SiteProfile
    member_id: int | None

    def __repr__(self) -> str:
        return f"Credentials(netid={self.netid!r}, profile={self.profile.name!r})"


def _get(uow: UnitOfWork, netid: str) -> Account:
    account = uow.session.scalar(select(Account).where(Account.netid == netid))
    if account is None:
        raise NotFoundError(f"no account {netid!r} (see `snipe accounts list`)")
    return account


def upsert_account(
    uow: UnitOfWork,
    vault: Vault,
    netid: str,
    password: str,
    site: str,
    site_url: str | None,
    is_active: bool = True,
) -> str:
    """Create or update an account; returns 'created', 'updated' or 'unchanged'."""
    account = uow.session.scalar(select(Account).where(Account.netid == netid))
    if account is None:
        uow.session.add(
            Account(netid=netid, password_enc=vault.seal(password), site_profile=site,
                    site_url=site_url, is_active=is_active)
        )
        return "created"
    changed = False
    if vault.open_sealed(account.password_enc).decode() != password:
        account.password_enc = vault.seal(password)
        changed = True
    for attr, value in (("site_profile", site), ("site_url", site_url), ("is_active", is_active)):
        if getattr(account, attr) != value:
            setattr(account, attr, value)
            changed = True
    return "updated" if changed else "unchanged"


def add_account(
    store: Store, netid: str, password: str, site: str = "x-tudelft", site_url: str | None = None
) -> str:
    if not netid.strip():
        raise ConfigError("a netid cannot be empty")
    if not password:
        raise ConfigError(f"no password given for {netid!r}")
    from snipe.profiles import load_profile

    load_profile(site, site_url)  # an unknown profile is an error now, not at strike time
    with store.unit_of_work() as uow:
        outcome = upsert_account(uow, store.vault, netid.strip(), password, site, site_url)
        uow.commit()
    return outcome


def list_accounts(store: Store) -> list[AccountView]:
    counts = (
        select(Booking.account_id, func.count().label("n"))
        .where(Booking.status.in_(ACTIVE))
        .group_by(Booking.account_id)
        .subquery()
    )
    with store.reading() as session:
        rows = session.execute(
            select(Account, func.coalesce(counts.c.n, 0))
            .outerjoin(counts, counts.c.account_id == Account.id)
            .order_by(Account.netid)
        ).all()
    return [
        AccountView(a.netid, a.site_profile, a.site_url, a.is_active, n, a.created_at)
        for a, n in rows
    ]


def set_active(store: Store, netid: str, active: bool) -> None:
    with store.unit_of_work() as uow:
        _get(uow, netid).is_active = active
        uow.commit()


def remove_account(store: Store, netid: str, force: bool = False) -> None:
    with store.unit_of_work() as uow:
        account = _get(uow, netid)
        held = uow.session.scalar(
            select(func.count()).where(Booking.account_id == account.id, Booking.status.in_(ACTIVE))
        )
        if held and not force:
            raise PermanentError(
                f"{netid} holds {held} active booking(s); cancel them first or use --force"
            )
        uow.session.delete(account)
        uow.commit()
    from snipe.adapters.paths import data_dir

    for leftover in (data_dir() / "sessions").glob(f"*{netid}*"):
        leftover.unlink(missing_ok=True)


def credentials(store: Store, netid: str, profile_dir: Path | None = None) -> Credentials:
    """What a site driver needs to act for `netid` (the password stays a `Secret`)."""
    from snipe.profiles import load_profile

    with store.reading() as session:
        account = session.scalar(select(Account).where(Account.netid == netid))
        if account is None:
            raise NotFoundError(f"no account {netid!r} (see `snipe accounts list`)")
        profile = load_profile(account.site_profile, account.site_url, profile_dir)
        return Credentials(
            account.netid, store.vault.open_secret(account.password_enc), profile, account.member_id
        )


def active_netids(uow_or_session: object, site: str | None = None) -> list[str]:
    session = getattr(uow_or_session, "session", uow_or_session)
    query = select(Account.netid).where(Account.is_active.is_(True)).order_by(Account.id)
    if site is not None:
        query = query.where(Account.site_profile == site)
    return list(session.scalars(query))  # type: ignore[attr-defined]
