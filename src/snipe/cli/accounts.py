"""`snipe accounts add|check|list|enable|disable|remove`."""

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
            abort("no terminal to ask for the password: pipe it with --password-stdin", 2)
        password = typer.prompt(f"Password for {netid}", hide_input=True)
    if not password:
        abort(f"empty password for {netid}", 2)
    return password


@accounts_app.command("add")
def add(
    ctx: typer.Context,
    netid: Netid,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    site: Annotated[str | None, typer.Option(
        help="Site profile of the account (default: the account's own, or x-tudelft).")] = None,
    site_url: Annotated[
        str | None, typer.Option("--site-url", help="Base URL override for the site.")
    ] = None,
    login: Annotated[str | None, typer.Option(
        "--login", help="How it logs in: oidc (NetID single sign-on) or api (e-mail).")] = None,
    no_check: Annotated[bool, typer.Option(
        "--no-check", help="Save without trying the password at the site first.")] = False,
) -> None:
    """Add an account (or replace its password), trying it at the site first. The password is
    asked without echo."""
    from snipe.services.accounts import add_account

    password = _read_password(netid, password_stdin)
    app_ctx = ctx_of(ctx)
    added = app_ctx.run(add_account(app_ctx.services(), netid, password, site, site_url, login,
                                    check=not no_check))
    check = {"ok": "; the site took the password", "skipped": ""}.get(
        added.checked, f"; {added.checked}")
    app_ctx.console.print(f"Account {netid} {added.outcome} (site {added.site}){check}.",
                          highlight=False, soft_wrap=True)


@accounts_app.command("check")
def check(ctx: typer.Context, netid: Netid) -> None:
    """Log the account in anew; success lets a set-aside account serve again."""
    from snipe.services.accounts import check_account

    app_ctx = ctx_of(ctx)
    said = app_ctx.run(check_account(app_ctx.services(), netid))
    app_ctx.console.print(f"Account {netid}: {said}.", highlight=False)


@accounts_app.command("list")
def list_(
    ctx: typer.Context,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List accounts (never their passwords)."""
    from snipe.services.accounts import list_accounts

    views = list_accounts(ctx_of(ctx).services(check_key=False))
    if json_out:
        print_json(ctx_of(ctx).console, {"accounts": [v.to_dict() for v in views]})
        return
    table = Table(header_style="bold", box=box.SIMPLE_HEAD)
    for column in ("netid", "site", "active", "bookings held", "note"):
        table.add_column(column)
    for v in views:
        site = v.site + (f" ({v.site_url})" if v.site_url else "")
        note = f"[red]set aside: {v.quarantine}[/]" if v.quarantine else ""
        table.add_row(v.netid, site, "yes" if v.is_active else "[dim]no[/]",
                      str(v.active_bookings), note)
    ctx_of(ctx).console.print(table if views else "No accounts yet: `snipe accounts add NETID`.")


def _set_active(ctx: typer.Context, netid: str, active: bool) -> None:
    from snipe.services.accounts import set_active

    set_active(ctx_of(ctx).services(check_key=False), netid, active)
    ctx_of(ctx).console.print(f"Account {netid} {'enabled' if active else 'disabled'}"
                              + ("" if active else "; a running daemon leaves it out from its "
                                 "next decision") + ".", highlight=False)


@accounts_app.command("enable")
def enable(ctx: typer.Context, netid: Netid) -> None:
    """Use this account again."""
    _set_active(ctx, netid, True)


@accounts_app.command("disable")
def disable(ctx: typer.Context, netid: Netid) -> None:
    """Keep the account but leave it out of strikes, polls and plans (at once)."""
    _set_active(ctx, netid, False)


@accounts_app.command("remove")
def remove(
    ctx: typer.Context,
    netid: Netid,
    force: Annotated[bool, typer.Option("--force", help="Even if it holds bookings.")] = False,
) -> None:
    """Delete the account, its stored password and its saved session."""
    from snipe.services.accounts import remove_account

    remove_account(ctx_of(ctx).services(check_key=False), netid, force)
    ctx_of(ctx).console.print(f"Account {netid} removed.", highlight=False)
