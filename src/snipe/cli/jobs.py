"""`snipe jobs list|cancel ID`: the strikes (snipe jobs) in the store."""

from __future__ import annotations

from typing import Annotated

import typer

from snipe.adapters.clock import default_clock
from snipe.cli.app import app, ctx_of
from snipe.cli.render import print_json, strikes_table

jobs_app = typer.Typer(help="Strikes (snipe jobs): list or cancel.", no_args_is_help=True)
app.add_typer(jobs_app, name="jobs")


@jobs_app.command("list")
def list_(
    ctx: typer.Context,
    state: Annotated[
        list[str] | None, typer.Option("--state", help="Only these states (repeatable).")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Every strike, in firing order."""
    from snipe.services.records import list_strikes

    now = default_clock().now()
    views = list_strikes(ctx_of(ctx).store(), tuple(state) if state else None)
    if json_out:
        print_json(ctx_of(ctx).console, {"strikes": [v.to_dict(now) for v in views]})
        return
    ctx_of(ctx).console.print(strikes_table(views, now) if views else "No strikes.")


@jobs_app.command("cancel")
def cancel(ctx: typer.Context, strike_id: Annotated[int, typer.Argument(help="Strike id.")]) -> None:
    """Cancel a scheduled strike."""
    from snipe.services.records import cancel_strike

    view = cancel_strike(ctx_of(ctx).store(), strike_id)
    ctx_of(ctx).console.print(f"Strike {view.id} ({view.location} {view.slot_start:%a %H:%M}) "
                              "cancelled.", highlight=False)
