"""`snipe monitor`: a live dashboard of strikes, attempts, bookings held and free slots."""

from __future__ import annotations

import time
from datetime import datetime
from typing import TYPE_CHECKING, Annotated
from zoneinfo import ZoneInfo

import typer
from rich import box
from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from snipe.cli.app import app, ctx_of
from snipe.cli.render import STATE_STYLE, strikes_table

if TYPE_CHECKING:
    from snipe.services.stats import Dashboard

# Keys are services.stats' FREE, TAKEN and OURS; importing them would load the store on every
# command's start-up.
CELL = {"free": ("·", "green"), "taken": ("x", "red"), "ours": ("●", "bold cyan")}
SITE_TZ = ZoneInfo("Europe/Amsterdam")


def _attempts(board: Dashboard) -> Table:
    table = Table(header_style="bold", box=box.SIMPLE_HEAD, expand=True, show_edge=False)
    for column in ("when", "account", "slot", "where", "outcome", "latency"):
        table.add_column(column, no_wrap=True, justify="right" if column == "latency" else "left")
    for e in board.attempts:
        style = "green" if e.action == "success" else "red" if e.action == "failure" else ""
        latency = "-" if e.elapsed_ms is None else f"{e.elapsed_ms:.0f} ms"
        table.add_row(f"{e.at.astimezone(SITE_TZ):%d/%m %H:%M:%S}", e.account or "-",
                      e.slot_label, e.sub_location or e.location, f"[{style}]{e.action}[/]", latency)
    return table


def _held(board: Dashboard) -> Table:
    table = Table(header_style="bold", box=box.SIMPLE_HEAD, expand=True, show_edge=False)
    table.add_column("account", no_wrap=True)
    table.add_column("held", justify="right")
    table.add_column("bookings")
    for account, bookings in sorted(board.held.items()):
        slots = ", ".join(
            f"{b.sub_location or b.location} {b.slot_start.astimezone(ZoneInfo(b.timezone)):%a %H:%M}"
            + ("" if b.status == "confirmed" else f" ({b.status})") for b in bookings)
        table.add_row(account, str(len(bookings)), slots)
    return table


def _grid(board: Dashboard) -> Table:
    table = Table(header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    table.add_column("slot", no_wrap=True)
    for h in board.hours:
        table.add_column(f"{h:02d}", justify="center", no_wrap=True, min_width=2)
    for row in board.grid:
        cells = []
        for h in board.hours:
            mark, style = CELL.get(row.cells.get(h, ""), (" ", ""))
            cells.append(f"[{style}]{mark}[/]" if style else mark)
        table.add_row(row.label, *cells)
    return table


def render_dashboard(board: Dashboard) -> RenderableType:
    """One frame: fits a 120 x 40 terminal with a few strikes, attempts and grid rows."""
    now = board.now
    title = Text.assemble(("snipe monitor", "bold"), f"  {now.astimezone(SITE_TZ):%a %d %b %H:%M:%S}")
    strikes: RenderableType = (strikes_table(board.status.upcoming, now)
                               if board.status.upcoming else Text("No upcoming strikes.", "dim"))
    attempts: RenderableType = _attempts(board) if board.attempts else Text(
        "No attempts yet.", "dim")
    held: RenderableType = _held(board) if board.held else Text("No bookings held.", "dim")
    legend = "[green]·[/] free  [red]x[/] taken  [bold cyan]●[/] ours"
    if board.checked is not None:
        age = (now - board.checked).total_seconds()
        legend += f"   checked {max(0, int(age))} s ago"
    legend += "".join(f"   {n}" for n in board.notes)
    empty = (f"No slot lists for the coming days yet ({board.notes[0]})." if board.notes else
             "No slot lists read yet (the slot monitor fills this while the daemon runs).")
    grid: RenderableType = Group(_grid(board), Text.from_markup(legend)) if board.grid else Text(
        empty, "dim")
    return Group(
        title,
        Panel(strikes, title="Next strikes", title_align="left", border_style="cyan"),
        Panel(attempts, title="Recent attempts", title_align="left",
              border_style=STATE_STYLE.get("running", "yellow")),
        Panel(held, title="Bookings held per account", title_align="left", border_style="green"),
        Panel(grid, title="Slots, coming days", title_align="left", border_style="magenta"),
    )


@app.command()
def monitor(
    ctx: typer.Context,
    once: Annotated[bool, typer.Option("--once", help="Render one frame and exit.")] = False,
    days: Annotated[int, typer.Option(help="Days of slots to show.", min=1, max=14)] = 3,
    refresh: Annotated[float, typer.Option(help="Seconds between refreshes.", min=0.5)] = 2.0,
) -> None:
    """A live dashboard: next strikes with countdowns, recent attempts with latencies, bookings
    held per account, and the slot grid of the coming days (free, taken, ours)."""
    from snipe.services.stats import dashboard

    app_ctx = ctx_of(ctx)
    services = app_ctx.services()
    clock = app_ctx.clock()

    def frame(now: datetime) -> RenderableType:
        with services.reader() as uow:
            return render_dashboard(dashboard(uow, now, days))

    console = app_ctx.console
    if once:
        console.print(frame(clock.now()))
        return
    from rich.live import Live

    try:
        with Live(frame(clock.now()), console=console, auto_refresh=False,
                  screen=False) as live:
            while True:
                time.sleep(refresh)
                live.update(frame(clock.now()), refresh=True)
    except KeyboardInterrupt:
        pass
