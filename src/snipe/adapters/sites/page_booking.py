"""The page path of a driver: the SSO login in a browser, and booking by clicks when the API
path cannot be used. The browser runs only while one of them needs it: a login's context is
closed as soon as its session is saved, and the pool closes the browser once no context is left.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import replace
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from snipe.adapters.secrets import Secret
from snipe.adapters.sites.base import Credentials, Participation, SiteSession
from snipe.adapters.sites.budget import RequestBudget, charging
from snipe.adapters.sites.errors import AuthExpired, SiteUnavailable, Waitlisted
from snipe.adapters.sites.sessions import token_expiry
from snipe.adapters.sites.ui import BookingPage, LoginPage
from snipe.domain.site import Location
from snipe.domain.slots import slot_start
from snipe.errors import SnipeError

if TYPE_CHECKING:
    from snipe.adapters.sites.x import XDriver

log = logging.getLogger(__name__)


async def bounded(work: Any, seconds: float, what: str) -> Any:
    """`work`, or `SiteUnavailable` once `seconds` pass: no browser step may stall a strike."""
    try:
        return await asyncio.wait_for(work, timeout=seconds)
    except TimeoutError:
        raise SiteUnavailable(f"{what} did not finish within {seconds:g}s") from None


class PageDesk:
    """The browser side of one `XDriver`."""

    def __init__(self, driver: XDriver) -> None:
        self.d = driver
        self.pages: dict[str, BookingPage] = {}

    # -- login ------------------------------------------------------------------------------

    async def login(self, creds: Credentials) -> SiteSession:
        d = self.d
        browser = d.browser
        await browser.close_context(creds.account)  # start from a logged-out context
        context = await browser.context(creds.account)
        page = await context.new_page()
        try:
            auth = await bounded(LoginPage(page, d.profile, creds.account,
                                           d.ui_timeout_s).login(creds),
                                 6 * d.ui_timeout_s, f"the login of {creds.account}")
            state = await bounded(context.storage_state(), d.ui_timeout_s, "the login state")
        finally:
            with contextlib.suppress(Exception):  # never hide why the login ended
                await asyncio.wait_for(page.close(), timeout=d.ui_timeout_s)
            # The session holds the storage state: the browser is not needed until a page
            # booking, and a daemon must not keep a Chromium between strikes.
            await browser.close_context(creds.account)
        tokens = auth["tokenResponse"]
        lifetime = token_expiry(tokens["accessToken"], tokens.get("issuedAt"),
                                tokens.get("expiresIn"), d.profile.token_lifetime_s,
                                d.server_now())
        return SiteSession(d.profile.name, creds.account, Secret(tokens["accessToken"]),
                           int(auth["member"]["id"]), lifetime.expires_at, state, "oidc",
                           d.local_now() + lifetime.left_s)

    # -- booking ----------------------------------------------------------------------------

    async def open(self, creds: Credentials, loc: Location, sub: str | None,
                   day: date) -> BookingPage:
        """A page already on the right date and location (the `ui` path's preparation)."""
        d = self.d
        session = await d.session(creds)
        context = await d.browser.context(creds.account, self.storage_state(session))
        page = BookingPage(await context.new_page(), d.profile, creds.account, d.ui_timeout_s)
        await bounded(page.open(day, loc, sub), 6 * d.ui_timeout_s, "the booking page")
        self.pages[creds.account] = page
        return page

    async def book(self, creds: Credentials, loc: Location, sub: str | None, day: date,
                   hour: int, wait_s: float = 0.0, budget: RequestBudget | None = None
                   ) -> Participation:
        """The `ui` path: clicks on the account's booking page (opened now if not prepared);
        each reload of its slot list is charged to `budget`."""
        d = self.d
        budget = budget or RequestBudget(d.profile.max_requests_per_unlock_per_account,
                                         creds.account)
        try:
            reference = await self._click(creds, loc, sub, day, hour, wait_s, budget)
        except Waitlisted as exc:
            raise await self._waitlist_entry(creds, loc, sub, day, hour, exc) from None
        except AuthExpired:
            log.info("booking page refused the session of %s; logging in again", creds.account)
            await d.forget(creds)
            self.pages.pop(creds.account, None)
            await d.browser.close_context(creds.account)
            reference = await self._click(creds, loc, sub, day, hour, wait_s, budget)
        start = slot_start(day, hour, d.profile.tz)
        landed = None
        try:
            with charging(budget if budget.left > 0 else None):
                landed = await d.landed(creds, loc, sub, start)
        except SnipeError as exc:  # the page said yes; the id is a convenience
            log.info("booking id of %s not read back: %s", creds.account, exc)
        if landed is not None:
            return replace(landed, via="ui")
        return Participation(reference, 0, None, loc.name, sub, start, None, via="ui")

    async def _waitlist_entry(self, creds: Credentials, loc: Location, sub: str | None,
                              day: date, hour: int, exc: Waitlisted) -> Waitlisted:
        """The page's waitlist notice with the entry's id (read back from the site)."""
        start = slot_start(day, hour, self.d.profile.tz)
        try:
            held = await self.d.my_bookings(creds, start - timedelta(minutes=1),
                                            include_waitlist=True)
        except SnipeError:
            return exc
        entry = next((p for p in held if p.start == start and p.location == loc.name
                      and p.status == self.d.terms.waitlist_status), None)
        return Waitlisted(str(exc), entry.id if entry else None)

    async def _click(self, creds: Credentials, loc: Location, sub: str | None, day: date,
                     hour: int, wait_s: float, budget: RequestBudget) -> int | None:
        page = self.pages.get(creds.account)
        if page is None or page.page.is_closed():
            page = await self.open(creds, loc, sub, day)
        elif page.day != day:
            await page.show(day, loc, sub)
        return await bounded(page.book(hour, wait_s=wait_s, budget=budget, sub_location=sub),
                             wait_s + 4 * self.d.ui_timeout_s,
                             f"the page booking of {creds.account}")

    def storage_state(self, session: SiteSession) -> dict[str, Any]:
        """The browser state of a session; an API-login session is given the app's own entry."""
        if session.storage_state:
            return session.storage_state
        profile = self.d.profile
        auth = {"member": {"id": session.member_id},
                "tokenResponse": {"accessToken": session.token.reveal(), "tokenType": "Bearer",
                                  "expiresIn": profile.token_lifetime_s,
                                  "issuedAt": int(session.expires_at.timestamp())
                                  - profile.token_lifetime_s},
                "isOidc": False, "isLoggedIn": True}
        return {"cookies": [], "origins": [{"origin": profile.web_url, "localStorage": [
            {"name": profile.storage_key, "value": json.dumps(auth)}]}]}

    async def close(self) -> None:
        self.pages.clear()
