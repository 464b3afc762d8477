"""`snipe slots LOCATION [--date D] [--days N] [--json]`: open slots on demand."""

from __future__ import annotations

from typing import Annotated

import typer

from snipe.cli.app import app, ctx_of
from snipe.cli.bookings import parse_day
from snipe.cli.render import print_json


@app.command("slots")
def slots(
    ctx: typer.Context,
    location: Annotated[str, typer.Argument(help="Location, e.g. X1 or Fitness.")],
    day: Annotated[str | None, typer.Option("--date", help="First day, YYYY-MM-DD (today).")]
    = None,
    days: Annotated[int, typer.Option("--days", min=1, max=14, help="How many days.")] = 1,
    cached: Annotated[bool, typer.Option(
        "--cached", help="Only what the slot lists last showed; ask the site nothing.")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Read the location's slot lists from the site (within the fair-use budget) and show the
    slots still open, with the ones we hold and those not open yet."""
    from snipe.services import slots as service

    app_ctx = ctx_of(ctx)
    ctx_ = app_ctx.services()
    profile = service.site_profile(ctx_)
    now = ctx_.clock.now()
    span = service.days_from(profile, now, parse_day(day, "--date") if day else None, days)
    service.locations_of(profile, location)  # an unknown location fails before any request
    refresh = None
    if not cached:
        refresh = app_ctx.run(service.refresh_slots(ctx_, location, span, site=profile.name))
    with ctx_.reader() as uow:
        grid = service.slot_grid(uow, profile, ctx_.clock.now(), span, location)
    if json_out:
        data = grid.to_dict()
        if refresh is not None:
            data["refresh"] = refresh.to_dict()
        print_json(app_ctx.console, data)
        return
    _render(app_ctx.console, grid, refresh)


def _render(console, grid, refresh) -> None:  # type: ignore[no-untyped-def]
    from snipe.services.slots import FREE, LOCKED, OURS, TEAM

    tz = grid.profile.tz
    shown = [c for c in grid.cells.values() if c.state in (FREE, OURS, TEAM)]
    for c in sorted(shown, key=lambda c: (c.start, c.sub_location or "")):
        where = c.sub_location or c.location
        extra = f" ({c.remaining} left)" if c.state == FREE and c.remaining else ""
        mark = "open" if c.state == FREE else f"held by {c.holder}"
        console.print(f"{c.start.astimezone(tz):%a %d/%m %H:%M}  {where:<8} {mark}{extra}",
                      highlight=False)
    locked = [c for c in grid.cells.values() if c.state == LOCKED]
    if locked:
        first = min(locked, key=lambda c: c.unlock_at)
        console.print(f"{len(locked)} slot(s) not open yet; the next unlocks "
                      f"{first.unlock_at.astimezone(tz):%a %d/%m %H:%M}.", highlight=False)
    if not shown:
        console.print("No open slots.")
    if refresh is not None:
        note = f" ({refresh.note})" if refresh.note else ""
        console.print(f"[dim]{refresh.requests} request(s) to the site; "
                      f"{len(refresh.fresh)} day(s) from a recent read{note}[/]",
                      highlight=False)
