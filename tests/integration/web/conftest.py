"""A sandbox per module (its clock at NOW, at real speed), a data dir with its accounts and a
target, and the dashboard's app over it, reached in memory through httpx."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from snipe.sandbox.testing import SandboxHandle
from snipe.web.app import WebOptions, create_app
from web_support import ORIGIN, Api, seed


@pytest.fixture
async def seeded(ctx: Any, site: SandboxHandle) -> AsyncIterator[Any]:
    await seed(ctx, site.base_url)
    yield ctx
    await ctx.drivers.close()


async def client_for(ctx: Any, **options: Any) -> Api:
    app = create_app(ctx, WebOptions(**options))
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=ORIGIN)
    return await Api(client).start()


@pytest.fixture
async def api(seeded: Any) -> AsyncIterator[Api]:
    client = await client_for(seeded)
    yield client
    await client.client.aclose()
