"""`/api/targets` and `/api/strikes`: list, create a target from the fields of
`bookings.json` (the same validation and messages, one problem per line with its JSON path),
preview its plan with W_C scores, cancel a target or a strike."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request

from snipe.services.overview import cancel_target, list_targets
from snipe.services.queries import cancel_strike, list_strikes
from snipe.services.targets.schedule import plan_data, schedule_data
from snipe.web.api.common import now_of, services

router = APIRouter(prefix="/api", tags=["targets and strikes"])

SOURCE = "web form"
Document = Annotated[dict[str, Any], Body(
    description="A bookings document: `snipe_config` (or `snipe_configs`), optionally `site`; "
                "the same fields as bookings.json",
    examples=[{"site": {"profile": "x-tudelft"}, "snipe_config": {
        "name": "thursday X1", "target_date": "thursday", "consecutive_hours": 3,
        "time_window": {"start": "11:00", "end": "18:00"},
        "priorities": [{"rank": 1, "location": "X1", "sub_locations": ["X1 A", "X1 B"],
                        "max_accounts": 3}],
        "fallback_strategy": "accept_2_consecutive_hours"}}])]


@router.get("/targets")
def targets(request: Request, removed: bool = False) -> dict[str, Any]:
    """Targets with their state and block won, and the fields they were made from."""
    with services(request).reader() as uow:
        return {"targets": list_targets(uow, include_removed=removed)}


@router.post("/targets/plan")
def plan(request: Request, document: Document) -> dict[str, Any]:
    """What saving would plan, writing nothing (as `snipe plan FILE --json`)."""
    ctx = services(request)
    now = now_of(request)
    return plan_data(ctx.reader, document, now, SOURCE).to_dict(now)


@router.post("/targets", status_code=201)
def create(request: Request, document: Document) -> dict[str, Any]:
    """Validate, plan and save (as `snipe schedule FILE --json`); a target of the same name is
    updated, no other is touched. A running daemon picks it up within seconds."""
    ctx = services(request)
    now = now_of(request)
    result = schedule_data(ctx, document, now, SOURCE)
    return {**result.to_dict(now), "written": result.written}


@router.delete("/targets/{target_id}")
def cancel(request: Request, target_id: int) -> dict[str, Any]:
    """Stop pursuing the target: its waiting strikes are cancelled."""
    ctx = services(request)
    now = now_of(request)
    with ctx.uow() as uow:
        cancelled = cancel_target(uow, target_id)
        uow.commit()
    return {"id": target_id, "state": "removed",
            "cancelled": [v.to_dict(now) for v in cancelled]}


@router.get("/strikes")
def strikes(request: Request, state: Annotated[list[str] | None, Query()] = None,
            target: str | None = None, limit: int = 200) -> dict[str, Any]:
    """Every strike in firing order (as `snipe jobs list --json`)."""
    now = now_of(request)
    with services(request).reader() as uow:
        views = list_strikes(uow, tuple(state) if state else None, limit, target)
    return {"strikes": [v.to_dict(now) for v in views]}


@router.delete("/strikes/{strike_id}")
def cancel_one(request: Request, strike_id: int) -> dict[str, Any]:
    """Cancel a scheduled strike; it stays cancelled."""
    ctx = services(request)
    with ctx.uow() as uow:
        view = cancel_strike(uow, strike_id)
        uow.commit()
    return {"strike": view.to_dict(now_of(request))}
