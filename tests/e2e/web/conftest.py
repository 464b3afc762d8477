"""`snipe web` in its own process over a sandbox-backed data dir, asking for the token as it
would on any address but loopback (`--login`), and a headless Chromium per test.

The data dir has three accounts (logging in by `POST /auth`, no SSO browser) and a target whose
first strike fires an hour after NOW; the server's clock is pinned at NOW (`SNIPE_NOW`), the
sandbox's runs from NOW at real speed.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from base_time import NOW
from browsers import chromium
from snipe.adapters.clock import FixedClock
from snipe.bootstrap import bootstrap, close
from snipe.sandbox.testing import SandboxHandle, running_sandbox
from snipe.settings import Settings
from snipe.web.auth import rotate_token
from web_support import seed

START_BOUND_S = 30.0  # an upper bound on the server's start, never a measured duration
SHOTS_ENV = "SNIPE_SCREENSHOTS"  # a folder: the tests save each page there as PNG


@dataclass
class Dashboard:
    url: str
    token: str
    home: Path
    sandbox: SandboxHandle

    def services(self) -> Any:
        """Another process's view of the data dir (the daemon's, say)."""
        return bootstrap(Settings(home=self.home), clock=FixedClock(NOW))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_up(url: str, process: subprocess.Popen[bytes]) -> bool:
    deadline = time.monotonic() + START_BOUND_S
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(url + "/api/session", timeout=1.0).status_code == 200:
                return True
        except httpx.HTTPError:
            time.sleep(0.1)
    return False


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    home = tmp_path_factory.mktemp("web") / "snipe-home"
    with running_sandbox(accounts=4, seed=5, rate_limit=0) as sandbox:
        sandbox.set_clock(now=NOW, rate=1.0)
        ctx = bootstrap(Settings(home=home), clock=FixedClock(NOW))
        asyncio.run(seed(ctx, sandbox.base_url))
        close(ctx)
        token = rotate_token(home)
        env = {k: v for k, v in os.environ.items() if not k.startswith("SNIPE_")}
        env.update(SNIPE_HOME=str(home), SNIPE_NOW=NOW.isoformat())
        for _ in range(3):  # a port taken between choosing and binding it: choose again
            url = f"http://127.0.0.1:{_free_port()}"
            process = subprocess.Popen(
                [sys.executable, "-m", "snipe", "web", url.removeprefix("http://"), "--login"],
                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            if _wait_until_up(url, process):
                break
            process.kill()
            process.wait()
        else:
            pytest.fail("snipe web did not start")
        try:
            yield Dashboard(url, token, home, sandbox)
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    async with chromium() as launched:
        yield launched


@pytest.fixture
async def page(browser: Any, dashboard: Dashboard) -> AsyncIterator[Any]:
    """A phone-sized page, logged in with the token."""
    context = await browser.new_context(viewport={"width": 412, "height": 915})
    page = await context.new_page()
    page.set_default_timeout(15_000)
    await log_in(page, dashboard)
    yield page
    await context.close()


async def log_in(page: Any, dashboard: Dashboard) -> None:
    await page.goto(dashboard.url + "/")
    await page.fill("#token", dashboard.token)
    await page.click("#login-form button[type=submit]")
    await page.wait_for_selector("#account-switcher")


async def screenshot(page: Any, name: str) -> None:
    folder = os.environ.get(SHOTS_ENV)
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        await page.evaluate("window.scrollTo(0, 0)")  # the sticky header stays on top
        await page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)
