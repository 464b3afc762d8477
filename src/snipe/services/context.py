"""What every use case is handed: the store's units of work, our clock, the site drivers, the
notifier, the vault and the settings. Built once by `snipe.bootstrap`; tests build one from fakes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from snipe.adapters.clock import Clock
from snipe.adapters.sites.base import Credentials
from snipe.domain.events import Event, EventKind
from snipe.domain.site import SiteProfile
from snipe.errors import NotFoundError, PermanentError
from snipe.services.events import EventBus
from snipe.services.ports import Drivers, Notifier, UnitOfWork, Vault
from snipe.settings import Settings

log = logging.getLogger(__name__)


class AccountQuarantined(PermanentError):
    """The site refused this account's password: nothing uses it until the user acts."""


@dataclass
class Context:
    uow: Callable[[], UnitOfWork]  # a writing unit of work
    reader: Callable[[], UnitOfWork]  # a reading one (never takes the write lock)
    clock: Clock
    drivers: Drivers
    notifier: Notifier
    vault: Vault
    profiles: Callable[[str, str | None], SiteProfile]
    settings: Settings = field(default_factory=Settings)
    events: EventBus = field(default_factory=EventBus)
    extras: dict[str, Any] = field(default_factory=dict)

    def publish(self, kind: str, **data: Any) -> None:
        """A live event for whoever watches (the dashboard); never raises."""
        try:
            self.events.publish(kind, self.clock.now(), **data)
        except Exception as exc:
            log.warning("live event %s not published: %s", kind, exc)

    def tell(self, kind: str, message: str, target: str | None = None,
             account: str | None = None) -> None:
        """Notify, never raising: the caller is in the middle of more important work."""
        try:
            self.notifier.send(Event(kind, message, self.clock.now(), target, account))
        except Exception as exc:  # a broken notifier must not stop a strike
            log.warning("notification %s failed: %s", kind, type(exc).__name__)


def account_of(ctx: Context, netid: str) -> tuple[SiteProfile, Credentials]:
    """The account's site profile and what its driver needs to act for it.

    A quarantined account (its password was refused) is refused here, so no strike, poll or
    sync tries it again until the user changes the password or checks it.
    """
    with ctx.reader() as uow:
        record = uow.accounts.get(netid)
    if record is None:
        raise NotFoundError(f"no account {netid!r} (see `snipe accounts list`)")
    if record.quarantine is not None:
        raise AccountQuarantined(
            f"{netid} is set aside: {record.quarantine}; run `snipe accounts add {netid}` with "
            f"the right password, or `snipe accounts check {netid}`")
    from snipe.adapters.secrets import Secret

    password = Secret(ctx.vault.open_sealed(record.sealed_password).decode())
    return ctx.profiles(record.site, record.site_url), Credentials(record.netid, password,
                                                                   record.login_flow)


def quarantine(ctx: Context, netid: str, why: str, target: str | None = None) -> None:
    """The site refused the password: set the account aside until the user acts, and say so
    once. A NetID can be locked by repeated refused logins, so nothing tries it again."""
    with ctx.uow() as uow:
        record = uow.accounts.get(netid)
        if record is None or record.quarantine is not None:
            return
        uow.accounts.update(netid, quarantine=f"the site refused its password ({why})"[:300])
        uow.commit()
    ctx.tell(EventKind.LOGIN_FAILING, f"{netid}: the site refused its password; snipe will not "
             f"use it until you run `snipe accounts add {netid}` or `snipe accounts check "
             f"{netid}`", target, netid)
