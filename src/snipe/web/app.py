"""The dashboard's FastAPI application: pages, the JSON API under `/api/` (OpenAPI page at
`/api/docs`), the SSE stream and the calendar feed, behind the guard (login, CSRF).

It is built over a services `Context`: beside the daemon it shares the daemon's (so its event
bus is the live stream); served alone it has its own, over the same data dir.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from snipe.errors import ConfigError, NotFoundError, PermanentError, SnipeError, TransientError
from snipe.services.context import Context
from snipe.services.events import EventBus

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class WebOptions:
    require_login: bool = False  # anything but loopback: always
    live: str = "bus"  # "bus": the context's own events (beside the daemon); "store": a feed
    feed_interval_s: float = 1.0  # how often the store feed looks


def status_of(exc: SnipeError) -> int:
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, ConfigError):
        return 422
    if isinstance(exc, TransientError):
        return 503
    if isinstance(exc, PermanentError):
        return 409
    return 400


async def _snipe_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, SnipeError)
    body: dict[str, Any] = {"detail": str(exc)}
    problems = getattr(exc, "problems", None)
    if problems:
        body["problems"] = [{"path": path, "message": message} for path, message in problems]
    return JSONResponse(body, status_code=status_of(exc))


async def _invalid_request(_request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's own answer would echo the input (a password, say): only where and what."""
    assert isinstance(exc, RequestValidationError)
    problems = [{"path": ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "$",
                 "message": err.get("msg", "invalid")} for err in exc.errors()]
    first = problems[0] if problems else {"path": "$", "message": "invalid request"}
    return JSONResponse({"detail": f"{first['path']}: {first['message']}", "problems": problems},
                        status_code=422)


def create_app(ctx: Context, options: WebOptions | None = None) -> FastAPI:
    from snipe.web import api, pages
    from snipe.web.auth import session_secret
    from snipe.web.guard import Gate, Guard
    from snipe.web.live import StoreFeed

    options = options or WebOptions()
    home = ctx.settings.home
    assert home is not None, "the web server needs a data dir"
    bus = ctx.events if options.live == "bus" else EventBus()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        stop = app.state.closing
        feed = None
        if options.live == "store":
            feed = asyncio.create_task(StoreFeed(ctx, bus, options.feed_interval_s).run(stop))
        try:
            yield
        finally:
            stop.set()
            if feed is not None:
                await feed

    app = FastAPI(title="snipe", summary="Book gym slots the instant they unlock.",
                  docs_url="/api/docs", redoc_url=None, openapi_url="/api/openapi.json",
                  lifespan=lifespan)
    app.state.ctx = ctx
    app.state.options = options
    app.state.bus = bus
    app.state.closing = asyncio.Event()
    app.add_exception_handler(SnipeError, _snipe_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for router in api.routers():
        app.include_router(router)
    app.include_router(pages.router)
    gate = Gate(home, session_secret(home), options.require_login, pages.login_response)
    app.state.gate = gate
    app.add_middleware(Guard, gate=gate)
    return app
