"""Common ground of the page objects: profile selectors, bounded waits, artifacts.

Every selector comes from the site profile (`SiteProfile.selectors`). A selector that does not
show up in time means the site changed: we save what the page looked like and say where.
"""

from __future__ import annotations

import logging
from typing import Any

from snipe.adapters.sites import artifacts
from snipe.adapters.sites.errors import SiteChanged, SiteUnavailable
from snipe.domain.site import SiteProfile

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

        try:
            await self.page.goto(url, timeout=self.timeout_ms, wait_until="domcontentloaded")
        except PlaywrightError as exc:
            if "interrupted by another navigation" in str(exc):
                # The page's own script moved on (e.g. to the login page): the callers'
                # waits for what they expect to see decide what that means.
                return
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise SiteUnavailable(f"page {url} did not load: {first}") from None
