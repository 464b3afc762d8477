"""What every route needs: the services' context of the app, our clock, dates from a query."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from fastapi import Request

from snipe.errors import PermanentError
from snipe.services.context import Context


class BadQuery(PermanentError):
    """A query parameter that does not parse."""


def services(request: Request) -> Context:
    return request.app.state.ctx


def now_of(request: Request) -> datetime:
    return services(request).clock.now()


def parse_day(text: str | None, name: str) -> date | None:
    if text is None or text == "":
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadQuery(f"{name} must be a date like 2026-12-03, not {text!r}") from None


def local_midnight(day: date, tz: Any) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=tz)


def day_range(first: date | None, last: date | None, tz: Any
              ) -> tuple[datetime | None, datetime | None]:
    """`--from`/`--to` as the CLI reads them: from local midnight of the first day to the end
    of the last."""
    since = local_midnight(first, tz) if first else None
    until = local_midnight(last, tz) + timedelta(days=1) if last else None
    return since, until
