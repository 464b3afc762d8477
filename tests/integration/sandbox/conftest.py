"""A sandbox server per test module, reset before each test.

These modules test the replica's mechanics (rules, clock, faults, admin) with bare requests, so
they pin the `classic` variant, whose answers take no search keys or joins; what each variant
changes is tested in `test_variant_*`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from browsers import browser_page
from snipe.sandbox.testing import SandboxHandle, running_sandbox

from .support import BASE, User


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxHandle]:
    with running_sandbox(accounts=60, seed=7, variant="classic") as handle:
        yield handle


@pytest.fixture
async def page() -> AsyncIterator[Any]:
    """A page of a headless Chromium (the one snipe would find)."""
    async with browser_page() as opened:
        yield opened


@pytest.fixture(autouse=True)
def fresh(request: pytest.FixtureRequest) -> None:
    """Each test starts with no bookings and the clock at BASE running at real speed."""
    if "sandbox" in request.fixturenames:
        handle: SandboxHandle = request.getfixturevalue("sandbox")
        handle.reset()
        handle.set_clock(now=BASE, rate=1.0)


@pytest.fixture
def user(sandbox: SandboxHandle) -> Iterator[Callable[[int], User]]:
    made: list[User] = []

    def login(n: int) -> User:
        made.append(User(sandbox, n))
        return made[-1]

    yield login
    for u in made:
        u.http.close()


@pytest.fixture(autouse=True)
def fresh_sites(request: pytest.FixtureRequest) -> None:
    """Each test starts every variant sandbox it uses (fixtures named `site_*`) afresh."""
    for name in request.fixturenames:
        if name.startswith("site_"):
            request.getfixturevalue(name).fresh()
