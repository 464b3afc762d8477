"""`snipe book`: book one slot now for one account (the site's API, or its pages)."""

from __future__ import annotations

from typing import Annotated

import typer

from snipe.cli.app import abort, app, ctx_of
from snipe.cli.bookings import parse_day
from snipe.cli.render import print_json


@app.command("book")
def book(
    ctx: typer.Context,
    account: Annotated[str, typer.Option("--account", help="NetID of the account to book with.")],
    location: Annotated[str, typer.Option("--location", help="Location, e.g. X1 or Fitness.")],
    day: Annotated[str, typer.Option("--date", help="Day of the slot, YYYY-MM-DD.")],
    hour: Annotated[int, typer.Option("--hour", min=0, max=23, help="Local start hour.")],
    sub: Annotated[
        str | None, typer.Option("--sub", help="Sub-location, e.g. \"X1 A\".")
    ] = None,
    via: Annotated[
        str | None, typer.Option("--via", help="api (fast) or ui (the pages); default: profile.")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Book a slot now (it must already be open), and record it."""
    from snipe.services.booking.manual import book_slot

    if via not in (None, "api", "ui"):
        abort(f"--via must be api or ui, not {via!r}", 2)
    when = parse_day(day, "--date")
    app_ctx = ctx_of(ctx)
    outcome = app_ctx.run(book_slot(app_ctx.services(), account, location, sub, when, hour, via))
    if json_out:
        print_json(app_ctx.console, {"booking": outcome.to_dict()})
        return
    where = outcome.sub_location or outcome.location
    ref = f" (site reference {outcome.reference})" if outcome.reference is not None else ""
    app_ctx.console.print(
        f"Booked {where} on {when} at {hour:02d}:00 for {account} via {outcome.via} in "
        f"{outcome.elapsed_ms:.0f} ms: booking {outcome.booking_id}{ref}.", highlight=False)
