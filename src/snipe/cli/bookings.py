"""`snipe bookings list|cancel ID|sync`."""

from __future__ import annotations

from typing import Annotated

import typer

from snipe.cli.app import app, ctx_of
from snipe.cli.render import bookings_table, print_json

bookings_app = typer.Typer(help="Bookings held: list, cancel on the site, sync.",
                           no_args_is_help=True)
app.add_typer(bookings_app, name="bookings")


@bookings_app.command("list")
def list_(
    ctx: typer.Context,
    all_: Annotated[bool, typer.Option("--all", help="Include released and cancelled.")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Bookings held (by slot time)."""
    from snipe.services.records import list_bookings

    views = list_bookings(ctx_of(ctx).store(), include_inactive=all_)
    if json_out:
        print_json(ctx_of(ctx).console, {"bookings": [v.to_dict() for v in views]})
        return
    ctx_of(ctx).console.print(bookings_table(views) if views else "No bookings.")
