"""Reading the site's JSON filters (`?s=...`) and finding the slots they ask for."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from snipe.sandbox.clock import parse_iso
from snipe.sandbox.refusals import Refusal
from snipe.sandbox.store import slots

if TYPE_CHECKING:
    from snipe.sandbox.replica import Replica


def int_field(data: dict[str, Any], key: str) -> int:
    value = data.get(key)
    if type(value) is int:
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    raise Refusal("malformed_request", f"`{key}` must be an integer")


def _instant(value: Any, key: str) -> float:
    if not isinstance(value, str):
        raise Refusal("malformed_request", f"`{key}` must be an ISO-8601 time")
    try:
        return parse_iso(value).timestamp()
    except ValueError:
        raise Refusal("malformed_request", f"`{key}` is not an ISO-8601 time: {value!r}") from None


def bounds(value: Any) -> tuple[float | None, float | None]:
    """`"ISO"` (from then on) or `{"$gte"|"$gt": ISO, "$lt"|"$lte": ISO}` as [since, until)."""
    if value is None:
        return None, None
    if isinstance(value, str):
        return _instant(value, "startDate"), None
    if not isinstance(value, dict):
        raise Refusal("malformed_request", "a time filter must be a string or an object")
    since = until = None
    for op, operand in value.items():
        if op in ("$gte", "$gt"):
            since = _instant(operand, op)
        elif op in ("$lt", "$lte"):
            until = _instant(operand, op)
    return since, until


def id_filter(value: Any, key: str) -> list[int] | None:
    """`{"$in": [ids]}`, a list of ids or one id; None when absent."""
    if value is None:
        return None
    if isinstance(value, dict):
        value = value.get("$in", value.get("$eq"))
    if type(value) is int:
        return [value]
    if isinstance(value, list) and all(type(v) is int for v in value):
        return value
    raise Refusal("malformed_request", f"`{key}` must be {{\"$in\": [ids]}}")


def bookable_slots(replica: Replica, query: dict[str, Any]) -> list[Any]:
    """Unlocked, not yet started slots matching the filter, by start."""
    clock, catalogue = replica.clock, replica.catalogue
    now = clock.now_s()
    since = bounds(query.get("startDate"))[0]
    end = query.get("endDate")
    until = bounds(end)[1] if isinstance(end, dict) else (
        _instant(end, "endDate") if end is not None else None)
    tags = id_filter(query.get("tagIds"), "tagIds")
    linked = id_filter(query.get("linkedProductId"), "linkedProductId")
    lo = max(now, since) if since is not None else now
    horizon = now + catalogue.max_window_s + 1
    hi = min(horizon, until) if until is not None else horizon
    if lo >= hi:
        return []
    catalogue.ensure_days(catalogue.local_days(_utc(lo), _utc(hi)))
    where = [slots.c.unlock_at <= now, slots.c.start > now, slots.c.start >= lo, slots.c.start < hi]
    if tags is not None:
        where.append(slots.c.tag_id.in_(tags))
    if linked is not None:
        where.append(slots.c.linked_product_id.in_(linked))
    with replica.store.transaction() as conn:
        return list(conn.execute(
            select(slots).where(*where).order_by(slots.c.start, slots.c.booking_id)
        ).all())


def _utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)
