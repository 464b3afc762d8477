"""The browser the tests drive: the one snipe itself would find (configured, Playwright's, the
system's), launched as snipe launches it. No browser is a failure that says how to install one,
never a skipped test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from snipe.adapters.sites.browser import LAUNCH_ARGS, find_browser


@asynccontextmanager
async def chromium() -> AsyncIterator[Any]:
    """A headless Chromium under Playwright, closed afterwards."""
    from playwright.async_api import async_playwright

    executable, _ = find_browser()
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(executable),
                                           args=list(LAUNCH_ARGS), headless=True)
        try:
            yield browser
        finally:
            await browser.close()


@asynccontextmanager
async def browser_page(timeout_ms: int = 10_000) -> AsyncIterator[Any]:
    async with chromium() as browser:
        page = await browser.new_page()
        page.set_default_timeout(timeout_ms)
        yield page
