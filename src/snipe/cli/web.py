"""`snipe web [HOST:]PORT`: the dashboard alone over the data dir; `snipe web token`: a new access
token for a dashboard reachable from other machines."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from snipe.cli.app import abort, app, ctx_of


@app.command("web")
def web(
    ctx: typer.Context,
    bind: Annotated[str | None, typer.Argument(
        metavar="[HOST:]PORT|token",
        help="Where to listen (default 127.0.0.1:8788); `token` prints a new access token.")]
    = None,
    login: Annotated[bool, typer.Option(
        "--login", help="Ask for the token even on loopback.")] = False,
) -> None:
    """Serve the web dashboard and its JSON API (docs at /api/docs). Any address but loopback
    asks for the token of `snipe web token` once per browser."""
    app_ctx = ctx_of(ctx)
    if bind == "token":
        _token(app_ctx)
        return
    import asyncio
    import signal

    host, port, options = check_web(app_ctx, bind, login, live="store")
    services = app_ctx.services()

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        running = await start_web(services, bind, options)
        how = "log in with the token of `snipe web token`" if options.require_login \
            else "no login on loopback"
        app_ctx.console.print(f"snipe web on {running.url} ({how}); Ctrl-C to stop.",
                              highlight=False)
        try:
            await stop.wait()
        finally:
            await running.stop()
            await services.drivers.close()

    asyncio.run(main())


def check_web(app_ctx: Any, bind: str | None, login: bool = False, live: str = "bus"
              ) -> tuple[str, int, Any]:
    """Where to listen and how, refused at once (exit 2) when it cannot work: a bad address,
    or one reachable from other machines without a token made yet."""
    from snipe.web.auth import token_record
    from snipe.web.serve import options_for, parse_bind

    host, port = parse_bind(bind)
    options = options_for(host, live=live, force_login=login)
    if options.require_login and token_record(app_ctx.settings().home) is None:
        abort(f"{host} is reachable from other machines: make an access token first with "
              "`snipe web token`", 2)
    return host, port, options


async def start_web(services: Any, bind: str | None, options: Any = None) -> Any:
    """The dashboard as a task of the running loop (beside the daemon: over its context, its
    event bus the live stream)."""
    from snipe.web.serve import options_for, parse_bind, start

    host, port = parse_bind(bind)
    return await start(services, host, port, options or options_for(host, live="bus"))


def _token(app_ctx) -> None:  # type: ignore[no-untyped-def]
    from snipe.web.auth import rotate_token

    token = rotate_token(app_ctx.settings().home)
    app_ctx.console.print(token, highlight=False)
    app_ctx.err.print("A new access token (the previous one no longer works; every browser "
                      "logs in again). It is shown once: only its hash is kept.",
                      highlight=False)
