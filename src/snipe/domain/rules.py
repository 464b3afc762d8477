"""The per-account allowances of a site: per calendar day, one booking per hour and one per location."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from snipe.domain.site import AccountRules


@dataclass(frozen=True)
class Holding:
    """A booking an account holds (or is about to hold): local day and hour, location."""

    account: str
    day: date
    hour: int
    location: str


@dataclass(frozen=True)
class Refusal:
    rule: str  # "hour" or "location"
    message: str


class Allowances:
    """What each account may still book, given what it holds. Pure and cheap to copy."""

    def __init__(self, rules: AccountRules, holdings: Iterable[Holding] = ()) -> None:
        self.rules = rules
        self._held: list[Holding] = list(holdings)

    def copy(self) -> Allowances:
        return Allowances(self.rules, self._held)

    @property
    def holdings(self) -> tuple[Holding, ...]:
        return tuple(self._held)

    def refusal(self, account: str, day: date, hour: int, location: str) -> Refusal | None:
        same_day = [h for h in self._held if h.account == account and h.day == day]
        in_hour = sum(1 for h in same_day if h.hour == hour)
        if in_hour >= self.rules.max_bookings_per_hour_per_day:
            return Refusal("hour", f"{account} already holds a booking at {hour:02d}:00 on {day}")
        at_location = sum(1 for h in same_day if h.location == location)
        if at_location >= self.rules.max_bookings_per_location_per_day:
            return Refusal("location", f"{account} already holds a {location} booking on {day}")
        return None

    def allows(self, account: str, day: date, hour: int, location: str) -> bool:
        return self.refusal(account, day, hour, location) is None

    def take(self, holding: Holding) -> None:
        refusal = self.refusal(holding.account, holding.day, holding.hour, holding.location)
        if refusal is not None:
            raise ValueError(refusal.message)
        self._held.append(holding)

    def release(self, holding: Holding) -> None:
        if self.rules.cancel_restores_allowance:
            self._held.remove(holding)
