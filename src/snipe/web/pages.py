"""The pages: the live monitor (home), the slot grid, the booking history and a booking's
details, the targets with the snipe-job form, the accounts, and the login page.

Each page is one template whose `live` block is also served alone (`?partial=1`): the page's
script swaps it in when an event says something changed, so first paint and live updates are
rendered by the same code. The selected account (cookie `snipe_account`) filters every page.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, Template, select_autoescape

from snipe.domain.timefmt import iso_utc
from snipe.services import slots as slot_service
from snipe.services.overview import accounts_overview, booking_details, list_targets, monitor
from snipe.services.queries import list_bookings, list_strikes
from snipe.web.api.bookings import STATUSES
from snipe.web.api.common import day_range, now_of, parse_day, services
from snipe.web.app import HERE

router = APIRouter(include_in_schema=False)
ACCOUNT_COOKIE = "snipe_account"


@cache
def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(HERE / "templates"),
                      autoescape=select_autoescape(["html"]), trim_blocks=True,
                      lstrip_blocks=True)
    env.filters["local"] = lambda value, tz, fmt="%a %d/%m %H:%M": (
        "" if value is None else _instant(value).astimezone(tz).strftime(fmt))
    return env


def _instant(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(
        str(value).replace("Z", "+00:00"))


def render(request: Request, name: str, status_code: int = 200, **data: Any) -> Response:
    """The page, or only its `live` block when the page's script asks for it."""
    template: Template = environment().get_template(name)
    context = {"request": request, **data}
    if request.query_params.get("partial") == "1" and "live" in template.blocks:
        html = "".join(template.blocks["live"](template.new_context(context)))
    else:
        html = template.render(context)
    return HTMLResponse(html, status_code=status_code, headers={"Cache-Control": "no-store"})


def login_response(status_code: int) -> Response:
    html = environment().get_template("login.html").render(page="login")
    return HTMLResponse(html, status_code=status_code, headers={"Cache-Control": "no-store"})


def _common(request: Request, page: str) -> dict[str, Any]:
    """What every page shows: the account switcher (with each account's bookings count and
    quick stats), the selected account, our clock and the site's timezone."""
    ctx = services(request)
    with ctx.reader() as uow:
        accounts = accounts_overview(uow)
    chosen = request.cookies.get(ACCOUNT_COOKIE) or None
    if chosen not in {a["netid"] for a in accounts}:
        chosen = None
    profile = slot_service.site_profile(ctx)
    now = now_of(request)
    return {"page": page, "accounts": accounts, "account": chosen, "profile": profile,
            "tz": profile.tz, "now": now, "now_iso": iso_utc(now),
            "login_required": request.app.state.options.require_login}


@router.get("/login")
def login_page() -> Response:
    return login_response(200)


@router.get("/")
def home(request: Request) -> Response:
    common = _common(request, "monitor")
    ctx = services(request)
    with ctx.reader() as uow:
        board = monitor(uow, common["now"], ctx.settings.home, ctx.vault, common["account"])
    return render(request, "monitor.html", **common, board=board)


@router.get("/slots")
def slots(request: Request, location: str | None = None, date: str | None = None,
          days: int = 7) -> Response:
    common = _common(request, "slots")
    ctx, profile, now = services(request), common["profile"], common["now"]
    span = slot_service.days_from(profile, now, parse_day(date, "date"), days)
    with ctx.reader() as uow:
        grid = slot_service.slot_grid(uow, profile, now, span, location or None,
                                      common["account"])
    return render(request, "slots.html", **common, grid=grid, location=location or "",
                  date=date or "", days=days)


@router.get("/bookings")
def bookings(request: Request, to: str | None = None, location: str | None = None, status: str | None = None,
             all: bool = False) -> Response:  # noqa: A002 - the CLI's --all
    common = _common(request, "bookings")
    ctx = services(request)
    first, last = parse_day(request.query_params.get("from"), "from"), parse_day(to, "to")
    since, until = day_range(first, last, common["tz"])
    status = status if status in STATUSES else None
    with ctx.reader() as uow:
        views = list_bookings(uow, include_inactive=all or status is not None,
                              account=common["account"], since=since, until=until,
                              location=location or None, status=status)
    filters = {"from": request.query_params.get("from", ""), "to": to or "",
               "location": location or "", "status": status or "", "all": all}
    return render(request, "bookings.html", **common, bookings=views, filters=filters,
                  statuses=STATUSES)


@router.get("/bookings/{booking_id}")
def booking(request: Request, booking_id: int) -> Response:
    common = _common(request, "bookings")
    with services(request).reader() as uow:
        details = booking_details(uow, booking_id)
    return render(request, "booking.html", **common, details=details)


@router.get("/targets")
def targets(request: Request) -> Response:
    common = _common(request, "targets")
    with services(request).reader() as uow:
        listed = list_targets(uow)
        strikes = list_strikes(uow, ("scheduled", "running"), limit=50)
    if common["account"]:
        strikes = [s for s in strikes if common["account"] in s.accounts]
    subs = {loc.name: [s.name for s in loc.sub_locations]
            for loc in common["profile"].locations if loc.bookable}
    return render(request, "targets.html", **common, targets=listed, subs=subs,
                  strikes=[s.to_dict(common["now"]) for s in strikes])


@router.get("/accounts")
def accounts(request: Request) -> Response:
    common = _common(request, "accounts")
    return render(request, "accounts.html", **common)
