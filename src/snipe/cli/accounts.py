"""`snipe accounts add|list|enable|disable|remove`."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich import box
from rich.table import Table

from snipe.cli.app import abort, app, ctx_of
from snipe.cli.render import print_json

accounts_app = typer.Typer(help="Manage the accounts snipe books with.", no_args_is_help=True)
app.add_typer(accounts_app, name="accounts")

Netid = Annotated[str, typer.Argument(help="The account's NetID (or e-mail).")]


def _read_password(netid: str, from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        if not sys.stdin.isatty():
            abort("no terminal to ask for the password: pipe it with --password-stdin")
        password = typer.prompt(f"Password for {netid}", hide_input=True)
    if not password:
        abort(f"empty password for {netid}")
    return password


@accounts_app.command("add")
def add(
    ctx: typer.Context,
    netid: Netid,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    site: Annotated[str, typer.Option(help="Site profile the account belongs to.")] = "x-tudelft",
    site_url: Annotated[
        str | None, typer.Option("--site-url", help="Base URL override for the site.")
    ] = None,
) -> None:
    """Add an account (or replace its password). The password is asked without echo."""
    from snipe.services.accounts import add_account

    password = _read_password(netid, password_stdin)
    outcome = add_account(ctx_of(ctx).store(), netid, password, site, site_url)
    ctx_of(ctx).console.print(f"Account {netid} {outcome} (site {site}).", highlight=False)


@accounts_app.command("list")
def list_(
    ctx: typer.Context,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List accounts (never their passwords)."""
    from snipe.services.accounts import list_accounts

    views = list_accounts(ctx_of(ctx).store())
    if json_out:
        print_json(ctx_of(ctx).console, {"accounts": [v.to_dict() for v in views]})
        return
    table = Table(header_style="bold", box=box.SIMPLE_HEAD)
    for column in ("netid", "site", "active", "bookings held"):
        table.add_column(column)
    for v in views:
        site = v.site + (f" ({v.site_url})" if v.site_url else "")
        table.add_row(v.netid, site, "yes" if v.is_active else "[dim]no[/]", str(v.active_bookings))
    ctx_of(ctx).console.print(table if views else "No accounts yet: `snipe accounts add NETID`.")


@accounts_app.command("enable")
def enable(ctx: typer.Context, netid: Netid) -> None:
    """Use this account again in plans."""
    from snipe.services.accounts import set_active

    set_active(ctx_of(ctx).store(), netid, True)
    ctx_of(ctx).console.print(f"Account {netid} enabled.", highlight=False)


@accounts_app.command("disable")
def disable(ctx: typer.Context, netid: Netid) -> None:
    """Keep the account but leave it out of plans."""
    from snipe.services.accounts import set_active

    set_active(ctx_of(ctx).store(), netid, False)
    ctx_of(ctx).console.print(f"Account {netid} disabled.", highlight=False)


@accounts_app.command("remove")
def remove(
    ctx: typer.Context,
    netid: Netid,
    force: Annotated[bool, typer.Option("--force", help="Even if it holds bookings.")] = False,
) -> None:
    """Delete the account, its stored password and its saved session."""
    from snipe.services.accounts import remove_account

    remove_account(ctx_of(ctx).store(), netid, force)
    ctx_of(ctx).console.print(f"Account {netid} removed.", highlight=False)
