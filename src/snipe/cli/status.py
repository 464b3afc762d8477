"""`snipe status`: what fires when, what was won."""

from __future__ import annotations

from typing import Annotated

import typer

from snipe.adapters.clock import default_clock
from snipe.cli.app import app, ctx_of
from snipe.cli.render import bookings_table, print_json, strikes_table


@app.command()
def status(
    ctx: typer.Context,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    limit: Annotated[int, typer.Option(help="Upcoming strikes to show.", min=1)] = 20,
) -> None:
    """Upcoming strikes in firing order with countdowns, recent outcomes and bookings held."""
    from snipe.services.records import sqlite_file, status_from_file

    app_ctx = ctx_of(ctx)
    now = default_clock().now()
    # A SQLite store is read directly (fast); any other, or one to create or migrate first,
    # goes through the store.
    path = sqlite_file(app_ctx.db_url)
    result = status_from_file(path, now, limit=limit) if path is not None else None
    if result is None:
        from snipe.services.records import status as read_status

        result = read_status(app_ctx.store(), now, limit=limit)
    if json_out:
        print_json(app_ctx.console, result.to_dict())
        return
    console = app_ctx.console
    if result.upcoming:
        console.print(strikes_table(result.upcoming, now, title="Upcoming strikes"))
    else:
        console.print("No upcoming strikes. Add targets with `snipe schedule FILE`.")
    if result.recent:
        console.print(strikes_table(result.recent, now, title="Recent outcomes"))
    if result.bookings:
        console.print(bookings_table(result.bookings, title="Bookings held"))
