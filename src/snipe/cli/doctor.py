"""`snipe doctor`: is this machine ready to strike? Browser, database, key, logins, clocks."""

from __future__ import annotations

from typing import Annotated

import typer
from rich import box
from rich.table import Table

from snipe.cli.app import app, ctx_of
from snipe.cli.render import print_json

STYLE = {"ok": "green", "warn": "yellow", "fail": "bold red"}


@app.command("doctor")
def doctor(
    ctx: typer.Context,
    site: Annotated[
        str | None, typer.Option("--site", help="Also check this site profile's clock.")
    ] = None,
    site_url: Annotated[
        str | None, typer.Option("--site-url", help="Base URL of --site (e.g. a sandbox).")
    ] = None,
    fresh_login: Annotated[
        bool, typer.Option("--fresh-login", help="Log every account in anew (not the saved session).")
    ] = False,
    no_browser: Annotated[
        bool, typer.Option("--no-browser", help="Skip starting Chromium.")
    ] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Check the browser, the database, the key file, each account's login and the site clock."""
    from snipe.services.doctor import doctor as run_checks

    context = ctx_of(ctx)
    checks = context.run(run_checks(context.services(check_key=False), site=site, site_url=site_url,
                                    fresh_login=fresh_login, browser=not no_browser))
    failed = [c for c in checks if c.state == "fail"]
    if json_out:
        print_json(context.console, {"ok": not failed, "checks": [c.to_dict() for c in checks]})
    else:
        table = Table(header_style="bold", box=box.SIMPLE_HEAD)
        for column in ("check", "state", "detail"):
            table.add_column(column)
        for c in checks:
            table.add_row(c.name, f"[{STYLE[c.state]}]{c.state}[/]", c.detail)
        context.console.print(table)
        context.console.print(f"[bold red]{len(failed)} check(s) failed.[/]" if failed
                              else "[green]All checks passed.[/]")
    if failed:
        raise typer.Exit(1)
