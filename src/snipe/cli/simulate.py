"""`snipe simulate`: the planner against the seed's naive strategy, over contention levels."""

from __future__ import annotations

from typing import Annotated

import typer
from rich import box
from rich.table import Table

from snipe.cli.app import abort, app, ctx_of
from snipe.cli.render import print_json


@app.command()
def simulate(
    ctx: typer.Context,
    runs: Annotated[int, typer.Option("--runs", min=1, help="Runs per level and strategy.")] = 200,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the modelled worlds.")] = 0,
    level: Annotated[
        list[str] | None,
        typer.Option("--level", help="Contention level (repeatable; default: all)."),
    ] = None,
    profile: Annotated[str, typer.Option("--profile", help="Site profile.")] = "x-tudelft",
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Play the seed's example (3 h at X1, else X3, else Fitness; 3 accounts) many times."""
    from snipe.domain import contention, simulator
    from snipe.profiles import load_profile

    app_ctx = ctx_of(ctx)
    try:
        levels = [contention.level(n) for n in level] if level else list(contention.LEVELS)
    except ValueError as exc:
        abort(str(exc))
    scenario = simulator.seed_scenario(load_profile(profile))
    rows = simulator.compare(scenario, levels, runs=runs, seed=seed)
    if json_out:
        print_json(app_ctx.console, {
            "scenario": scenario.target.name, "runs": runs, "seed": seed,
            "rows": [r.to_dict() for r in rows],
        })
        return
    table = Table(
        title=f"Block success over {runs} runs per row (seed {seed})", title_justify="left",
        header_style="bold", box=box.SIMPLE_HEAD,
        caption="block: an accepted block kept; full: all 3 hours; X1: the full block at the "
                "first location; wasted: bookings made but not kept (the naive strategy keeps "
                "holding them)",
        caption_justify="left",
    )
    for name in ("contention", "strategy", "block", "full", "X1", "wasted/run", "requests/run"):
        table.add_column(name, justify="left" if name in ("contention", "strategy") else "right")
    for r in rows:
        style = "bold" if r.strategy == simulator.PLANNER else ""
        table.add_row(
            r.level, r.strategy, f"{r.block_rate:.0%}", f"{r.full_rate:.0%}",
            f"{r.preferred_rate:.0%}", f"{r.wasted_per_run:.2f}", f"{r.requests_per_run:.1f}",
            style=style,
        )
    app_ctx.console.print(table)
