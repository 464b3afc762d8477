"""The real site's page structure (the `likely` variant), logged into and booked through in a
headless Chromium: landing on the date picker, "All spaces", per-slot containers, `h4`."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from snipe.sandbox.testing import SandboxHandle, running_sandbox

from .variant_site import BASE, DAY, local, utc_text

pytestmark = pytest.mark.browser

SLOT = "div[data-test-id='bookable-slot-list']"
START_TIME = "p[data-test-id='bookable-slot-start-time'] strong"
BOOK = "button[data-test-id='bookable-slot-book-button']"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxHandle]:
    with running_sandbox(accounts=2, variant="likely") as handle:
        yield handle


def _json_part(part: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


async def log_in(page, base: str) -> dict:
    # The landing page's script sends a stranger on to the login page, possibly before "load".
    await page.goto(base + "/", wait_until="commit")
    await page.wait_for_url("**/pages/login")
    await page.click("button[data-test-id='oidc-login-button']")
    await page.click("div[data-title='Delft University of Technology']")
    await page.fill("#username", "user1")
    await page.fill("#password", "pass1")
    await page.click("#submit_button")
    await page.wait_for_url(base + "/")
    return json.loads(await page.evaluate("localStorage.getItem('delcom_auth')"))


async def show(page, day, location: str, tag: int) -> None:
    date_input = page.locator("input[type='date'].form-control")
    await date_input.fill(day.isoformat())
    await date_input.dispatch_event("change")
    await page.fill("#tag-filterinput", location)
    checkbox = page.locator(f"#tagCheckbox{tag}")
    if not await checkbox.count():
        await page.locator("li[tabindex='0'] span", has_text="All spaces").click()
    if not await checkbox.is_checked():
        await checkbox.check()
    await page.keyboard.press("Escape")


def container(page, hour: int, hall: str):
    return page.locator(SLOT).filter(
        has=page.locator(START_TIME, has_text=f"{hour:02d}:00")).filter(has_text=hall)


async def test_logging_in_and_booking_through_the_real_page_structure(sandbox, page):
    from playwright.async_api import expect

    sandbox.set_clock(now=BASE)
    sandbox.bulk_create("X1", DAY, [16], sub_location="X1 A")
    [taken] = sandbox.bulk_create("X1", DAY, [17], sub_location="X1 A")
    sandbox.book_as("rival-bot", taken)
    base = sandbox.base_url

    auth = await log_in(page, base)
    await expect(page.locator("input[type='date'].form-control")).to_be_visible()
    assert auth["isOidc"] is True and auth["isLoggedIn"] is True
    assert auth["member"]["id"] == sandbox.login("user1", "pass1")[1]
    token = auth["tokenResponse"]
    assert (token["tokenType"], token["expiresIn"]) == ("Bearer", 86400)
    header, payload, _signature = token["accessToken"].split(".")
    assert _json_part(header) == {"alg": "RS256", "typ": "JWT"}
    assert _json_part(payload)["sub"] == str(auth["member"]["id"])
    assert type(token["issuedAt"]) is int and abs(token["issuedAt"] - BASE.timestamp()) < 120
    assert token["idToken"].count(".") == 2

    await page.fill("#tag-filterinput", "X1")
    await expect(page.locator("li[tabindex='0'] span", has_text="All spaces")).to_be_visible()
    await expect(page.locator("#tagCheckbox147")).to_have_count(0)  # until "All spaces" opens
    await show(page, DAY, "X1", 147)

    full = container(page, 17, "X1 A")
    await expect(full).to_have_count(1)
    await expect(full.locator("div[data-test-id='bookable-slot-spots-full']")).to_be_visible()
    await expect(full).to_have_class("slot-container opacity-50")
    wanted = container(page, 16, "X1 A")
    await expect(wanted).to_have_count(1)
    await expect(page.locator("[data-booking-id]")).to_have_count(0)
    await wanted.locator(BOOK).click()
    await page.click("button[data-test-id='details-book-button']")
    await expect(page.locator("i[data-test-id='booking-success']")).to_be_visible()
    assert await page.locator("i[data-test-id='booking-success']").inner_text() == ""
    await expect(page.locator("h4", has_text="Booking was made")).to_be_visible()
    await expect(page.locator("[data-test-id='booking-participation-id']")).to_have_count(0)
    [mine] = [b for b in sandbox.bookings() if b["account"] == "user1"]
    assert (mine["sub_location"], mine["start"]) == ("X1 A", utc_text(local(DAY, 16)))

    # A slot listed before its unlock shows, greyed out, and cannot be booked yet.
    later = DAY + timedelta(days=1)
    await show(page, later, "X1", 147)
    early = container(page, 16, "X1 B")
    await expect(early).to_have_count(1)
    await expect(early).to_have_class("slot-container opacity-50")
    await expect(early.locator(BOOK)).to_be_disabled()
    await expect(early.locator("div[data-test-id='bookable-slot-spots-full']")).to_have_count(0)


def test_the_old_callback_path_still_serves_the_callback(sandbox):
    for path in ("/oidc/auth-callback", "/pages/oidc-callback"):
        answer = httpx.get(sandbox.base_url + path, params={"code": "x"})
        assert answer.status_code == 200 and "/auth/oidc" in answer.text
