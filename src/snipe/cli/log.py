"""`snipe log`: the audit trail of attempts, wins, releases and cancels."""

from __future__ import annotations

from typing import Annotated

import typer
from rich import box
from rich.table import Table

from snipe.cli.app import app, ctx_of
from snipe.cli.render import print_json


@app.command()
def log(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option("--limit", "-n", help="How many entries.", min=1)] = 50,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The newest booking log entries first."""
    from snipe.services.queries import list_log

    with ctx_of(ctx).services().reader() as uow:
        entries = list_log(uow, limit)
    if json_out:
        print_json(ctx_of(ctx).console, {"log": [e.to_dict() for e in entries]})
        return
    table = Table(header_style="bold", box=box.SIMPLE_HEAD)
    for column in ("when (UTC)", "account", "action", "slot", "location", "ms", "message"):
        table.add_column(column)
    for e in entries:
        table.add_row(f"{e.at:%Y-%m-%d %H:%M:%S}", e.account or "", e.action, e.slot_label,
                      e.sub_location or e.location,
                      "" if e.elapsed_ms is None else f"{e.elapsed_ms:.1f}",
                      e.message or "")
    ctx_of(ctx).console.print(table if entries else "The log is empty.")
