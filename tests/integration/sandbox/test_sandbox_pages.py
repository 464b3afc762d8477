"""A headless Chromium logs in through the pages (SSO flow) and books through the UI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest

from snipe.profiles import load_profile
from snipe.sandbox.testing import SandboxHandle, running_sandbox

from .support import BASE

pytestmark = pytest.mark.browser

SEL = load_profile("sandbox").selectors
DAY = (BASE + timedelta(days=2)).date()


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxHandle]:
    with running_sandbox(accounts=3, variant="classic") as handle:  # the real page: *_likely
        yield handle


async def log_in(page, base_url: str, netid: str, password: str) -> None:
    await page.click(SEL["oidc_button"])
    await page.click(SEL["idp_university"])
    await page.fill(SEL["username"], netid)
    await page.fill(SEL["password"], password)
    await page.click(SEL["submit"])


async def test_logging_in_through_the_pages_and_booking_through_the_ui(sandbox, page):
    from playwright.async_api import expect

    [wanted] = sandbox.bulk_create("X1", DAY, [16], sub_location="X1 A")
    [taken] = sandbox.bulk_create("X1", DAY, [17], sub_location="X1 A")
    sandbox.book_as("rival-bot", taken)
    base = sandbox.base_url

    # The landing page's script sends the browser on as soon as the site refuses the session,
    # possibly before the page's "load" event: wait only for the navigation to commit.
    await page.goto(base + "/", wait_until="commit")
    await page.wait_for_url("**/pages/login")
    await expect(page.locator(SEL["login_header"])).to_be_visible()

    await log_in(page, base, "user1", "wrong-password")
    await expect(page.locator("[data-test-id='login-error']")).to_contain_text("Incorrect")
    await expect(page.locator(SEL["username"])).to_be_visible()

    await page.fill(SEL["username"], "user1")
    await page.fill(SEL["password"], "pass1")
    await page.click(SEL["submit"])
    await page.wait_for_url(base + "/")
    await expect(page.locator("#member-name")).to_contain_text("User 1")
    auth = json.loads(await page.evaluate("localStorage.getItem('delcom_auth')"))
    assert auth["isOidc"] is True and auth["isLoggedIn"] is True
    assert auth["member"]["id"] == sandbox.login("user1", "pass1")[1]
    token = auth["tokenResponse"]
    assert (token["tokenType"], token["expiresIn"]) == ("Bearer", 86400) and token["accessToken"]

    await page.goto(base + "/pages/booking")
    date_input = page.locator(SEL["date_input"])
    await date_input.fill(DAY.isoformat())
    await date_input.dispatch_event("change")
    await page.fill(SEL["tag_filter"], "X1")
    await page.check(SEL["tag_checkbox"].format(tag_id=147))
    await page.keyboard.press("Escape")
    await page.click(SEL["sub_location_select"])
    await page.locator(SEL["sub_location_option"], has_text="X1 A").click()

    slot_list = page.locator(SEL["slot_list"])
    start_time = SEL["slot_start_time"]
    full_item = slot_list.locator(".bookable-slot").filter(
        has=page.locator(start_time, has_text="17:00"))
    await expect(full_item.locator(SEL["slot_full"])).to_be_visible()
    item = slot_list.locator(".bookable-slot").filter(has=page.locator(start_time, has_text="16:00"))
    await expect(item).to_have_count(1)
    await expect(item).to_have_attribute("data-booking-id", str(wanted))
    await item.locator(SEL["book_button"]).click()
    await page.click(SEL["details_book_button"])
    await expect(page.locator(SEL["booking_success"])).to_be_visible()
    await expect(page.get_by_text("Booking was made")).to_be_visible()

    mine = [b for b in sandbox.bookings() if b["account"] == "user1"]
    assert [(b["sub_location"], b["start"]) for b in mine] == [("X1 A", "2027-03-12T15:00:00.000Z")]

    # A second try at another hour of X1 the same day is refused, and the page says why.
    await page.click(SEL["sub_location_select"])
    await page.locator(SEL["sub_location_option"], has_text="X1 B").click()
    other = slot_list.locator(".bookable-slot").filter(
        has=page.locator(start_time, has_text="18:00"))
    await other.locator(SEL["book_button"]).click()
    await page.click(SEL["details_book_button"])
    await expect(page.locator("[data-test-id='booking-error']")).to_contain_text("X1")

    # 24 h of sandbox time later the session is gone: the app sends the user to log in again.
    sandbox.set_clock(now=BASE + timedelta(hours=25))
    # The landing page's script sends the browser on as soon as the site refuses the session,
    # possibly before the page's "load" event: wait only for the navigation to commit.
    await page.goto(base + "/", wait_until="commit")
    await page.wait_for_url("**/pages/login")
    assert await page.evaluate("localStorage.getItem('delcom_auth')") is None
