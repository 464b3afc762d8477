"""Page objects of an X-style web app: the SSO login and the booking page.

Every selector comes from the site profile (`SiteProfile.selectors`). A selector that does not
show up in time means the site changed: we save what the page looked like and say where.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import date
from typing import Any

from snipe.adapters.sites import artifacts
from snipe.adapters.sites.base import Credentials
from snipe.adapters.sites.errors import (
    AuthExpired,
    BookingRefused,
    LimitReached,
    LoginFailed,
    SiteChanged,
    SlotFull,
    SlotNotOpen,
    SlotStarted,
)
from snipe.domain.site import Location, SiteProfile

log = logging.getLogger(__name__)


class Page:
    """Common ground of the page objects: profile selectors, bounded waits, artifacts."""

    def __init__(self, page: Any, profile: SiteProfile, account: str = "",
                 timeout_s: float = 10.0) -> None:
        self.page = page
        self.profile = profile
        self.account = account
        self.timeout_ms = timeout_s * 1000

    def selector(self, name: str, **fill: Any) -> str:
        try:
            value = self.profile.selectors[name]
        except KeyError:
            raise SiteChanged(f"site profile {self.profile.name!r} has no selector {name!r}"
                              ) from None
        return value.format(**fill) if fill else value

    def url(self, page_name: str) -> str:
        path = self.profile.pages.get(page_name, f"/pages/{page_name}")
        return self.profile.web_url + path

    async def changed(self, what: str, name: str, selector: str) -> SiteChanged:
        where = await artifacts.save_page(f"ui-{what}", self.page, account=self.account,
                                          note=f"{name}: {selector}")
        return SiteChanged(f"the {what} page changed: {name} ({selector}) did not appear on "
                           f"{self.page.url}", artifacts=where)

    async def visible(self, name: str, what: str, timeout_ms: float | None = None,
                      **fill: Any) -> Any:
        """The first element of selector `name`, once visible; `SiteChanged` if it never is."""
        from playwright.async_api import TimeoutError as PlaywrightTimeout

        selector = self.selector(name, **fill)
        locator = self.page.locator(selector).first
        try:
            await locator.wait_for(state="visible", timeout=timeout_ms or self.timeout_ms)
        except PlaywrightTimeout:
            raise await self.changed(what, name, selector) from None
        return locator

    async def goto(self, url: str) -> None:
        from playwright.async_api import Error as PlaywrightError

        from snipe.adapters.sites.errors import SiteUnavailable

        try:
            await self.page.goto(url, timeout=self.timeout_ms, wait_until="domcontentloaded")
        except PlaywrightError as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise SiteUnavailable(f"page {url} did not load: {first}") from None


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
        done, pending = await asyncio.wait({stored, refused},
                                           return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        if refused in done and refused.exception() is None:
            raise LoginFailed(f"the site refused the password of account {creds.account}",
                              account=creds.account)
        if stored.exception() is not None:
            raise await self.changed("login", "stored session", f"localStorage[{key!r}]")
        # Read the entry through the context, not the page: the app navigates right after
        # storing it, and a page evaluation racing a navigation can fail or stall.
        state = await self.page.context.storage_state()
        return auth_in_state(state, self.profile.web_url, key) or await self._no_auth(key)

    async def _no_auth(self, key: str) -> dict[str, Any]:
        raise await self.changed("login", "stored session", f"localStorage[{key!r}]")


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


class BookingPage(Page):
    """The booking page, opened on a date and location, so a booking is a few clicks."""

    day: date | None = None

    async def open(self, day: date, location: Location, sub_location: str | None) -> None:
        await self.goto(self.url("booking"))
        await self._logged_in()
        await self.show(day, location, sub_location)

    async def _logged_in(self) -> None:
        """The app sends a refused session to its login page: that is `AuthExpired`."""
        booking = self.page.locator(self.selector("date_input")).first
        login = self.page.locator(self.selector("login_header")).first
        either = booking.or_(login)
        try:
            await either.wait_for(state="visible", timeout=self.timeout_ms)
        except Exception:
            raise await self.changed("booking", "date_input", self.selector("date_input")
                                     ) from None
        if await login.is_visible():
            raise AuthExpired(f"the booking page refused the session of {self.account}")

    async def show(self, day: date, location: Location, sub_location: str | None) -> None:
        await self.set_date(day)
        await (await self.visible("tag_filter", "booking")).fill(location.name)
        box = await self.visible("tag_checkbox", "booking", tag_id=location.tag_id)
        if not await box.is_checked():
            await box.check()
        await self.page.keyboard.press("Escape")
        if sub_location:
            await self.choose_sub_location(sub_location)
        await self.visible("slot_list", "booking")

    async def set_date(self, day: date) -> None:
        """Set the date input; the app reloads its slot list on `change` (also a refresh)."""
        date_input = await self.visible("date_input", "booking")
        # Typing into a date input is locale-dependent: set the value and tell the app.
        await date_input.evaluate(
            """(el, value) => { el.value = value;
                 el.dispatchEvent(new Event('input', {bubbles: true}));
                 el.dispatchEvent(new Event('change', {bubbles: true})); }""",
            day.isoformat())
        self.day = day

    async def choose_sub_location(self, name: str) -> None:
        """Pick `name` in the ng-select dropdown (open it, click the option with that text)."""
        await (await self.visible("sub_location_select", "booking")).click()
        await self.visible("sub_location_option", "booking")
        options = self.page.locator(self.selector("sub_location_option"))
        option = options.filter(has_text=name)
        count = await option.count()
        exact = None
        for i in range(count):
            text = (await option.nth(i).inner_text()).strip()
            if text.casefold() == name.casefold():
                exact = option.nth(i)
                break
        if exact is None:
            raise await self.changed("booking", f"sub-location option {name!r}",
                                     self.selector("sub_location_option"))
        await exact.click()

    def slot_item(self, hour: int) -> Any:
        """The slot item in the list whose start time reads HH:00 (innermost match)."""
        start = self.page.locator(self.selector("slot_start_time"), has_text=f"{hour:02d}:00")
        button = self.page.locator(self.selector("book_button"))
        items = self.page.locator(f"{self.selector('slot_list')} *")
        return items.filter(has=start).filter(has=button).last

    async def find_item(self, hour: int, wait_s: float, max_reloads: int) -> Any:
        """The slot's item, reloading the list (bounded) while it is absent: it may unlock now.

        Even with `wait_s` 0 the list gets a moment to render after the last filter change.
        """
        item = self.slot_item(hour)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(wait_s, 0.0)
        # At a strike (`wait_s` > 0) the list on a page prepared before the instant is stale:
        # look briefly, then reload, instead of waiting for a slot that cannot appear by itself.
        settle_ms = 1500.0 if wait_s <= 0 else 100.0
        reloads = 0
        while True:
            try:
                await item.wait_for(state="visible", timeout=settle_ms)
                return item
            except Exception:
                pass
            if loop.time() >= deadline or reloads >= max_reloads or self.day is None:
                raise SlotNotOpen(f"no {hour:02d}:00 slot shown on the booking page"
                                  + (f" after {reloads} reloads" if reloads else ""))
            reloads += 1
            settle_ms = min(max((deadline - loop.time()) * 1000, 50.0), 500.0)
            await self.set_date(self.day)

    async def book(self, hour: int, *, wait_s: float = 0.0, max_reloads: int = 8) -> int | None:
        """Book the slot starting at `hour`: book button, then the details' book button.

        `wait_s` bounds how long to wait for the slot to appear (it may unlock any moment).
        Returns the site's booking id when the page shows it (profile selector
        `booking_reference`), else None.
        """
        item = await self.find_item(hour, wait_s, max_reloads)
        full = item.locator(self.selector("slot_full"))
        if await full.count() or "opacity-50" in (await item.get_attribute("class") or ""):
            raise SlotFull(f"the {hour:02d}:00 slot is full")
        button = item.locator(self.selector("book_button")).first
        try:
            await button.click(timeout=self.timeout_ms)
        except Exception:
            raise await self.changed("booking", "book button", self.selector("book_button")
                                     ) from None
        await (await self.visible("details_book_button", "booking details")).click()
        await self._confirmation(hour)
        reference = self.profile.selectors.get("booking_reference")
        if reference:
            text = await self.page.locator(reference).first.text_content(timeout=2000)
            if text and text.strip().isdigit():
                return int(text.strip())
        return None

    async def _confirmation(self, hour: int) -> None:
        """Wait for the success mark, or the page's refusal (`booking_error` selector)."""
        success = self.page.locator(self.selector("booking_success")).first
        error_selector = self.profile.selectors.get("booking_error")
        waits = [asyncio.ensure_future(success.wait_for(state="visible",
                                                        timeout=self.timeout_ms))]
        if error_selector:
            waits.append(asyncio.ensure_future(self.page.locator(error_selector).first.wait_for(
                state="visible", timeout=self.timeout_ms)))
        done, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        if waits[0] in done and waits[0].exception() is None:
            return
        if len(waits) > 1 and waits[1] in done and waits[1].exception() is None:
            text = (await self.page.locator(error_selector).first.inner_text()).strip()
            raise refusal_from_text(text, hour)
        raise await self.changed("booking confirmation", "booking_success",
                                 self.selector("booking_success"))


def refusal_from_text(text: str, hour: int) -> Exception:
    """The page's refusal line as our error type (the page shows the API's message)."""
    folded = text.casefold()
    line = text.splitlines()[0][:200] if text else "no reason given"
    if "full" in folded:
        return SlotFull(f"the {hour:02d}:00 slot is full ({line})")
    if "already" in folded or "limit" in folded:
        return LimitReached(f"the account may not book the {hour:02d}:00 slot ({line})")
    if "not open" in folded or "not yet" in folded:
        return SlotNotOpen(f"the {hour:02d}:00 slot is not open yet ({line})")
    if "started" in folded:
        return SlotStarted(f"the {hour:02d}:00 slot has already started ({line})")
    return BookingRefused(f"the site refused the {hour:02d}:00 booking: {line}")
