"""The JSON API under `/api/`: every answer has the shape of the matching CLI command's
`--json`, built by the same `to_dict`s."""

from __future__ import annotations

from fastapi import APIRouter


def routers() -> list[APIRouter]:
    from snipe.web.api import accounts, bookings, reports, slots, targets

    return [reports.session_router, accounts.router, bookings.router, slots.router,
            targets.router, reports.router]
