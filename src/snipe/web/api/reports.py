"""Logging in, and what the dashboard reports: status, stats, the monitor, the log, the live
event stream and the calendar feed."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict

from snipe.services.calendar import calendar
from snipe.services.overview import monitor
from snipe.services.queries import list_log, status
from snipe.services.stats import parse_since, stats
from snipe.web.api.common import now_of, services
from snipe.web.auth import SESSION_COOKIE, SESSION_DAYS, sign_session, token_matches
from snipe.web.live import stream

session_router = APIRouter(tags=["session"])
router = APIRouter(tags=["reports"])


class Login(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str


@session_router.get("/api/session")
def session(request: Request) -> dict[str, Any]:
    """Whether this server asks for a login, and whether this browser has one."""
    return {"login_required": request.app.state.options.require_login,
            "authenticated": bool(request.scope.get("state", {}).get("authenticated"))}


@session_router.post("/login")
def login(request: Request, body: Login) -> Response:
    """Trade the token of `snipe web token` for a signed session cookie."""
    gate = _gate(request)
    record = gate.record()
    if not token_matches(record, body.token):
        return JSONResponse({"detail": "wrong token (see `snipe web token`)"}, status_code=401)
    assert record is not None
    response = JSONResponse({"authenticated": True})
    response.set_cookie(SESSION_COOKIE, sign_session(gate.secret, record.generation),
                        max_age=SESSION_DAYS * 86400, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https", path="/")
    return response


@session_router.post("/logout")
def logout() -> Response:
    response = JSONResponse({"authenticated": False})
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response


def _gate(request: Request) -> Any:
    """The guard's gate (token file, secret), found on the middleware stack."""
    return request.app.state.gate


@router.get("/api/status")
def read_status(request: Request, limit: int = 20) -> dict[str, Any]:
    """As `snipe status --json`."""
    with services(request).reader() as uow:
        return status(uow, now_of(request), limit=limit).to_dict()


@router.get("/api/stats")
def read_stats(request: Request, since: str | None = None) -> dict[str, Any]:
    """As `snipe stats [--since D] --json`."""
    with services(request).reader() as uow:
        return stats(uow, parse_since(since) if since else None).to_dict()


@router.get("/api/monitor")
def read_monitor(request: Request, account: str | None = None) -> dict[str, Any]:
    """Next strikes with countdowns, recent attempts with their latency, the accounts' login
    state and the daemon's health."""
    ctx = services(request)
    with ctx.reader() as uow:
        return monitor(uow, now_of(request), ctx.settings.home, ctx.vault, account)


@router.get("/api/log")
def read_log(request: Request, limit: int = 50) -> dict[str, Any]:
    """As `snipe log --json`."""
    with services(request).reader() as uow:
        return {"log": [e.to_dict() for e in list_log(uow, limit)]}


@router.get("/api/events")
async def events(request: Request) -> StreamingResponse:
    """Server-sent events: `strike_fired`, `attempt`, `booking_won`, `booking_released`,
    `block_completed`, `block_failed`, `slot_freed` and `daemon`, each a JSON object with its
    `id`, `kind` and `at`. Send `Last-Event-ID` to get what was missed."""
    header = request.headers.get("last-event-id", "")
    last = int(header) if header.isdigit() else None
    body = stream(request.app.state.bus, last, request.app.state.closing,
                  request.is_disconnected)
    return StreamingResponse(body, media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


@router.get("/calendar.ics", tags=["reports"])
def calendar_feed(request: Request, account: str | None = None) -> Response:
    """The bookings held as an iCalendar feed (as `snipe calendar`)."""
    with services(request).reader() as uow:
        text = calendar(uow, now_of(request), account)
    return Response(text, media_type="text/calendar; charset=utf-8",
                    headers={"Content-Disposition": 'inline; filename="snipe.ics"'})
