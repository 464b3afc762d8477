"""`snipe calendar [--account NETID] > bookings.ics`: the bookings held, as iCalendar."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from snipe.cli.app import app, ctx_of


@app.command("calendar")
def calendar(
    ctx: typer.Context,
    account: Annotated[str | None, typer.Option("--account", help="Only this account.")] = None,
) -> None:
    """Print the bookings held as an iCalendar (RFC 5545) feed, for your calendar app."""
    from snipe.services.calendar import calendar as feed

    app_ctx = ctx_of(ctx)
    services = app_ctx.services()
    with services.reader() as uow:
        text = feed(uow, services.clock.now(), account)
    # Written as it is: on POSIX text mode leaves the CRLF endings the RFC asks for alone.
    sys.stdout.write(text)
    sys.stdout.flush()
