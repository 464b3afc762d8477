"""One request budget per account per unlock: the fair-use bound, counted where requests leave.

Every request an account makes for one unlock (slot lookups, the booking, the "did it land?"
check, a page reload) spends one unit of its `RequestBudget`. The budget is carried by a context
variable, so the API client charges it in its one `send()` whatever part of the driver built the
request, and a request made for another purpose (a reconciliation running beside the strike)
is not charged to it. Exhausting the budget raises `BudgetExhausted` before the request leaves.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field

from snipe.errors import PermanentError


class BudgetExhausted(PermanentError):
    """The account used every request its fair-use budget allows for this unlock.

    `last_error` is what the last request met (a slot still absent, a 429, ...), when known.
    """

    def __init__(self, message: str, *, limit: int, last_error: Exception | None = None) -> None:
        super().__init__(message)
        self.limit = limit
        self.last_error = last_error


@dataclass
class RequestBudget:
    """At most `limit` requests; `spent` lists what each one was for."""

    limit: int
    account: str = ""
    spent: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.limit < 1:
            raise ValueError(f"a request budget needs at least one request, not {self.limit}")

    @property
    def used(self) -> int:
        return len(self.spent)

    @property
    def left(self) -> int:
        return self.limit - self.used

    def charge(self, what: str) -> None:
        """Count one request for `what`; `BudgetExhausted` when none is left."""
        if self.left <= 0:
            who = f" of {self.account}" if self.account else ""
            raise BudgetExhausted(
                f"the request budget{who} for this unlock is used up ({self.limit} requests: "
                f"{_summary(self.spent)}); not sending the {what}", limit=self.limit)
        self.spent.append(what)

    def count(self, what: str) -> int:
        return sum(1 for s in self.spent if s == what)


def _summary(spent: list[str]) -> str:
    counts: dict[str, int] = {}
    for what in spent:
        counts[what] = counts.get(what, 0) + 1
    return ", ".join(f"{n} {what}" for what, n in counts.items())


_CURRENT: ContextVar[RequestBudget | None] = ContextVar("snipe_request_budget", default=None)


def current_budget() -> RequestBudget | None:
    return _CURRENT.get()


@contextlib.contextmanager
def charging(budget: RequestBudget | None) -> Iterator[RequestBudget | None]:
    """Charge every request sent in this context (and the tasks it starts) to `budget`."""
    token = _CURRENT.set(budget)
    try:
        yield budget
    finally:
        _CURRENT.reset(token)


def charge(what: str) -> None:
    """Charge the current budget, if any (requests outside a strike are not counted)."""
    budget = _CURRENT.get()
    if budget is not None:
        budget.charge(what)
