"""`snipe stats`: how the accounts are doing."""

from __future__ import annotations

from typing import Annotated

import typer
from rich import box
from rich.table import Table

from snipe.cli.app import app, ctx_of
from snipe.cli.render import print_json


def _pct(rate: float | None) -> str:
    return "-" if rate is None else f"{rate:.0%}"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} ms"


def rates_table(title: str, rates) -> Table:  # type: ignore[no-untyped-def]
    table = Table(title=title, title_justify="left", header_style="bold", box=box.SIMPLE_HEAD)
    for column in ("", "attempts", "won", "failed", "success", "median", "p95"):
        table.add_column(column, justify="left" if not column else "right")
    for r in rates:
        table.add_row(r.name, str(r.attempts), str(r.won), str(r.failed), _pct(r.success_rate),
                      _ms(r.median_ms), _ms(r.p95_ms))
    return table


@app.command()
def stats(
    ctx: typer.Context,
    since: Annotated[str | None, typer.Option(
        help="Only from this date (site's local midnight) or ISO instant on.")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Success rate per account and location, median and p95 execution time, blocks won/failed."""
    from snipe.services.stats import parse_since
    from snipe.services.stats import stats as read_stats

    app_ctx = ctx_of(ctx)
    with app_ctx.services().reader() as uow:
        result = read_stats(uow, parse_since(since) if since else None)
    console = app_ctx.console
    if json_out:
        print_json(console, result.to_dict())
        return
    if not result.overall.attempts:
        console.print("No attempts recorded" + (f" since {since}" if since else "") + ".")
    else:
        console.print(rates_table("Per account", [*result.accounts, result.overall]))
        console.print(rates_table("Per location", result.locations))
    blocks = result.blocks
    console.print(f"Blocks: {blocks['won']} won, {blocks['failed']} failed, "
                  f"{blocks['in_progress']} in progress", highlight=False)
    if result.strikes:
        console.print("Strikes fired: " + ", ".join(f"{n} {s}" for s, n in result.strikes.items()),
                      highlight=False)
