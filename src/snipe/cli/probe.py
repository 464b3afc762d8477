"""`snipe probe`: which variant of the booking site is live? Read-only, anonymous by default."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlparse

import typer
from rich import box
from rich.table import Table

from snipe.cli.app import abort, app, ctx_of
from snipe.cli.render import print_json

ANSWERS = {"window_minutes": "booking window", "times": "time convention",
           "listing": "listing", "hall_field": "hall identity",
           "hall_booking_id": "hall bookingId", "search_keys": "search keys",
           "joins": "relations", "errors": "error style", "booking_joins": "booking relation"}


@app.command("probe")
def probe(
    ctx: typer.Context,
    site: Annotated[str | None, typer.Option("--site", help="Site profile (default x-tudelft).")
                    ] = None,
    base_url: Annotated[
        str | None, typer.Option("--base-url", help="Base URL of the site (e.g. a sandbox).")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the findings as JSON.")] = False,
    record: Annotated[
        Path | None, typer.Option("--record", help="Save every answer (redacted) in this folder.")
    ] = None,
    login: Annotated[
        str | None, typer.Option("--login", help="Also read this account's bookings (logs in).")
    ] = None,
) -> None:
    """Find out how the site behaves (listing, hall ids, times, keys, joins, errors) with a
    handful of read-only requests, and keep it as the site's facts."""
    from snipe.errors import ConfigError
    from snipe.profiles import DEFAULT_PROFILE, load_profile

    if base_url is not None:
        parsed = urlparse(base_url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            abort(f"--base-url must be an http(s) URL, not {base_url!r}", 2)
    try:
        profile = load_profile(site or DEFAULT_PROFILE, base_url)
    except ConfigError as exc:
        abort(str(exc), 2)
    context = ctx_of(ctx)
    report = context.run(_probe(ctx, profile, record, login))
    if json_out:
        print_json(context.console, report.to_json())
        return
    _render(context.console, report)


async def _probe(ctx: typer.Context, profile: Any, record: Path | None, login: str | None
                 ) -> Any:
    from snipe.adapters.sites.probe import probe_and_keep

    if login is None:
        return await probe_and_keep(profile, record=record)
    from snipe.errors import ConfigError
    from snipe.services.context import account_of

    services = ctx_of(ctx).services()
    account_profile, creds = account_of(services, login)
    if account_profile.api_url != profile.api_url:
        raise ConfigError(f"account {login} books at {account_profile.name} "
                          f"({account_profile.api_url}), not at {profile.api_url}: probe that "
                          "site, or leave out --login")
    return await probe_and_keep(profile, record=record, creds=creds,
                                driver=services.drivers.of(account_profile))


def _render(console: Any, report: Any) -> None:
    findings = report.findings
    who = f"as {findings.account}" if findings.account else "anonymously"
    login = f" (and {findings.logins} login)" if findings.logins else ""
    console.print(f"Probed {findings.site} at {findings.api_url} {who}: {findings.requests} "
                  f"read-only requests{login}.", highlight=False)
    table = Table(header_style="bold", box=box.SIMPLE_HEAD)
    for column in ("question", "answer", "evidence"):
        table.add_column(column)
    for item in findings.items:
        table.add_row(ANSWERS.get(item.key, item.key), _value(item.value), item.evidence)
    console.print(table)
    for line in report.drift:
        console.print(f"[yellow]changed since the last probe:[/] {line}", highlight=False)
    if report.facts_path is not None:
        console.print(f"Facts kept in {report.facts_path}.", highlight=False)


def _value(value: Any) -> str:
    if value is None:
        return "[yellow]unknown[/]"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items()) or "[yellow]unknown[/]"
    return str(value)
