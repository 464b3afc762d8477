"""Reading the site's list queries (`?s=<JSON>&join=...&sort=...&limit=...&page=...`) and finding
the slots they ask for, as the variant lists them."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, or_, select

from snipe.sandbox.refusals import Refusal
from snipe.sandbox.store import slots
from snipe.sandbox.timestamps import Timestamps

if TYPE_CHECKING:
    from starlette.datastructures import QueryParams

    from snipe.sandbox.replica import Replica

SEARCH_KEYS = ("availableFromDate", "availableTillDate")


def int_field(data: dict[str, Any], key: str) -> int:
    value = data.get(key)
    if type(value) is int:
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    raise Refusal("malformed_request", f"`{key}` must be an integer",
                  problems=[f"{key} must be an integer number"])


def search_of(params: QueryParams) -> dict[str, Any]:
    """The JSON filter `s`, `{}` when absent."""
    raw = params.get("s")
    if raw is None or raw == "":
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        raise Refusal("malformed_request", "filter `s` is not valid JSON",
                      human="Invalid search param. JSON expected") from None
    if not isinstance(value, dict):
        raise Refusal("malformed_request", "filter `s` must be a JSON object",
                      human="Invalid search param. JSON expected")
    return value


def bounds(value: Any, times: Timestamps, key: str = "startDate"
           ) -> tuple[float | None, float | None]:
    """`"ISO"` (from then on) or `{"$gte"|"$gt": ISO, "$lt"|"$lte": ISO}` as [since, until)."""
    if value is None:
        return None, None
    if isinstance(value, str):
        return times.read(value, key), None
    if not isinstance(value, dict):
        raise Refusal("malformed_request", "a time filter must be a string or an object",
                      human=f"Invalid search param {key}")
    since = until = None
    for op, operand in value.items():
        if op in ("$gte", "$gt"):
            since = times.read(operand, key)
        elif op in ("$lt", "$lte"):
            until = times.read(operand, key)
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
    raise Refusal("malformed_request", f"`{key}` must be {{\"$in\": [ids]}}",
                  human=f"Invalid search param {key}")


def require_search_keys(query: dict[str, Any], times: Timestamps) -> None:
    """The real web app always sends both `available*` keys; a site that needs them answers 400
    without them. Their meaning on the server is unknown, so only their form is checked."""
    missing = [key for key in SEARCH_KEYS if key not in query]
    if missing:
        raise Refusal("malformed_request", f"filter `s` needs {' and '.join(missing)}",
                      human=f"{' and '.join(missing)} required")
    for key in SEARCH_KEYS:
        bounds(query[key], times, key)


def _product_filters(replica: Replica, query: dict[str, Any]) -> list[Any]:
    """`bookableProductId` / `linkedProductId` filters on the fields as the variant names them."""
    where = []
    bookable = id_filter(query.get("bookableProductId"), "bookableProductId")
    linked = id_filter(query.get("linkedProductId"), "linkedProductId")
    hall, group = slots.c.sub_location.is_not(None), slots.c.sub_location.is_(None)
    if replica.variant.hall_id == "product":
        if bookable is not None:
            where.append(or_(and_(hall, slots.c.linked_product_id.in_(bookable)),
                             and_(group, slots.c.product_id.in_(bookable))))
        if linked is not None:
            where.append(and_(hall, slots.c.product_id.in_(linked)))
    else:
        if bookable is not None:
            where.append(slots.c.product_id.in_(bookable))
        if linked is not None:
            where.append(slots.c.linked_product_id.in_(linked))
    return where


def bookable_slots(replica: Replica, query: dict[str, Any]) -> list[Any]:
    """Listed, not yet started slots matching the filter, by start."""
    clock, catalogue, times, variant = (replica.clock, replica.catalogue, replica.times,
                                        replica.variant)
    if variant.search_keys == "required":
        require_search_keys(query, times)
    now = clock.now_s()
    since = bounds(query.get("startDate"), times)[0]
    end = query.get("endDate")
    until = bounds(end, times)[1] if isinstance(end, dict) else (
        times.read(end, "endDate") if end is not None else None)
    tags = id_filter(query.get("tagIds"), "tagIds")
    # A slot is listed once `listed_from(unlock)` is past: unlock_at <= now + lead.
    lead = -variant.listed_from(0.0)
    lo = max(now, since) if since is not None else now
    horizon = now + catalogue.max_window_s + max(lead, 0.0) + 1
    hi = min(horizon, until) if until is not None else horizon
    if lo >= hi:
        return []
    catalogue.ensure_days(catalogue.local_days(_utc(lo), _utc(hi)))
    where = [slots.c.unlock_at <= now + lead, slots.c.start > now, slots.c.start >= lo,
             slots.c.start < hi, *_product_filters(replica, query)]
    if tags is not None:
        where.append(slots.c.tag_id.in_(tags))
    with replica.store.transaction() as conn:
        return list(conn.execute(
            select(slots).where(*where).order_by(slots.c.start, slots.c.booking_id)
        ).all())


def descending(params: QueryParams) -> bool:
    """Whether `sort=field,DESC` asks for the latest first (lists are by start otherwise)."""
    return any(s.rsplit(",", 1)[-1].strip().upper() == "DESC" for s in params.getlist("sort"))


def _whole(params: QueryParams, key: str, least: int) -> int | None:
    raw = params.get(key)
    if raw is None or raw == "":
        return None
    if not raw.strip().isdigit() or int(raw) < least:
        raise Refusal("malformed_request", f"`{key}` must be a whole number >= {least}",
                      human=f"Invalid {key} param. Number expected")
    return int(raw)


def page_of(items: list[Any], params: QueryParams) -> dict[str, Any]:
    """`{"data": [...]}`; with `limit` or `page`, one page plus `count, total, page, pageCount`
    (as @nestjsx/crud answers a paginated list)."""
    limit, page = _whole(params, "limit", 0), _whole(params, "page", 1)
    if limit is None and page is None:
        return {"data": items}
    total = len(items)
    size = limit or total or 1
    number = page or 1
    chunk = items[(number - 1) * size:number * size]
    return {"data": chunk, "count": len(chunk), "total": total, "page": number,
            "pageCount": math.ceil(total / size) if total else 0}


def _utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)
