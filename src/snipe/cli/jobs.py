"""`snipe jobs list|cancel ID`: the strikes (snipe jobs) in the store."""

from __future__ import annotations

from typing import Annotated

import typer

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
    target: Annotated[str | None, typer.Option("--target", help="Only this target.")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Every strike, in firing order, with its target."""
    from snipe.services.queries import list_strikes

    app_ctx = ctx_of(ctx)
    now = app_ctx.clock().now()
    with app_ctx.services().reader() as uow:
        views = list_strikes(uow, tuple(state) if state else None, target=target)
    if json_out:
        print_json(app_ctx.console, {"strikes": [v.to_dict(now) for v in views]})
        return
    app_ctx.console.print(strikes_table(views, now, target_column=True) if views
                          else "No strikes.")


@jobs_app.command("cancel")
def cancel(ctx: typer.Context, strike_id: Annotated[int, typer.Argument(help="Strike id.")]) -> None:
    """Cancel a scheduled strike: it stays cancelled (the planner leaves its slot alone)."""
    from zoneinfo import ZoneInfo

    from snipe.domain.timefmt import slot_label
    from snipe.services.queries import cancel_strike

    app_ctx = ctx_of(ctx)
    with app_ctx.services().uow() as uow:
        view = cancel_strike(uow, strike_id)
        uow.commit()
    when = slot_label(view.slot_start, ZoneInfo(view.timezone))
    app_ctx.console.print(f"Strike {view.id} ({view.location} {when}) cancelled.",
                          highlight=False)
