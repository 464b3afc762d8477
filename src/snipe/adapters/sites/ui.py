"""Page objects of an X-style web app: the SSO login (here) and the booking page
(`booking_page.py`).

Every selector comes from the site profile (`SiteProfile.selectors`). A selector that does not
show up in time means the site changed: we save what the page looked like and say where.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from snipe.adapters.sites.base import Credentials
from snipe.adapters.sites.booking_page import BookingPage, refusal_from_text
from snipe.adapters.sites.errors import LoginFailed
from snipe.adapters.sites.page_base import Page

__all__ = ["BookingPage", "LoginPage", "Page", "auth_in_state", "refusal_from_text"]

log = logging.getLogger(__name__)


class LoginPage(Page):
    """The SSO flow: login page -> identity-provider chooser -> university form -> back."""

    async def login(self, creds: Credentials) -> dict[str, Any]:
        """Log in and return the app's stored auth (`localStorage[storage_key]`); the page's
        context then holds the logged-in storage state.

        A refused password raises `LoginFailed` naming the account; the form is submitted once.
        """
        await self.goto(self.url("login"))
        await self.visible("login_header", "login")
        await (await self.visible("oidc_button", "login")).click()
        await (await self.visible("idp_university", "identity provider")).click()
        await (await self.visible("username", "university login")).fill(creds.account)
        await (await self.visible("password", "university login")).fill(creds.password.reveal())
        await (await self.visible("submit", "university login")).click()
        return await self._outcome(creds)

    async def _outcome(self, creds: Credentials) -> dict[str, Any]:
        key = self.profile.storage_key
        stored = asyncio.ensure_future(self.page.wait_for_function(
            "key => window.localStorage.getItem(key) !== null", arg=key,
            timeout=self.timeout_ms))
        refused = asyncio.ensure_future(self.page.locator(self.selector("login_error")).first
                                        .wait_for(state="visible", timeout=self.timeout_ms))
        try:
            if await _first_of(stored, refused) is refused:
                raise LoginFailed(f"the site refused the password of account {creds.account}",
                                  account=creds.account)
        finally:
            for task in (stored, refused):
                task.cancel()
            await asyncio.gather(stored, refused, return_exceptions=True)
        if not stored.done() or stored.cancelled() or stored.exception() is not None:
            raise await self.changed("login", "stored session", f"localStorage[{key!r}]")
        # Read the entry through the context, not the page: the app navigates right after
        # storing it, and a page evaluation racing a navigation can fail or stall.
        state = await self.page.context.storage_state()
        return auth_in_state(state, self.profile.web_url, key) or await self._no_auth(key)

    async def _no_auth(self, key: str) -> dict[str, Any]:
        raise await self.changed("login", "stored session", f"localStorage[{key!r}]")


async def _first_of(stored: asyncio.Future[Any], refused: asyncio.Future[Any]
                    ) -> asyncio.Future[Any] | None:
    """Which wait succeeded first: the stored session, the refusal, or None when neither did
    (a wait that failed, e.g. on a navigation, leaves the other one running)."""
    pending: set[asyncio.Future[Any]] = {stored, refused}
    while pending:
        done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        for task in (refused, stored):
            if task in done and not task.cancelled() and task.exception() is None:
                return task
    return None


def auth_in_state(state: dict[str, Any], origin: str, key: str) -> dict[str, Any] | None:
    """The app's auth entry in a Playwright storage state, when it is there and usable."""
    for entry in state.get("origins", []):
        if entry.get("origin", "").rstrip("/") != origin.rstrip("/"):
            continue
        for item in entry.get("localStorage", []):
            if item.get("name") != key:
                continue
            try:
                auth = json.loads(item["value"])
                auth["tokenResponse"]["accessToken"]
                int(auth["member"]["id"])
                return auth
            except (TypeError, ValueError, KeyError):
                return None
    return None
