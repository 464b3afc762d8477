"""Finding and running Chromium: one browser process, one context per account.

Where the browser comes from, in order: a configured path (`SNIPE_BROWSER` or an argument),
Playwright's own bundled Chromium when it was downloaded, a system Chromium/Chrome on PATH.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from snipe.errors import PermanentError

log = logging.getLogger(__name__)

ENV_BROWSER = "SNIPE_BROWSER"
SYSTEM_BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
SYSTEM_PATHS = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
LAUNCH_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)
INSTALL_HINT = ("install one with `playwright install chromium` (or `apt-get install chromium`), "
                f"or point {ENV_BROWSER} at a Chromium binary")


class BrowserMissing(PermanentError):
    """No usable Chromium on this machine."""


def _executable(path: str | os.PathLike[str] | None) -> Path | None:
    if not path:
        return None
    candidate = Path(path).expanduser()
    return candidate if candidate.is_file() and os.access(candidate, os.X_OK) else None


def find_browser(
    configured: str | None = None,
    bundled: str | None = None,
    *,
    which: Callable[[str], str | None] = shutil.which,
    env: dict[str, str] | None = None,
) -> tuple[Path, str]:
    """The Chromium to launch and where it was found ("configured", "bundled", "system")."""
    environ = os.environ if env is None else env
    wanted = configured or environ.get(ENV_BROWSER)
    if wanted:
        found = _executable(wanted) or _executable(which(wanted))
        if found is None:
            raise BrowserMissing(f"the configured browser {wanted!r} is not an executable file; "
                                 + INSTALL_HINT)
        return found, "configured"
    found = _executable(bundled)
    if found is not None:
        return found, "bundled"
    for name in SYSTEM_BROWSERS:
        found = _executable(which(name))
        if found is not None:
            return found, "system"
    for path in SYSTEM_PATHS:
        found = _executable(path)
        if found is not None:
            return found, "system"
    raise BrowserMissing("no Chromium found; " + INSTALL_HINT)


def bundled_chromium(playwright: Any) -> str | None:
    try:
        return playwright.chromium.executable_path
    except Exception:  # an unusual Playwright install: fall through to the system browser
        return None


class BrowserPool:
    """One headless Chromium for every account; each account gets its own context.

    Contexts are opened for a login or a strike window and closed after it (`close_context`).
    With `idle_close_s` set, the browser process (and Playwright's driver) close once no context
    is left for that long, and start again when one is needed: a daemon idles without a
    Chromium. Without it, the process stays until `close()`.
    """

    def __init__(self, configured: str | None = None, *, headless: bool = True,
                 timeout_s: float = 10.0, idle_close_s: float | None = None) -> None:
        self._configured = configured
        self._headless = headless
        self.timeout_s = timeout_s
        self.idle_close_s = idle_close_s
        self._playwright: Any = None
        self._browser: Any = None
        self._contexts: dict[str, Any] = {}
        self._lock = asyncio.Lock()
        self._idle_timer: asyncio.TimerHandle | None = None
        self._idle_task: asyncio.Task[None] | None = None
        self.executable: Path | None = None
        self.source: str | None = None
        self.launches = 0

    @property
    def running(self) -> bool:
        """Whether a browser process is up right now."""
        return self._browser is not None

    async def browser(self) -> Any:
        self._cancel_idle()
        async with self._lock:
            if self._browser is None or not self._browser.is_connected():
                await self._launch()
            return self._browser

    async def _launch(self) -> None:
        from playwright.async_api import Error as PlaywrightError
        from playwright.async_api import async_playwright

        if self._playwright is None:
            self._playwright = await async_playwright().start()
        path, source = find_browser(self._configured, bundled_chromium(self._playwright))
        try:
            self._browser = await self._playwright.chromium.launch(
                executable_path=str(path), headless=self._headless, args=list(LAUNCH_ARGS),
                timeout=30_000)
        except PlaywrightError as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise BrowserMissing(f"Chromium at {path} did not start ({first}); "
                                 + INSTALL_HINT) from None
        self.executable, self.source = path, source
        self.launches += 1
        log.info("browser started: %s (%s)", path, source)

    async def context(self, account: str, storage_state: dict[str, Any] | None = None) -> Any:
        """The account's context, opened with its saved storage state when there is one."""
        existing = self._contexts.get(account)
        if existing is not None:
            return existing
        browser = await self.browser()
        context = await browser.new_context(storage_state=storage_state)
        context.set_default_timeout(self.timeout_s * 1000)
        context.set_default_navigation_timeout(self.timeout_s * 1000)
        self._contexts[account] = context
        return context

    async def close_context(self, account: str) -> None:
        context = self._contexts.pop(account, None)
        if context is not None:
            await _quietly(context.close())
        if not self._contexts:
            await self._idle()

    async def close_contexts(self) -> None:
        for account in list(self._contexts):
            await self.close_context(account)

    async def _idle(self) -> None:
        """No context is left: close the browser now, or after `idle_close_s` unless one is
        opened meanwhile."""
        if self.idle_close_s is None or self._browser is None:
            return
        self._cancel_idle()
        if self.idle_close_s <= 0:
            await self._shut()
            return
        loop = asyncio.get_running_loop()
        self._idle_timer = loop.call_later(self.idle_close_s, self._idle_due)

    def _idle_due(self) -> None:
        self._idle_timer = None
        if not self._contexts:
            self._idle_task = asyncio.ensure_future(self._shut())

    def _cancel_idle(self) -> None:
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None

    async def _shut(self) -> None:
        async with self._lock:
            if self._contexts:  # a context was opened meanwhile: still needed
                return
            if self._browser is not None:
                await _quietly(self._browser.close())
                self._browser = None
                log.info("browser closed (idle)")
            if self._playwright is not None:
                await _quietly(self._playwright.stop())
                self._playwright = None

    async def close(self) -> None:
        self._cancel_idle()
        for account in list(self._contexts):
            context = self._contexts.pop(account)
            await _quietly(context.close())
        if self._idle_task is not None:
            await _quietly(self._idle_task)
            self._idle_task = None
        if self._browser is not None:
            await _quietly(self._browser.close())
            self._browser = None
        if self._playwright is not None:
            await _quietly(self._playwright.stop())
            self._playwright = None


async def _quietly(awaitable: Any) -> None:
    try:
        await awaitable
    except Exception as exc:  # closing something already gone is not an error worth showing
        log.debug("close failed: %s", exc)
