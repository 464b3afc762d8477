"""The browser only runs while a login or a page booking needs it; logins a few at a time."""

from __future__ import annotations

import asyncio

import pytest

from snipe.adapters.secrets import Secret
from snipe.adapters.sites.base import Credentials, SiteSession
from snipe.adapters.sites.browser import BrowserPool
from snipe.adapters.sites.terms import SiteTerms
from snipe.adapters.sites.x import XDriver
from snipe.profiles import load_profile


class FakeClosable:
    def __init__(self) -> None:
        self.closed = False

    async def close(self) -> None:
        self.closed = True

    def is_connected(self) -> bool:
        return not self.closed


def pool_with(idle_close_s: float | None, accounts: tuple[str, ...] = ("a",)
              ) -> tuple[BrowserPool, FakeClosable]:
    pool = BrowserPool(idle_close_s=idle_close_s)
    browser = FakeClosable()
    pool._browser = browser
    pool._contexts = {name: FakeClosable() for name in accounts}
    return pool, browser


async def test_the_browser_closes_when_its_last_context_does() -> None:
    pool, browser = pool_with(0, ("a", "b"))
    await pool.close_context("a")
    assert pool.running and not browser.closed  # "b" still needs it
    await pool.close_context("b")
    assert not pool.running and browser.closed


async def test_an_idle_browser_closes_after_its_grace_unless_needed_again() -> None:
    pool, browser = pool_with(30)
    await pool.close_context("a")
    assert pool.running and pool._idle_timer is not None
    pool._contexts["b"] = FakeClosable()  # a page booking opened meanwhile
    pool._idle_due()
    await asyncio.sleep(0)
    assert pool.running
    del pool._contexts["b"]
    pool._idle_due()
    await pool._idle_task
    assert not pool.running and browser.closed
    pool._cancel_idle()


async def test_a_pool_without_idle_close_keeps_its_browser() -> None:
    pool, browser = pool_with(None)
    await pool.close_context("a")
    assert pool.running and not browser.closed


def oidc(n: int) -> Credentials:
    return Credentials(f"user{n}", Secret("x"), "oidc")


@pytest.mark.parametrize("limit", [2, 1])
async def test_browser_logins_run_a_few_at_a_time(limit: int) -> None:
    profile = load_profile("sandbox", "http://site.test")
    driver = XDriver(profile, terms=SiteTerms(max_parallel_logins=limit))
    running, most = 0, 0
    release = asyncio.Event()

    async def login(creds: Credentials) -> SiteSession:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await release.wait()
        running -= 1
        return SiteSession("sandbox", creds.account, Secret("t"), 1, driver.server_now(),
                           None, "oidc", driver.local_now() + 86400)

    driver.pages.login = login  # type: ignore[method-assign]
    logins = asyncio.gather(*(driver.session(oidc(n)) for n in range(5)))
    for _ in range(10):
        await asyncio.sleep(0)
    assert (running, driver.max_parallel_logins) == (limit, limit)
    release.set()
    await logins
    assert most == limit and driver.logins == 5
    await driver.close()
