"""`snipe daemon`: fire every strike at its instant (run it from cron @reboot or systemd)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from snipe.cli.app import app, ctx_of
from snipe.cli.web import check_web, start_web


@app.command()
def daemon(
    ctx: typer.Context,
    once: Annotated[bool, typer.Option("--once", help="Run the strikes due soon, then exit.")]
    = False,
    within: Annotated[float, typer.Option("--within", help="With --once: how far ahead (minutes).",
                                          min=0)] = 10.0,
    lead: Annotated[float, typer.Option("--lead", help="Seconds to wake before each strike "
                                        "(more when accounts must log in first).", min=0.5)]
    = 60.0,
    poll: Annotated[float, typer.Option("--poll", help="Seconds between looks for changed targets.",
                                        min=0.1)] = 5.0,
    monitor_interval: Annotated[float, typer.Option(
        "--monitor-interval", help="Seconds between polls for freed slots (0: no monitor).",
        min=0)] = 45.0,
    monitor_budget: Annotated[int, typer.Option(
        "--monitor-budget", help="Most requests one poll for freed slots may send.", min=1)] = 12,
    web: Annotated[str | None, typer.Option(
        "--web", metavar="[HOST:]PORT", help="Also serve the web dashboard there (e.g. 8788; "
        "any address but loopback asks for the token of `snipe web token`).")] = None,
) -> None:
    """Run in the foreground: wake before each unlock instant, strike, release, repeat."""
    import asyncio

    from snipe.adapters.notify import last_gasp
    from snipe.adapters.paths import ensure_private_dir
    from snipe.services.daemon import DaemonRunning, lock_holder, setup_logging, single_instance

    app_ctx = ctx_of(ctx)
    if web:
        check_web(app_ctx, web)
    settings = app_ctx.settings(lead_s=lead, poll_s=poll,
                                monitor_interval_s=max(monitor_interval, 10.0)
                                if monitor_interval > 0 else 0.0,
                                monitor_budget=monitor_budget)
    home = ensure_private_dir(settings.home)
    with single_instance(home) as lock:
        if lock is None:
            app_ctx.console.print(f"snipe daemon is already running (pid {lock_holder(home)}); "
                                  "nothing to do.", highlight=False)
            return
        log_path = setup_logging(home, app_ctx.debug)
        services = app_ctx.services(**{k: getattr(settings, k) for k in (
            "lead_s", "poll_s", "monitor_interval_s", "monitor_budget")})
        services.extras["store"].check_key()  # a lost key fails here, not at every wake
        try:
            with last_gasp(services.notifier):
                asyncio.run(_serve(app_ctx, services, log_path, within * 60 if once else None,
                                   web))
        except DaemonRunning as exc:
            app_ctx.console.print(f"snipe daemon is already running: {exc}; nothing to do.",
                                  highlight=False)


async def _serve(app_ctx: Any, services: Any, log_path: Path, once_within_s: float | None,
                 web: str | None) -> None:
    """The daemon on this database (its lease taken), once or until stopped, with the web
    dashboard beside it when asked."""
    from snipe.services.daemon import Daemon, DaemonRunning

    runner = Daemon(services)
    other = runner.take_lease()
    if other is not None:
        raise DaemonRunning(f"another daemon ({other}) runs on this database")
    runner.install_signals()
    runner.report_missed()
    dashboard = await start_web(services, web) if web and once_within_s is None else None
    try:
        if once_within_s is not None:
            reports = await runner.run_once(once_within_s)
            fired = sum(len(r.strikes) for r in reports)
            app_ctx.console.print(f"Ran {fired} strike(s) over {len(reports)} wake-up(s).",
                                  highlight=False)
        else:
            app_ctx.console.print(f"snipe daemon running (logs: {log_path}); Ctrl-C to stop.",
                                  highlight=False)
            await runner.serve()
    finally:
        if dashboard is not None:
            await dashboard.stop()
        await runner.close()
