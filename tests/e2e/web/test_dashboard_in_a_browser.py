"""The dashboard in headless Chromium against `snipe web` (its own process): log in with the
token, switch account, see a strike count down, watch the grid turn a slot "ours" through the
live stream when another process wins it, book a free slot by clicking it, reschedule and cancel
from the history, create a target through the form (and see its validation errors), and see the
server refuse a request without the token or from another site."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx
import pytest
from playwright.async_api import expect

from base_time import MONDAY, THURSDAY, TUESDAY
from snipe.bootstrap import close
from snipe.services.booking.manual import book_slot

from .conftest import Dashboard, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def cell(page: Any, sub: str, day: Any, hour: int) -> Any:
    return page.locator(f'td.cell[data-sub="{sub}"][data-day="{day.isoformat()}"]'
                        f'[data-hour="{hour}"]')


async def book_elsewhere(dashboard: Dashboard, *slot: Any) -> Any:
    """Book through the services of another process (the daemon's, say): only the store links
    it to the dashboard."""
    daemon = dashboard.services()
    try:
        return await book_slot(daemon, *slot)
    finally:
        await daemon.drivers.close()
        close(daemon)


async def choose(page: Any, account: str) -> None:
    async with page.expect_navigation():
        await page.select_option("#account-switcher", account)


async def test_the_login_page_then_the_monitor_with_a_strike_counting_down(
        browser, dashboard: Dashboard) -> None:
    context = await browser.new_context(viewport={"width": 412, "height": 915})
    page = await context.new_page()
    first = await page.goto(dashboard.url + "/")
    assert first.status == 401
    await expect(page.locator("#login-form")).to_be_visible()
    await screenshot(page, "login")
    await page.fill("#token", "not-the-token")
    await page.click("#login-form button[type=submit]")
    await expect(page.locator("#flash")).to_contain_text("wrong token")
    await page.fill("#token", dashboard.token)
    await page.click("#login-form button[type=submit]")
    await expect(page.locator("#account-switcher")).to_be_visible()

    await choose(page, "user2")
    await expect(page.locator("#account-switcher")).to_have_value("user2")
    assert await page.evaluate("document.body.dataset.account") == "user2"
    countdown = page.locator("#strikes .countdown").first
    await expect(countdown).to_have_text(re.compile(r"in (\d+h )?\d+m \d\ds"))
    before = await countdown.get_attribute("data-left")
    await expect(countdown).not_to_have_attribute("data-left", before, timeout=5_000)
    assert int(await countdown.get_attribute("data-left")) < int(before)
    await expect(page.locator("#live-dot")).to_have_class(re.compile("on"))
    await screenshot(page, "monitor")
    await context.close()


async def test_the_grid_turns_ours_live_when_another_process_wins_a_slot(
        page, dashboard: Dashboard) -> None:
    await page.goto(f"{dashboard.url}/slots?location=X1&date={MONDAY.isoformat()}&days=1")
    await expect(page.locator("#live-dot")).to_have_class(re.compile("on"))
    target = cell(page, "X1 B", MONDAY, 18)
    await expect(target).not_to_have_class(re.compile("ours"))

    await book_elsewhere(dashboard, "user3", "X1", "X1 B", MONDAY, 18)
    await expect(target).to_have_class(re.compile(r"\bours\b"))
    await expect(target).to_contain_text("user3")


async def test_booking_a_free_slot_by_clicking_it(page, dashboard: Dashboard) -> None:
    await choose(page, "user1")
    await page.goto(f"{dashboard.url}/slots?location=X1&date={TUESDAY.isoformat()}&days=1")
    await page.click("button[data-action=refresh-slots]")
    free = cell(page, "X1 A", TUESDAY, 16)
    await expect(free).to_have_class(re.compile(r"\bfree\b"))
    await screenshot(page, "slots")
    await free.locator("button.book").click()
    await expect(page.locator("#flash")).to_contain_text("done")
    await expect(free).to_have_class(re.compile(r"\bours\b"))
    ours = [b for b in dashboard.sandbox.bookings() if b["by"] == "account"]
    assert any(b["account"] == "user1" for b in ours), ours


async def test_rescheduling_then_cancelling_from_the_history(page, dashboard: Dashboard
                                                            ) -> None:
    made = await book_elsewhere(dashboard, "user2", "Fitness", None, MONDAY, 9)
    await choose(page, "user2")
    await page.goto(dashboard.url + "/bookings?location=Fitness")
    row = page.locator(f'tr[data-booking="{made.booking_id}"]')
    await expect(row).to_contain_text("Fitness")
    await screenshot(page, "bookings")
    await row.locator("summary").click()
    # A location once a day per account: the new slot is on another day.
    await row.locator("input[name=date]").fill(TUESDAY.isoformat())
    await row.locator("input[name=hour]").fill("10")
    await row.locator("form[data-action=move-booking] button").click()
    await expect(page.locator("#flash")).to_contain_text("done")
    await expect(row).to_have_count(0)
    moved = page.locator("#bookings tbody tr")
    await expect(moved).to_have_count(1)
    await expect(moved).to_contain_text("10:00")

    await moved.locator("a", has_text="details").click()
    await expect(page.locator("#booking-attempts")).to_contain_text("success")
    await screenshot(page, "booking")
    page.once("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    await page.click("button[data-action=cancel-booking]")
    await expect(page.locator("#flash")).to_contain_text("done")
    await page.goto(dashboard.url + "/bookings?location=Fitness")
    await expect(page.locator("#bookings")).to_have_count(0)


async def test_creating_a_target_through_the_form(page, dashboard: Dashboard) -> None:
    await page.goto(dashboard.url + "/targets")
    await page.fill("input[name=name]", "form block")
    await page.fill("input[name=target_date]", TUESDAY.isoformat())
    await page.fill("input[name=consecutive_hours]", "5")
    await page.fill("input[name=window_start]", "11:00")
    await page.fill("input[name=window_end]", "13:00")
    await page.click("button[data-action=plan-target]")
    problems = page.locator("#problems li")
    await expect(problems).to_have_count(1)
    await expect(problems).to_have_text(
        "$.snipe_config: time window 11:00-13:00 holds 2 whole hour(s), fewer than "
        "consecutive_hours 5")

    await page.fill("input[name=consecutive_hours]", "2")
    await page.fill("input[name=window_end]", "15:00")
    await page.check("input[name=when][value=range]")
    await page.fill("input[name=range_start]", THURSDAY.isoformat())
    await page.fill("input[name=range_end]", THURSDAY.isoformat())
    await page.fill("input[name=preferred_times]", "13:00-15:00")
    await page.click("button[data-action=plan-target]")
    await expect(problems).to_have_count(0)
    best = page.locator("table.candidates tbody tr").first  # the W_C ranking, best first
    await expect(best).to_contain_text(THURSDAY.isoformat())
    await expect(page.locator("#plan")).to_contain_text("not saved yet")
    await page.click("#target-form button[type=submit]")
    await expect(page.locator("#flash")).to_contain_text("Saved")
    await expect(page.locator("#targets")).to_contain_text("form block")
    await expect(page.locator("#plan-strikes tbody tr").first).to_contain_text("X1")
    await screenshot(page, "targets")
    async with httpx.AsyncClient(base_url=dashboard.url,
                                 headers={"Authorization": f"Bearer {dashboard.token}"}) as api:
        names = [t["name"] for t in (await api.get("/api/targets")).json()["targets"]]
    assert "form block" in names


async def test_the_accounts_page(page, dashboard: Dashboard) -> None:
    await page.goto(dashboard.url + "/accounts")
    await expect(page.locator("#accounts tbody tr")).to_have_count(3)
    assert "pass1" not in await page.content()
    await screenshot(page, "accounts")


async def test_no_token_is_401_and_a_cross_site_post_is_refused(page, dashboard: Dashboard
                                                               ) -> None:
    async with httpx.AsyncClient(base_url=dashboard.url) as stranger:
        assert (await stranger.get("/api/targets")).status_code == 401
        assert (await stranger.get("/slots")).status_code == 401

    # A page of another site, open in the same (logged-in) browser, posts a form to us.
    other = dashboard.url.replace("127.0.0.1", "localhost") + "/attack"
    form = (f'<form method="post" action="{dashboard.url}/api/targets" enctype="text/plain">'
            '<input name=\'{"snipe_config": {"x": "\' value=\'"}}\'></form>'
            "<script>document.forms[0].submit()</script>")
    await page.route(other, lambda route: route.fulfill(body=form, content_type="text/html"))
    async with page.expect_response(f"{dashboard.url}/api/targets") as answered:
        await page.goto(other)
    response = await answered.value
    assert response.status in (401, 403)
    async with httpx.AsyncClient(base_url=dashboard.url,
                                 headers={"Authorization": f"Bearer {dashboard.token}"}) as api:
        assert (await api.get("/api/targets")).status_code == 200


async def test_a_live_refresh_keeps_an_open_reschedule_form_and_what_was_typed(
        page, dashboard: Dashboard) -> None:
    first = await book_elsewhere(dashboard, "user3", "Fitness", None, MONDAY, 12)
    await choose(page, "user3")
    await page.goto(dashboard.url + "/bookings?location=Fitness")
    await expect(page.locator("#live-dot")).to_have_class(re.compile("on"))
    row = page.locator(f'tr[data-booking="{first.booking_id}"]')
    await row.locator("summary").click()
    await row.locator("input[name=hour]").fill("15")
    await row.locator("input[name=hour]").focus()

    # Another process wins a slot: the list refreshes live.
    second = await book_elsewhere(dashboard, "user3", "Fitness", None, TUESDAY, 12)
    await expect(page.locator(f'tr[data-booking="{second.booking_id}"]')).to_have_count(1)
    assert await row.locator("details.move").get_attribute("open") is not None
    await expect(row.locator("input[name=hour]")).to_have_value("15")
    await expect(row.locator("input[name=hour]")).to_be_focused()
