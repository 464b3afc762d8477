"""The ASGI app factory: `create_app(SandboxConfig(...))` -> a FastAPI app serving pages and API."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from snipe.sandbox import admin, api, pages
from snipe.sandbox.bots import BotCrew
from snipe.sandbox.clock import Clock
from snipe.sandbox.config import SandboxConfig
from snipe.sandbox.gate import Gate
from snipe.sandbox.refusals import Refusal, nestjs_body
from snipe.sandbox.replica import Replica
from snipe.sandbox.restyle import NestjsGateAnswers

HTTP_CODES = {404: "not_found", 405: "method_not_allowed"}
ADMIN_PREFIX = "/api/admin"


def create_app(config: SandboxConfig | None = None, clock: Clock | None = None) -> FastAPI:
    """A sandbox app; its state (SQLite, clock, bots) is built here and lives with the app."""
    config = config or SandboxConfig()
    replica = Replica.build(config, clock)
    crew = BotCrew(replica)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(crew.run()) if crew.active else None
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            replica.store.close()

    app = FastAPI(title="snipe sandbox", docs_url=None, redoc_url=None, openapi_url=None,
                  lifespan=lifespan)
    app.state.replica = replica
    app.state.crew = crew
    app.include_router(admin.router)
    app.include_router(api.router)
    app.include_router(pages.router)
    app.add_middleware(Gate, clock=replica.clock, faults=replica.faults, limiter=replica.limiter,
                       journal=replica.journal)
    nestjs = replica.variant.nestjs
    if nestjs:
        app.add_middleware(NestjsGateAnswers)

    @app.exception_handler(Refusal)
    async def refused(request: Request, exc: Refusal) -> JSONResponse:
        # The admin routes are the sandbox's own: they keep its coded answers in every variant.
        status, body = exc.render(nestjs and not request.url.path.startswith(ADMIN_PREFIX))
        return JSONResponse(body, status_code=status, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def malformed(_request: Request, exc: RequestValidationError) -> JSONResponse:
        first: Any = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        message = f"{where}: {first.get('msg', 'invalid request')}" if where else "invalid request"
        status, body = Refusal("malformed_request", message, problems=[message]).render(nestjs)
        return JSONResponse(body, status_code=status)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if nestjs and exc.status_code in HTTP_CODES:
            # Nest answers an unknown route, or a known one with another method, the same way.
            body = nestjs_body(404, f"Cannot {request.method} {request.url.path}", "Not Found")
            return JSONResponse(body, status_code=404)
        code = HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}")
        return JSONResponse({"code": code, "message": str(exc.detail)},
                            status_code=exc.status_code, headers=exc.headers)

    return app
