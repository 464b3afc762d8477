"""The booking page: opened on a date and location, so a booking is a few clicks.

Two markups are known and both are driven by profile selectors: the real site's (each slot its
own container, halls behind an "All spaces" expander, an empty success icon and an `h4`
"Booking was made") and the sandbox's classic one (one list of `.bookable-slot` items).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import date
from typing import Any

from snipe.adapters.sites.budget import RequestBudget
from snipe.adapters.sites.errors import (
    AuthExpired,
    BookingRefused,
    SlotFull,
    SlotNotOpen,
    Waitlisted,
    typed_refusal,
)
from snipe.adapters.sites.page_base import Page
from snipe.domain.site import Location

log = logging.getLogger(__name__)

REFERENCE_WAIT_MS = 300  # the participation id is shown with the success mark, or not at all


class BookingPage(Page):
    """The booking page of one account."""

    day: date | None = None

    async def open(self, day: date, location: Location, sub_location: str | None) -> None:
        await self.goto(self.url("booking"))
        await self._logged_in()
        await self.show(day, location, sub_location)

    async def _logged_in(self) -> None:
        """The app sends a refused session to its login page: that is `AuthExpired`."""
        booking = self.page.locator(self.selector("date_input")).first
        login = self.page.locator(self.selector("login_header")).first
        try:
            await booking.or_(login).wait_for(state="visible", timeout=self.timeout_ms)
        except Exception:
            raise await self.changed("booking", "date_input", self.selector("date_input")
                                     ) from None
        if await login.is_visible():
            raise AuthExpired(f"the booking page refused the session of {self.account}")

    async def show(self, day: date, location: Location, sub_location: str | None) -> None:
        await self.set_date(day)
        await (await self.visible("tag_filter", "booking")).fill(location.name)
        box = await self._tag_box(location)
        if not await box.is_checked():
            await box.check()
        await self.page.keyboard.press("Escape")
        if sub_location and await self.page.locator(
                self.selector("sub_location_select")).count():
            await self.choose_sub_location(sub_location)

    async def _tag_box(self, location: Location) -> Any:
        """The location's checkbox; a hall's shows only once the "All spaces" group (profile
        selector `spaces_expander`) is expanded."""
        box = self.page.locator(self.selector("tag_checkbox", tag_id=location.tag_id)).first
        expander_selector = self.profile.selectors.get("spaces_expander")
        if expander_selector:
            expander = self.page.locator(expander_selector).first
            try:
                await box.or_(expander).first.wait_for(state="visible", timeout=self.timeout_ms)
            except Exception:
                raise await self.changed("booking", "tag_checkbox",
                                         self.selector("tag_checkbox", tag_id=location.tag_id)
                                         ) from None
            if not await box.is_visible():
                await expander.click()
        return await self.visible("tag_checkbox", "booking", tag_id=location.tag_id)

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
        options = self.page.locator(self.selector("sub_location_option")).filter(has_text=name)
        for i in range(await options.count()):
            if (await options.nth(i).inner_text()).strip().casefold() == name.casefold():
                await options.nth(i).click()
                return
        raise await self.changed("booking", f"sub-location option {name!r}",
                                 self.selector("sub_location_option"))

    def slot_item(self, hour: int, sub_location: str | None = None) -> Any:
        """The slot whose start time reads HH:00 (and which names `sub_location`): the
        innermost element of profile selector `slot_item` holding its time and book button."""
        start = self.page.locator(self.selector("slot_start_time"), has_text=f"{hour:02d}:00")
        button = self.page.locator(self.selector("book_button"))
        item = self.profile.selectors.get("slot_item") or (
            f"{self.selector('slot_list')}, {self.selector('slot_list')} *")
        items = self.page.locator(item).filter(has=start).filter(has=button)
        if sub_location:
            items = items.filter(has_text=sub_location)
        return items.last

    async def find_item(self, hour: int, wait_s: float, max_reloads: int,
                        budget: RequestBudget | None = None,
                        sub_location: str | None = None) -> Any:
        """The slot's item once it can be booked, reloading the list (bounded, each reload
        charged to `budget`) while it is absent or listed but not open yet.

        Even with `wait_s` 0 the list gets a moment to render after the last filter change.
        A full slot raises `SlotFull` at once.
        """
        item = self.slot_item(hour, sub_location)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(wait_s, 0.0)
        # At a strike (`wait_s` > 0) the list on a page prepared before the instant is stale:
        # look briefly, then reload, instead of waiting for a slot that cannot appear by itself.
        settle_ms = 1500.0 if wait_s <= 0 else 100.0
        reloads, seen = 0, False
        while True:
            try:
                await item.wait_for(state="visible", timeout=settle_ms)
                seen = True
                if await item.locator(self.selector("slot_full")).count():
                    raise SlotFull(f"the {hour:02d}:00 slot is full")
                if await item.locator(self.selector("book_button")).first.is_enabled():
                    return item
            except SlotFull:
                raise
            except Exception:
                pass
            if (loop.time() >= deadline or reloads >= max_reloads or self.day is None
                    or (budget is not None and budget.left < 1)):
                state = "is listed but not open" if seen else "is not shown"
                raise SlotNotOpen(f"the {hour:02d}:00 slot {state} on the booking page"
                                  + (f" after {reloads} reloads" if reloads else ""))
            reloads += 1
            if budget is not None:
                budget.charge("page reload")
            settle_ms = min(max((deadline - loop.time()) * 1000, 50.0), 500.0)
            await self.set_date(self.day)

    async def book(self, hour: int, *, wait_s: float = 0.0, max_reloads: int | None = None,
                   budget: RequestBudget | None = None, sub_location: str | None = None
                   ) -> int | None:
        """Book the slot starting at `hour`: book button, then the details' book button.

        `wait_s` bounds how long to wait for the slot to open (it may unlock any moment).
        Returns the site's booking id when the page shows it (profile selector
        `booking_reference`), else None.
        """
        reloads = max_reloads if max_reloads is not None else (
            budget.left if budget is not None else self.profile.max_requests_per_unlock_per_account)
        item = await self.find_item(hour, wait_s, reloads, budget, sub_location)
        button = item.locator(self.selector("book_button")).first
        try:
            await button.click(timeout=self.timeout_ms)
        except Exception:
            raise await self.changed("booking", "book button", self.selector("book_button")
                                     ) from None
        if budget is not None and budget.left > 0:
            budget.charge("booking")
        await (await self.visible("details_book_button", "booking details")).click()
        await self._confirmation(hour)
        return await self._reference()

    async def _reference(self) -> int | None:
        selector = self.profile.selectors.get("booking_reference")
        if not selector:
            return None
        found = self.page.locator(selector)
        if not await found.count():  # the real page shows none: do not wait for it
            return None
        text = await found.first.text_content(timeout=REFERENCE_WAIT_MS)
        return int(text.strip()) if text and text.strip().isdigit() else None

    async def _confirmation(self, hour: int) -> None:
        """Wait for a success mark (the icon, which may be empty, or the heading), the
        waitlist's heading, or the page's refusal."""
        marks = {"booking_success": "attached", "booking_success_heading": "visible",
                 "booking_waitlist": "visible", "booking_error": "visible"}
        waits = {name: asyncio.ensure_future(self.page.locator(self.profile.selectors[name])
                                             .first.wait_for(state=state,
                                                             timeout=self.timeout_ms))
                 for name, state in marks.items() if self.profile.selectors.get(name)}
        done, pending = await asyncio.wait(waits.values(), return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        seen = {name for name, task in waits.items() if task in done and not task.exception()}
        if seen & {"booking_success", "booking_success_heading"}:
            return
        if "booking_waitlist" in seen:
            raise Waitlisted(f"the {hour:02d}:00 slot is full: the site put {self.account} on "
                             "its waitlist", None)
        if "booking_error" in seen:
            text = (await self.page.locator(self.selector("booking_error")).first
                    .inner_text()).strip()
            raise refusal_from_text(text, hour, self.terms)
        raise await self.changed("booking confirmation", "booking_success",
                                 self.selector("booking_success"))

    @property
    def terms(self) -> Any:
        from snipe.adapters.sites.terms import terms_for

        return terms_for(self.profile)


def refusal_from_text(text: str, hour: int, terms: Any = None) -> Exception:
    """The page's refusal line as our error type (the page shows the API's message), read with
    the profile's refusal wordings."""
    from snipe.adapters.sites.terms import SiteTerms

    line = text.splitlines()[0][:200] if text else "no reason given"
    category = (terms or SiteTerms()).category("", text)
    if category is None or category in ("auth", "bad_login"):
        return BookingRefused(f"the site refused the {hour:02d}:00 booking: {line}")
    return typed_refusal(category, f"the {hour:02d}:00 booking", line)
