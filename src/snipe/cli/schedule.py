"""`snipe schedule FILE` and `snipe plan FILE`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from snipe.cli.app import app, ctx_of
from snipe.cli.render import print_json, strikes_table, warn

FileArg = Annotated[Path, typer.Argument(help="The bookings file (see bookings.example.json).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]


def _render_candidates(console, result) -> None:  # type: ignore[no-untyped-def]
    from rich.table import Table

    for plan in result.plans:
        if not plan.target.flexible or not plan.candidates:
            continue
        table = Table(title=f"{plan.target.name}: candidate blocks by W_C score",
                      title_justify="left", header_style="bold")
        for column in ("day", "hours", "date", "time", "avoid", "wknd/eve", "total"):
            table.add_column(column, justify="right" if column not in {"day", "hours"} else "left")
        for c in plan.candidates[:10]:
            s = c.score
            total = f"[red]{s.total:.0f} ⚠[/]" if s.needs_confirmation else f"{s.total:.0f}"
            table.add_row(f"{c.block.day:%a %d %b}",
                          f"{c.block.start_hour:02d}:00-{c.block.end_hour:02d}:00",
                          f"{s.date_match:.0f}", f"{s.time_of_day_match:.0f}",
                          f"{s.avoid_time_penalty:.0f}", f"{s.weekend_evening_bonus:.0f}", total)
        console.print(table)


def _explain(console, result) -> None:  # type: ignore[no-untyped-def]
    for plan in result.plans:
        day = f" on {plan.day:%A %d %B %Y}" if plan.day else ""
        accepts = (f"; {plan.target.min_length} h accepted as fallback"
                   if plan.target.min_length < plan.target.length else "")
        lines = list(plan.explanation)
        # The planner's first line is "<name>: <verdict>"; fold it into our header.
        verdict = lines.pop(0).split(": ", 1)[-1] if lines else "nothing to plan"
        console.print(f"[bold]{plan.target.name}[/]: {plan.target.length} consecutive hour(s)"
                      f"{day}{accepts} — {verdict}", highlight=False)
        for line in lines:
            console.print(line, highlight=False)


def _preview(app_ctx, file: Path, now):  # type: ignore[no-untyped-def]
    """What `schedule` would do, from the store when there is one (its accounts, what its
    targets already hold), without writing anything or creating a store."""
    from snipe.services.targets.schedule import plan_file

    return plan_file(app_ctx.reader(), file, now)


@app.command()
def schedule(
    ctx: typer.Context,
    file: FileArg,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate and plan; write nothing.")]
    = False,
    json_out: JsonOpt = False,
) -> None:
    """Validate FILE, import its accounts, plan every target and persist the strikes."""
    from snipe.config import load_bookings
    from snipe.services.targets.schedule import schedule_file

    app_ctx = ctx_of(ctx)
    now = app_ctx.clock().now()
    if dry_run:
        result = _preview(app_ctx, file, now)
    else:
        load_bookings(file, now)  # an invalid file creates nothing, not even the data dir
        result = schedule_file(app_ctx.services(), file, now)
    if json_out:
        data = result.to_dict(now)
        data["written"] = result.written
        print_json(app_ctx.console, data)
        return
    console = app_ctx.console
    warn(app_ctx.err, result.warnings)
    _explain(console, result)
    console.print(strikes_table(result.strikes, now, title="Strikes"))
    if result.written:
        accounts = ", ".join(f"{n} ({o})" for n, o in result.accounts.items()) or "none in file"
        console.print(
            f"Saved: {result.created} new, {result.updated} updated, {result.unchanged} unchanged,"
            f" {result.cancelled} cancelled strike(s). Accounts: {accounts}.", highlight=False)
        console.print("The daemon (`snipe daemon`) fires them; `snipe status` shows progress.")
    else:
        console.print("[dim]dry run: nothing was written[/]")


@app.command()
def plan(ctx: typer.Context, file: FileArg, json_out: JsonOpt = False) -> None:
    """Show what FILE would schedule, with W_C-ranked blocks for flexible targets. Writes nothing."""
    app_ctx = ctx_of(ctx)
    now = app_ctx.clock().now()
    result = _preview(app_ctx, file, now)
    if json_out:
        print_json(app_ctx.console, result.to_dict(now))
        return
    warn(app_ctx.err, result.warnings)
    _explain(app_ctx.console, result)
    _render_candidates(app_ctx.console, result)
    app_ctx.console.print(strikes_table(result.strikes, now, title="Strikes"))
