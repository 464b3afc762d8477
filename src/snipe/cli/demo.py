"""`snipe demo`: watch snipe win a 3-hour block against bots on the sandbox, in one command."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from snipe.cli.app import app, ctx_of

if TYPE_CHECKING:
    from rich.console import RenderableType

    from snipe.demo import DemoResult, DemoSnapshot

HALLS = ("X1 A", "X1 B", "X3 A", "X3 B", "Fitness")
OPEN_AFTER_MS = 60_000.0  # a strike this long after the unlock booked a slot already open
RESULT_STYLE = {"won": "bold green", "full": "red", "limit": "yellow", "not_open": "yellow",
                "error": "bold red"}


def _grid(snapshot: DemoSnapshot) -> Any:
    """Who holds each hall at each hour of the block: us (green) or a bot (red)."""
    from rich import box
    from rich.table import Table

    from snipe.demo import BLOCK_HOURS

    table = Table(title="The site on the block's day", box=box.SIMPLE_HEAD, title_justify="left")
    table.add_column("hour")
    for hall in HALLS:
        table.add_column(hall)
    for hour in BLOCK_HOURS:
        cells = []
        for hall in HALLS:
            holders = [b for b in snapshot.held if b.hour == hour
                       and (b.sub_location or b.location) == hall]
            cells.append(", ".join(f"[red]{b.who}[/]" if b.by_bot else f"[bold green]{b.who}[/]"
                                   for b in holders) or "[dim]·[/]")
        table.add_row(f"{hour:02d}:00", *cells)
    return table


def _strikes(snapshot: DemoSnapshot, tz: Any) -> Any:
    from rich import box
    from rich.table import Table

    table = Table(title="Strikes", box=box.SIMPLE_HEAD, title_justify="left")
    for name, justify in (("fired at (site)", "left"), ("attempt", "left"),
                          ("result", "left"), ("latency ms", "right"),
                          ("after unlock ms", "right")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for strike in snapshot.strikes:
        first = True
        for a in strike.attempts:
            style = RESULT_STYLE.get(a.result, "")
            table.add_row(
                f"{strike.fire_at.astimezone(tz):%a %H:%M:%S}" if first else "",
                a.attempt.describe(), f"[{style}]{a.result}[/]" if style else a.result,
                f"{a.latency_ms:.1f}" if a.latency_ms else "–",
                _late(strike) if first else "")
            first = False
    if not snapshot.strikes:
        table.add_row("", "[dim]waiting for the first strike[/]", "", "", "")
    return table


def _late(strike: Any) -> str:
    """How long after its slot's unlock the strike fired; a slot open for long is just open."""
    if strike.late_ms is None or strike.late_ms > OPEN_AFTER_MS:
        return "open"
    return f"{strike.late_ms:.2f}"


def view(snapshot: DemoSnapshot, rate: float) -> RenderableType:
    """The live view: countdown, strikes with their latency, the site's halls, releases."""
    from rich.console import Group
    from rich.text import Text

    from snipe.profiles import load_profile

    tz = load_profile("sandbox").tz
    local = snapshot.site_now.astimezone(tz)
    if snapshot.done:
        head = "finished"
    elif snapshot.next_unlock is not None and snapshot.countdown_s is not None:
        unlock = snapshot.next_unlock.astimezone(tz)
        head = (f"next X1 unlock {unlock:%a %H:%M} in "
                f"[bold]{max(snapshot.countdown_s, 0):4.1f} s[/]")
    else:
        head = "all X1 hours unlocked; releasing what the block does not need"
    header = Text.from_markup(
        f"[bold]snipe demo[/]  sandbox clock {local:%a %d %b %H:%M:%S} ({rate:g}x)  "
        f"bots: hall-rush  ·  {head}")
    parts: list[Any] = [header, _strikes(snapshot, tz), _grid(snapshot)]
    if snapshot.releases:
        lines = [f"  {e.message or (e.sub_location or e.location) + ' ' + e.slot_label}"
                 for e in reversed(snapshot.releases[:8])]
        parts.append(Text("Released (the block no longer needs them)\n" + "\n".join(lines)
                          + "\n"))
    return Group(*parts)


def summary(result: DemoResult) -> Any:
    from rich import box
    from rich.table import Table

    table = Table(title="Demo summary", box=box.ROUNDED, show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    verdict = "[bold green]won[/]" if result.blocks_won else f"[bold red]{result.verdict}[/]"
    rows = [
        ("block", f"{verdict}  {result.block or ''}"),
        ("bookings kept", str(result.bookings_kept)),
        ("bookings released", str(result.bookings_released)),
        ("attempts (won)", f"{result.attempts} ({result.wins})"),
        ("median attempt latency", f"{result.median_strike_ms} ms"),
        ("median shot after the unlock", f"{result.median_late_ms} ms"),
        ("hall bookings the bots took that day", str(result.bot_bookings)),
        ("took", f"{result.elapsed_s} s"),
    ]
    for key, value in rows:
        table.add_row(key, value)
    return table


@app.command()
def demo(
    ctx: typer.Context,
    keep: Annotated[bool, typer.Option("--keep", help="Keep the demo's data dir (its path is "
                                       "printed) instead of removing it.")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="No live view; print one JSON object "
                                           "at the end.")] = False,
    rate: Annotated[float, typer.Option("--rate", help="Sandbox seconds per real second between "
                                        "unlocks (each unlock itself passes at real speed).")]
    = 1200.0,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the bots' choices.")] = 1,
    variant: Annotated[str, typer.Option("--variant", help="Which behaviour of the real site "
                                         "the sandbox plays: likely, classic or laggy.")]
    = "likely",
) -> None:
    """Win a 3-hour X1 block (X3, then Fitness as fallback) against bots on the sandbox."""
    import asyncio

    from snipe.cli.render import print_json
    from snipe.demo import DemoFailed, DemoOptions, run_demo

    app_ctx = ctx_of(ctx)
    console = app_ctx.console
    options = DemoOptions(rate=rate, seed=seed, keep=keep, variant=variant)
    if json_out:
        result = asyncio.run(run_demo(options))
        print_json(console, result.to_dict())
    else:
        from rich.live import Live

        with Live(console=console, refresh_per_second=8, transient=False) as live:
            result = asyncio.run(run_demo(options, lambda s: live.update(view(s, rate))))
        console.print(summary(result))
        if result.data_dir:
            console.print(f"Data kept in {result.data_dir}: try "
                          f"`SNIPE_HOME={result.data_dir} snipe log`.", highlight=False)
    if not result.blocks_won:
        raise DemoFailed(f"the demo ended without a won block ({result.verdict})")
