"""`snipe status`: what fires when, what was won, what is still owed."""

from __future__ import annotations

from typing import Annotated

import typer

from snipe.cli.app import app, ctx_of
from snipe.cli.render import bookings_table, print_json, strikes_table, targets_table


@app.command()
def status(
    ctx: typer.Context,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    limit: Annotated[int, typer.Option("--limit", help="Upcoming strikes to show.", min=1)] = 20,
) -> None:
    """Upcoming strikes in firing order with countdowns (by the site's clock), targets and the
    blocks won, bookings held, and releases still owed."""
    from datetime import timedelta

    from snipe.services.queries import Status
    from snipe.services.queries import status as read_status

    app_ctx = ctx_of(ctx)
    now = app_ctx.clock().now()
    reader = app_ctx.reader()
    if reader is None:  # no store yet: nothing scheduled, and nothing created by looking
        result = Status(now, [], [], [])
    else:
        with reader() as uow:
            result = read_status(uow, now, limit=limit)
    if json_out:
        print_json(app_ctx.console, result.to_dict())
        return
    console = app_ctx.console
    site_now = now + timedelta(seconds=result.clock_offset_s)
    if result.upcoming:
        console.print(strikes_table(result.upcoming, site_now, title="Upcoming strikes"))
    else:
        console.print("No upcoming strikes. Add targets with `snipe schedule FILE`.")
    if result.targets:
        console.print(targets_table(result.targets, title="Targets"))
    if result.recent:
        console.print(strikes_table(result.recent, site_now, title="Recent outcomes"))
    if result.bookings:
        console.print(bookings_table(result.bookings, title="Bookings held"))
    for owed in result.releases_owed:
        console.print(f"[yellow]release owed:[/] {owed.where} of {owed.account} ({owed.reason}); "
                      f"{owed.tries} tr{'y' if owed.tries == 1 else 'ies'} so far"
                      + (f", last: {owed.last_error}" if owed.last_error else ""),
                      highlight=False, soft_wrap=True)
