"""What the dashboard's tests share: a data dir with sandbox accounts and a target, and a client
that talks to the app as the page's script does (the CSRF token echoed in its header)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import httpx

from base_time import WEDNESDAY
from snipe.services.accounts import add_account
from snipe.services.context import Context
from snipe.services.targets.schedule import schedule_data
from snipe.web.auth import CSRF_COOKIE, CSRF_HEADER

ORIGIN = "http://127.0.0.1:8788"
PASSWORDS = {f"user{n}": f"pass{n}" for n in range(1, 5)}


def target_document(base_url: str, day: date = WEDNESDAY, name: str = "wednesday X1",
                    **changes: Any) -> dict[str, Any]:
    """A 2-hour X1 block on `day` between 11:00 and 14:00 (its first unlock, 72 h before
    11:00, lies an hour after NOW when `day` is WEDNESDAY)."""
    config = {"name": name, "target_date": day.isoformat(), "consecutive_hours": 2,
              "time_window": {"start": "11:00", "end": "14:00"},
              "priorities": [{"rank": 1, "location": "X1", "sub_locations": ["X1 A", "X1 B"],
                              "max_accounts": 2}],
              **changes}
    return {"site": {"profile": "sandbox", "base_url": base_url}, "snipe_config": config}


async def add_accounts(ctx: Context, base_url: str, count: int = 3) -> list[str]:
    netids = [f"user{n}" for n in range(1, count + 1)]
    for netid in netids:
        await add_account(ctx, netid, PASSWORDS[netid], "sandbox", base_url, "api", check=False)
    return netids


async def seed(ctx: Context, base_url: str, accounts: int = 3) -> None:
    """Accounts (they log in by `POST /auth`, no browser) and one scheduled target."""
    await add_accounts(ctx, base_url, accounts)
    schedule_data(ctx, target_document(base_url), ctx.clock.now())


def write_document(folder: Path, document: dict[str, Any]) -> Path:
    path = folder / "bookings.json"
    path.write_text(json.dumps(document))
    path.chmod(0o600)
    return path


class Api:
    """An httpx client over the app (in memory, or a real server) that sends the CSRF token
    like the page's script does."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def start(self) -> Api:
        await self.client.get("/api/session")  # the guard hands out the CSRF cookie
        return self

    @property
    def csrf(self) -> str:
        return self.client.cookies.get(CSRF_COOKIE) or ""

    async def get(self, path: str, **params: Any) -> httpx.Response:
        return await self.client.get(path, params=params or None)

    async def send(self, method: str, path: str, body: Any = None, **params: Any
                   ) -> httpx.Response:
        return await self.client.request(method, path, json=body, params=params or None,
                                         headers={CSRF_HEADER: self.csrf, "Origin": self.origin})

    @property
    def origin(self) -> str:
        return str(self.client.base_url).rstrip("/")

    async def json(self, path: str, **params: Any) -> Any:
        response = await self.get(path, **params)
        assert response.status_code == 200, response.text
        return response.json()
