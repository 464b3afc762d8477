"""Rendering shared by commands: strike tables, countdowns, JSON output."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from rich import box
from rich.console import Console
from rich.table import Table

from snipe.services.queries import BookingView, StrikeView, TargetView

STATE_STYLE = {
    "scheduled": "cyan", "planned": "cyan", "running": "bold yellow", "won": "bold green",
    "done": "green", "failed": "red", "missed": "red", "cancelled": "dim", "open now": "yellow",
    "released": "dim", "skipped": "dim", "active": "cyan", "removed": "dim",
}


def print_json(console: Console, data: Any) -> None:
    console.file.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def countdown(seconds: float) -> str:
    if seconds < 1:
        return "now"
    minutes, sec = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"in {days}d {hours}h {minutes:02d}m"
    if hours:
        return f"in {hours}h {minutes:02d}m"
    return f"in {minutes}m {sec:02d}s"


def strikes_table(strikes: Iterable[StrikeView], now: datetime, title: str | None = None,
                  target_column: bool = False) -> Table:
    """Strikes in firing order; `now` is the site's (countdowns are by its clock)."""
    table = Table(title=title, title_justify="left", header_style="bold", box=box.SIMPLE_HEAD)
    table.add_column("id", justify="right")
    if target_column:
        table.add_column("target")
    table.add_column("fires local (UTC)", no_wrap=True)
    table.add_column("countdown", no_wrap=True)
    table.add_column("slot", no_wrap=True)
    table.add_column("where")
    table.add_column("accounts")
    table.add_column("state")
    for s in strikes:
        tz = ZoneInfo(s.timezone)
        local = s.fire_at.astimezone(tz)
        slot = s.slot_start.astimezone(tz)
        where = f"#{s.rank} {s.location}" + (
            f" ({', '.join(n.removeprefix(s.location).strip() for n in s.sub_locations)})"
            if s.sub_locations else ""
        )
        style = STATE_STYLE.get(s.state, "")
        waiting = s.state in {"scheduled", "planned", "open now"}
        table.add_row(
            "-" if s.id is None else str(s.id),
            *([s.target] if target_column else []),
            f"{local:%a %d/%m %H:%M} ({s.fire_at.astimezone(UTC):%H:%MZ})",
            countdown(s.countdown_s(now)) if waiting else "",
            f"{slot:%a %d/%m %H:%M}",
            where,
            ",".join(s.accounts) or "[red]none[/]",
            f"[{style}]{s.state}[/]" if style else s.state,
        )
    return table


def bookings_table(bookings: Iterable[BookingView], title: str | None = None) -> Table:
    table = Table(title=title, title_justify="left", header_style="bold", box=box.SIMPLE_HEAD)
    for column in ("id", "slot", "location", "account", "status", "target", "reference"):
        table.add_column(column)
    for b in bookings:
        slot = b.slot_start.astimezone(ZoneInfo(b.timezone))
        where = b.sub_location or b.location
        table.add_row(str(b.id), f"{slot:%a %d %b %H:%M}", where, b.account,
                      f"[{STATE_STYLE.get(b.status, '')}]{b.status}[/]" if b.status in STATE_STYLE
                      else b.status, b.target or "", b.reference or "")
    return table


def targets_table(targets: Iterable[TargetView], title: str | None = None) -> Table:
    table = Table(title=title, title_justify="left", header_style="bold", box=box.SIMPLE_HEAD)
    for column in ("id", "target", "state", "block"):
        table.add_column(column)
    for t in targets:
        style = STATE_STYLE.get(t.state, "")
        table.add_row(str(t.id), t.name, f"[{style}]{t.state}[/]" if style else t.state,
                      t.block or "")
    return table


def warn(console: Console, messages: Iterable[str]) -> None:
    for message in messages:
        console.print(f"[bold yellow]warning:[/] {message}", highlight=False, soft_wrap=True)
