"""`snipe notify`: where notifications go, and a test message to check they arrive."""

from __future__ import annotations

from typing import Annotated

import typer

from snipe.cli.app import app, ctx_of
from snipe.cli.render import print_json
from snipe.errors import PermanentError, TransientError

notify_app = typer.Typer(help="Notifications (apprise URLs): list them, send a test.",
                         no_args_is_help=True)
app.add_typer(notify_app, name="notify")


class NoNotifyUrls(PermanentError):
    """Nothing is configured, so there is nothing to test."""


class NotifyUndelivered(TransientError):
    """At least one notification URL did not take the message."""


def _settings(urls: list[str] | None):  # type: ignore[no-untyped-def]
    from snipe.adapters.notify import NotifySettings, effective_settings
    from snipe.adapters.paths import data_dir

    if urls:
        return NotifySettings(tuple(urls))
    return effective_settings(data_dir())


@notify_app.command("list")
def list_urls(
    ctx: typer.Context,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The configured notification URLs (kinds only: the rest holds tokens) and event kinds."""
    from snipe.adapters.notify import EVENT_KINDS, describe_url

    settings = _settings(None)
    shown = [describe_url(u) for u in settings.urls]
    events = list(settings.events) if settings.events is not None else list(EVENT_KINDS)
    console = ctx_of(ctx).console
    if json_out:
        print_json(console, {"urls": shown, "events": events})
        return
    if not shown:
        console.print("No notification URLs: snipe stays silent. Add `notifications.urls` to "
                      "bookings.json and run `snipe schedule`, or set SNIPE_NOTIFY_URLS.",
                      highlight=False)
        return
    for url in shown:
        console.print(url, highlight=False)
    console.print(f"events: {', '.join(events)}", highlight=False)


@notify_app.command("test")
def test(
    ctx: typer.Context,
    url: Annotated[list[str] | None, typer.Option(
        "--url", help="Send to this apprise URL instead of the configured ones (repeatable).")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Send a test message to every configured notification URL."""
    from snipe.adapters.notify import TEST, AppriseNotifier, Event

    settings = _settings(url)
    if not settings.urls:
        raise NoNotifyUrls("no notification URLs configured: add `notifications.urls` to "
                           "bookings.json and run `snipe schedule`, set SNIPE_NOTIFY_URLS, "
                           "or pass --url")
    now = ctx_of(ctx).clock().now()
    event = Event(TEST, f"Test message from snipe at {now:%Y-%m-%d %H:%M}Z: notifications "
                        "reach you here.", at=now)
    delivery = AppriseNotifier(settings).deliver(event)
    console = ctx_of(ctx).console
    if json_out:
        print_json(console, {"sent": delivery.sent, "failed": delivery.failed})
    elif delivery.sent:
        console.print(f"Test message delivered to {delivery.sent} URL(s).", highlight=False)
    if delivery.failed:
        raise NotifyUndelivered(f"test message not delivered to {', '.join(delivery.failed)} "
                                "(rerun with --debug for apprise's reason)")
