"""`snipe sandbox ...`: run the local replica of the booking site."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from snipe.adapters.net import is_loopback
from snipe.sandbox.variants import DEFAULT_VARIANT

app = typer.Typer(help="Run the local replica of the booking site (for demos and tests).",
                  no_args_is_help=True)


# The variant's knobs (see snipe.sandbox.variants); each overrides the bundle of --variant.
VariantOption = Annotated[str, typer.Option(
    "--variant", help="Which plausible real site to play: likely, classic, laggy "
    "(the options below override its knobs).")]
ListingOption = Annotated[str | None, typer.Option(
    "--listing", help="early (listed before the unlock, refused until it) | at_unlock | "
    "lag:SECONDS (listed and open SECONDS after the unlock).")]
HallIdOption = Annotated[str | None, typer.Option(
    "--hall-id", help="Field naming a sub-hall: linked (linkedProductId) | product "
    "(bookableProductId).")]
HallBookingIdOption = Annotated[str | None, typer.Option(
    "--hall-booking-id", help="present | null (hall slots booked by params alone).")]
ErrorsOption = Annotated[str | None, typer.Option(
    "--errors", help="nestjs ({statusCode, message, error}) | coded ({code, message}).")]
SearchKeysOption = Annotated[str | None, typer.Option(
    "--search-keys", help="required (400 without availableFromDate/availableTillDate) | "
    "ignored.")]
JoinsOption = Annotated[str | None, typer.Option(
    "--joins", help="required (relations only when join= asks) | embedded.")]
WaitlistOption = Annotated[str | None, typer.Option(
    "--waitlist", help="on (a full Fitness slot answers 201 status 3) | off (refused).")]
TimesOption = Annotated[str | None, typer.Option(
    "--times", help="utc | local-z (local wall-clock time with a false Z).")]
ShapesOption = Annotated[str | None, typer.Option(
    "--shapes", help="real (the real site's bodies, token and pages) | classic (the "
    "sandbox's earlier ones).")]


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8787,
    accounts: Annotated[int, typer.Option(help="Create accounts user1..userN (pass1..passN).")] = 5,
    bots: Annotated[str, typer.Option(help="Competing bots (comma list): none, hall-rush, fast, "
                                      "peer[:N][:AIM][:LATENCY] (rivals as fast as us, e.g. "
                                      "peer:2:both, peer:1:A:0ms; see sandbox/API.md).")]
    = "none",
    clock_offset: Annotated[float, typer.Option(
        "--clock-offset", help="Sandbox time starts at real time + SECONDS.")] = 0.0,
    clock_rate: Annotated[float, typer.Option(
        "--clock-rate", help="Sandbox seconds per real second (60: an hour a minute).")] = 1.0,
    seed: Annotated[int, typer.Option(help="Seed of the bots' choices.")] = 0,
    state: Annotated[Path | None, typer.Option(
        "--state", help="Keep the sandbox's state in this SQLite file (default: memory).")] = None,
    admin_token: Annotated[str | None, typer.Option(
        "--admin-token", envvar="SNIPE_SANDBOX_ADMIN_TOKEN",
        help="Token of the admin routes (default: a random one).")] = None,
    rate_limit: Annotated[float, typer.Option(
        "--rate-limit", help="Requests per second per bearer token; 0 turns it off.")] = 20.0,
    public: Annotated[bool, typer.Option(
        "--public", help="Allow a non-loopback host.")] = False,
    variant: VariantOption = DEFAULT_VARIANT,
    listing: ListingOption = None,
    hall_id: HallIdOption = None,
    hall_booking_id: HallBookingIdOption = None,
    errors: ErrorsOption = None,
    search_keys: SearchKeysOption = None,
    joins: JoinsOption = None,
    waitlist: WaitlistOption = None,
    times: TimesOption = None,
    shapes: ShapesOption = None,
) -> None:
    """Serve the replica (pages at /, API at /api) until Ctrl-C."""
    from snipe.cli.app import abort
    from snipe.sandbox.config import SandboxConfig, SandboxConfigError

    if not is_loopback(host) and not public:
        abort(f"refusing to listen on {host}: sandbox accounts and the admin token are not "
              "secrets, so it serves loopback only unless you pass --public", 2)
    if not 0 < port < 65536:
        abort(f"port must be 1..65535, got {port}", 2)
    try:
        config = SandboxConfig(
            accounts=accounts, bots=bots, clock_offset_s=clock_offset, clock_rate=clock_rate,
            seed=seed, admin_token=admin_token, state_path=state, rate_limit=rate_limit,
            variant=variant, listing=listing, hall_id=hall_id, hall_booking_id=hall_booking_id,
            errors=errors, search_keys=search_keys, joins=joins, waitlist=waitlist,
            times=times, shapes=shapes,
        )
    except SandboxConfigError as exc:
        abort(str(exc), code=exc.exit_code)

    _serve(config, host, port, clock_offset, clock_rate, accounts)


def _serve(config: Any, host: str, port: int, clock_offset: float, clock_rate: float,
           accounts: int) -> None:
    """Bind first (a busy port is said at once), say where and how, then serve."""
    import uvicorn
    from rich.console import Console

    from snipe.sandbox.app import create_app

    sock = listening_socket(host, port)
    web_app = create_app(config)
    shown = f"[{host}]" if ":" in host else host
    base = f"http://{shown}:{port}"
    out = Console()
    out.print(f"sandbox: {base}  (API {base}/api)", highlight=False)
    out.print(f"admin token: {config.admin_token}", highlight=False)
    out.print(f"clock: offset {clock_offset:g} s, rate {clock_rate:g}x; "
              f"bots: {', '.join(config.bots) or 'none'}", highlight=False)
    out.print(f"variant: {config.play.describe()}", highlight=False, soft_wrap=True)
    if accounts:
        listed = ", ".join(f"user{n}/pass{n}" for n in range(1, min(accounts, 5) + 1))
        more = f", ... user{accounts}/pass{accounts}" if accounts > 5 else ""
        out.print(f"accounts: {listed}{more}", highlight=False, soft_wrap=True)
    server = uvicorn.Server(uvicorn.Config(web_app, log_level="warning", access_log=False,
                                           date_header=False, server_header=False))
    server.run(sockets=[sock])


def listening_socket(host: str, port: int):  # type: ignore[no-untyped-def]
    """The server's socket, bound now: a port in use is one clear line, not a traceback
    after the banner."""
    import socket

    from snipe.cli.app import abort

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        abort(f"cannot listen on {host}:{port}: {exc.strerror or exc} (is another server "
              "using that port? pick another with --port)")
    return sock
