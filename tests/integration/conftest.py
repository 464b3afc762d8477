"""A sandbox per test module (six accounts, no rate limit), fresh and at NOW for each test that
asks for `site`; modules that need another sandbox define their own `sandbox`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from base_time import NOW
from snipe.sandbox.testing import SandboxHandle, running_sandbox


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxHandle]:
    with running_sandbox(accounts=6, seed=3, rate_limit=0) as handle:
        yield handle


@pytest.fixture
def site(sandbox: SandboxHandle) -> SandboxHandle:
    sandbox.reset()
    sandbox.set_clock(now=NOW, rate=1.0)
    return sandbox
