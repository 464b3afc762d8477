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


@bookings_app.command("cancel")
def cancel(
    ctx: typer.Context,
    booking_id: Annotated[int, typer.Argument(help="Booking id (see `snipe bookings list`).")],
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Cancel a booking on the site, then here."""
    from snipe.services.site_ops import cancel_booking, run

    outcome = run(cancel_booking(ctx_of(ctx).store(), booking_id))
    if json_out:
        print_json(ctx_of(ctx).console, outcome)
        return
    ctx_of(ctx).console.print(f"Booking {booking_id} of {outcome['account']}: {outcome['note']}.",
                              highlight=False)


@bookings_app.command("sync")
def sync(
    ctx: typer.Context,
    account: Annotated[
        list[str] | None, typer.Option("--account", help="Only this account (repeatable).")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Read each account's bookings from the site into the store."""
    from snipe.services.site_ops import run, sync_bookings

    report = run(sync_bookings(ctx_of(ctx).store(), account or None))
    if json_out:
        print_json(ctx_of(ctx).console, report.to_dict())
        return
    console = ctx_of(ctx).console
    console.print(f"Synced {len(report.accounts)} account(s): {report.added} new, "
                  f"{report.confirmed} confirmed, {report.gone} gone from the site.",
                  highlight=False)
    for netid, error in report.errors.items():
        console.print(f"[yellow]{netid}[/]: {error}", highlight=False)
    if report.errors:
        raise typer.Exit(1)
