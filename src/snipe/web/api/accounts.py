"""`/api/accounts`: list (with each account's bookings and quick stats), add, change password,
enable or disable, remove. Passwords go in, never out."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from snipe.errors import ConfigError, NotFoundError
from snipe.services import accounts as service
from snipe.services.context import Context
from snipe.services.overview import accounts_overview
from snipe.services.queries import list_bookings
from snipe.web.api.common import services

router = APIRouter(prefix="/api/accounts", tags=["accounts"])


class NewAccount(BaseModel):
    model_config = ConfigDict(extra="forbid")

    netid: str = Field(min_length=1, max_length=120)
    password: str = Field(min_length=1, repr=False)
    site: str | None = None
    site_url: str | None = None
    login: Literal["oidc", "api"] | None = None
    check: bool = True  # try the password at the site first


class AccountChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: str | None = Field(default=None, min_length=1, repr=False)
    active: bool | None = None
    check: bool = True


@router.get("")
def list_accounts(request: Request) -> dict[str, Any]:
    """Every account as `snipe accounts list --json`, plus `bookings` (held, as `snipe
    bookings list --json`) and `stats` (its attempts, as in `snipe stats --json`)."""
    with services(request).reader() as uow:
        return {"accounts": accounts_overview(uow)}


@router.post("", status_code=201)
async def add_account(request: Request, body: NewAccount) -> dict[str, Any]:
    """Add an account (or replace its password), trying the password at the site first."""
    added = await service.add_account(services(request), body.netid, body.password, body.site,
                                      body.site_url, body.login, check=body.check)
    return {"netid": body.netid.strip(), "outcome": added.outcome, "site": added.site,
            "checked": added.checked}


@router.put("/{netid}")
async def change_account(request: Request, netid: str, body: AccountChange) -> dict[str, Any]:
    """A new password (checked at the site unless `check` is false), and/or enable/disable."""
    ctx = services(request)
    if body.password is None and body.active is None:
        raise ConfigError("nothing to change: give password and/or active")
    _known(ctx, netid)
    out: dict[str, Any] = {"netid": netid}
    if body.password is not None:
        added = await service.add_account(ctx, netid, body.password, check=body.check)
        out.update(outcome=added.outcome, checked=added.checked)
    if body.active is not None:
        service.set_active(ctx, netid, body.active)
        out["is_active"] = body.active
    return out


@router.delete("/{netid}")
def remove_account(request: Request, netid: str, force: bool = False) -> dict[str, Any]:
    """Delete the account, its stored password and its saved session."""
    service.remove_account(services(request), netid, force)
    return {"netid": netid, "removed": True}


@router.get("/{netid}/bookings")
def account_bookings(request: Request, netid: str, all: bool = False) -> dict[str, Any]:  # noqa: A002
    """As `snipe bookings list --account NETID --json`."""
    ctx = services(request)
    _known(ctx, netid)
    with ctx.reader() as uow:
        return {"bookings": [v.to_dict() for v in list_bookings(uow, include_inactive=all,
                                                                 account=netid)]}


def _known(ctx: Context, netid: str) -> None:
    with ctx.reader() as uow:
        if uow.accounts.get(netid) is None:
            raise NotFoundError(f"no account {netid!r} (see `snipe accounts list`)")
