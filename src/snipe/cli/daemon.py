"""`snipe daemon`: fire every strike at its instant (run it from cron @reboot or systemd)."""

from __future__ import annotations

from typing import Annotated

import typer

from snipe.cli.app import app, ctx_of


@app.command()
def daemon(
    ctx: typer.Context,
    once: Annotated[bool, typer.Option("--once", help="Run the strikes due soon, then exit.")]
    = False,
    within: Annotated[float, typer.Option("--within", help="With --once: how far ahead (minutes).",
                                          min=0)] = 10.0,
    lead: Annotated[float, typer.Option("--lead", help="Seconds to wake before each strike.",
                                        min=0.5)] = 60.0,
    poll: Annotated[float, typer.Option("--poll", help="Seconds between looks for changed targets.",
                                        min=0.1)] = 5.0,
    monitor_interval: Annotated[float, typer.Option(
        "--monitor-interval", help="Seconds between polls for freed slots (0: no monitor).",
        min=0)] = 45.0,
    monitor_budget: Annotated[int, typer.Option(
        "--monitor-budget", help="Most requests one poll for freed slots may send.", min=1)] = 12,
) -> None:
    """Run in the foreground: wake before each unlock instant, strike, release, repeat."""
    import asyncio

    from snipe.adapters.notify import effective_settings, last_gasp, notifier_for
    from snipe.adapters.paths import data_dir
    from snipe.services.daemon import Daemon, lock_holder, setup_logging, single_instance

    app_ctx = ctx_of(ctx)
    home = data_dir()
    with single_instance(home) as lock:
        if lock is None:
            app_ctx.console.print(f"snipe daemon is already running (pid {lock_holder(home)}); "
                                  "nothing to do.", highlight=False)
            return
        log_path = setup_logging(home, app_ctx.debug)
        store = app_ctx.store()
        notifier = notifier_for(effective_settings(home))

        async def main() -> None:
            runner = Daemon(store, home, notifier=notifier, lead_s=lead, poll_s=poll,
                            monitor=monitor_interval > 0,
                            monitor_interval_s=max(monitor_interval, 10.0),
                            monitor_budget=monitor_budget)
            runner.install_signals()
            runner.report_missed()
            try:
                if once:
                    reports = await runner.run_once(within * 60)
                    fired = sum(len(r.strikes) for r in reports)
                    app_ctx.console.print(f"Ran {fired} strike(s) over {len(reports)} "
                                          "wake-up(s).", highlight=False)
                else:
                    app_ctx.console.print(f"snipe daemon running (logs: {log_path}); "
                                          "Ctrl-C to stop.", highlight=False)
                    await runner.serve()
            finally:
                await runner.close()

        with last_gasp(notifier):
            asyncio.run(main())
