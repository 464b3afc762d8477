"""`snipe bookings list|cancel ID|move ID|sync`."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import typer

from snipe.cli.app import abort, app, ctx_of
from snipe.cli.render import bookings_table, print_json

bookings_app = typer.Typer(help="Bookings held: list, cancel, move, sync with the site.",
                           no_args_is_help=True)
app.add_typer(bookings_app, name="bookings")

STATUSES = ("pending", "confirmed", "failed", "released", "cancelled")


def parse_day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        abort(f"{option} must be a date like 2026-12-03, not {text!r}", 2)


def _local_midnight(day: date) -> datetime:
    from zoneinfo import ZoneInfo

    return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo("Europe/Amsterdam"))


@bookings_app.command("list")
def list_(
    ctx: typer.Context,
    all_: Annotated[bool, typer.Option("--all", help="Include released and cancelled.")] = False,
    account: Annotated[str | None, typer.Option("--account", help="Only this account.")] = None,
    from_: Annotated[str | None, typer.Option("--from", help="Slots from this day on.")] = None,
    to: Annotated[str | None, typer.Option("--to", help="Slots up to this day.")] = None,
    location: Annotated[str | None, typer.Option("--location", help="Only this location.")]
    = None,
    status: Annotated[str | None, typer.Option("--status", help="Only this status.")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Bookings held (by slot time), or all of them, filtered."""
    from datetime import timedelta

    from snipe.services.queries import list_bookings

    if status is not None and status not in STATUSES:
        abort(f"--status must be one of {', '.join(STATUSES)}, not {status!r}", 2)
    since = _local_midnight(parse_day(from_, "--from")) if from_ else None
    until = _local_midnight(parse_day(to, "--to")) + timedelta(days=1) if to else None
    app_ctx = ctx_of(ctx)
    with app_ctx.services().reader() as uow:
        views = list_bookings(uow, include_inactive=all_, account=account, since=since,
                              until=until, location=location, status=status)
    if json_out:
        print_json(app_ctx.console, {"bookings": [v.to_dict() for v in views]})
        return
    app_ctx.console.print(bookings_table(views) if views else "No bookings.")


@bookings_app.command("cancel")
def cancel(
    ctx: typer.Context,
    booking_id: Annotated[int, typer.Argument(help="Booking id (see `snipe bookings list`).")],
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Cancel a booking on the site, then here."""
    from snipe.services.booking.manual import cancel_booking

    app_ctx = ctx_of(ctx)
    outcome = app_ctx.run(cancel_booking(app_ctx.services(), booking_id))
    if json_out:
        print_json(app_ctx.console, outcome)
        return
    app_ctx.console.print(f"Booking {booking_id} of {outcome['account']}: {outcome['note']}.",
                          highlight=False)


@bookings_app.command("move")
def move(
    ctx: typer.Context,
    booking_id: Annotated[int, typer.Argument(help="Booking id (see `snipe bookings list`).")],
    day: Annotated[str, typer.Option("--date", help="The new slot's day, YYYY-MM-DD.")],
    hour: Annotated[int, typer.Option("--hour", min=0, max=23, help="Its local start hour.")],
    location: Annotated[str | None, typer.Option("--location", help="Another location.")]
    = None,
    sub: Annotated[str | None, typer.Option("--sub", help="Another sub-location.")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Reschedule: book the new slot, then cancel the old one once the new one is confirmed."""
    from snipe.services.booking.manual import move_booking

    app_ctx = ctx_of(ctx)
    moved = app_ctx.run(move_booking(app_ctx.services(), booking_id,
                                     parse_day(day, "--date"), hour, location, sub))
    if json_out:
        print_json(app_ctx.console, moved)
        return
    new = moved["new"]
    app_ctx.console.print(f"Booking {booking_id} moved: now booking {new['id']} "
                          f"({new['sub_location'] or new['location']} {new['slot_start']}); "
                          f"the old one: {moved['old']['note']}.", highlight=False)


@bookings_app.command("sync")
def sync(
    ctx: typer.Context,
    account: Annotated[
        list[str] | None, typer.Option("--account", help="Only this account (repeatable).")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Read each account's bookings from the site into the store."""
    from snipe.services.booking.manual import sync_bookings

    app_ctx = ctx_of(ctx)
    report = app_ctx.run(sync_bookings(app_ctx.services(), account or None))
    if json_out:
        print_json(app_ctx.console, report.to_dict())
    else:
        console = app_ctx.console
        if report.synced:
            console.print(f"Synced {len(report.synced)} account(s): {report.added} new, "
                          f"{report.confirmed} confirmed, {report.adopted} adopted, "
                          f"{report.gone} gone from the site.", highlight=False)
        for netid, error in report.errors.items():
            console.print(f"[yellow]{netid}[/]: {error}", highlight=False, soft_wrap=True)
    if report.errors:
        raise typer.Exit(1)
