"""`snipe simulate`: our planner, the earlier one and the seed's naive strategy, against rivals as
fast as we are (`--rivals peer:N`) or modelled contention levels (`--level`)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table

from snipe.cli.app import abort, app, ctx_of
from snipe.cli.render import print_json

DEFAULT_RIVALS = "peer:0,peer:1,peer:2,peer:4"


@app.command()
def simulate(
    ctx: typer.Context,
    rivals: Annotated[
        list[str] | None,
        typer.Option("--rivals", help="Rival levels, e.g. peer:0,peer:2 (repeatable; default "
                                      f"{DEFAULT_RIVALS} unless --level is given)."),
    ] = None,
    level: Annotated[
        list[str] | None,
        typer.Option("--level", help="Modelled contention level instead (repeatable)."),
    ] = None,
    background: Annotated[
        str, typer.Option("--background", help="Contention level of the other locations "
                                               "when rivals fight over the first one."),
    ] = "medium",
    insurance: Annotated[
        str | None, typer.Option("--insurance", help="The example's insurance policy: yield, "
                                                     "keep or off (default: the targets' default)."),
    ] = None,
    runs: Annotated[int, typer.Option("--runs", help="Runs per level and strategy.")] = 200,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the modelled worlds.")] = 0,
    profile: Annotated[str, typer.Option("--profile", help="Site profile.")] = "x-tudelft",
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Play the seed's example (3 h at X1, else X3, else Fitness; 3 accounts) many times."""
    from dataclasses import replace

    from snipe.domain import simulator
    from snipe.domain.rivals import SimulationError
    from snipe.profiles import load_profile

    app_ctx = ctx_of(ctx)
    try:
        levels = _levels(rivals, level, background, runs, insurance)
    except SimulationError as exc:
        abort(str(exc), exc.exit_code)
    scenario = simulator.seed_scenario(load_profile(profile))
    if insurance is not None:
        scenario = replace(scenario, target=replace(scenario.target, insurance=insurance))
    rows = simulator.compare(scenario, levels, runs=runs, seed=seed)
    if json_out:
        print_json(app_ctx.console, {
            "scenario": scenario.target.name, "runs": runs, "seed": seed,
            "background": background, "insurance": scenario.target.insurance,
            "rows": [r.to_dict() for r in rows],
        })
        return
    title = (f"The seed's example over {runs} runs per row (seed {seed}; insurance "
             f"{scenario.target.insurance}; rivals meet a {background} background elsewhere)")
    app_ctx.console.print(_table(title, rows))


def _levels(rivals: list[str] | None, level: list[str] | None, background: str, runs: int,
            insurance: str | None) -> list[Any]:
    """The levels to play; a usage error is one SimulationError."""
    from snipe.domain import contention, simulator
    from snipe.domain.rivals import SimulationError, parse_rivals
    from snipe.domain.targets import INSURANCE_POLICIES

    if runs < 1:
        raise SimulationError(f"--runs must be at least 1 (got {runs})")
    if insurance is not None and insurance not in INSURANCE_POLICIES:
        raise SimulationError(f"unknown insurance policy {insurance!r} "
                              f"(use {', '.join(INSURANCE_POLICIES)})")
    levels = [simulator.Level(contention.level(n)) for n in level or ()]
    if rivals or not level:
        levels += simulator.rival_levels(parse_rivals(rivals or [DEFAULT_RIVALS]), background)
    return levels


def _table(title: str, rows: list[Any]) -> Table:
    from snipe.domain.simulator import SNIPE

    table = Table(title=title, title_justify="left", header_style="bold", box=box.SIMPLE_HEAD,
                  caption=CAPTION, caption_justify="left")
    first = "rivals" if all(r.level.rivals is not None for r in rows) else "level"
    for name in (first, "strategy", "full X1 block", "fallback block", "nothing",
                 "made/target", "surplus/target", "requests/unlock", "ceiling", "keeping"):
        table.add_column(name, justify="left" if name in (first, "strategy") else "right")
    for r in rows:
        table.add_row(
            r.level.name, r.strategy, f"{r.full_block:.1%}", f"{r.fallback_block:.1%}",
            f"{r.nothing:.1%}", f"{r.made_per_target:.2f}", f"{r.surplus_per_target:.2f}",
            f"{r.requests_per_unlock:.2f}", _rate(r.ceiling), _rate(r.ceiling_keeping),
            style="bold" if r.strategy == SNIPE else "",
        )
    return table


CAPTION = (
    "full X1 block: the 3 hours at the first location; fallback block: another accepted block; "
    "surplus: bookings made but not in the block kept (ours are released, the naive strategy "
    "keeps holding them); ceiling: the best policy's full-block rate (exhaustive expectimax); "
    "keeping: the same for a policy that never gives up a held accepted block, as snipe does"
)


def _rate(value: float | None) -> str:
    return "" if value is None else f"{value:.1%}"
