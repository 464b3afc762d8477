"""`snipe probe`: find out, with a handful of read-only requests, how a site behaves.

Anonymous by default (the slot list and products need no token): the window of each location
(`GET /products/{id}`), whether slots are listed before they unlock, whether hall slots carry a
`bookingId`, which field names the sub-hall, how times are written, whether the search keys and
joins are needed, and how errors are written. With an account it also reads that account's
bookings with and without `join=booking`. Every answer comes with its evidence; the findings are
kept as the site's facts (`facts.py`), which the driver reads, and compared with the previous
run to warn when the site changed.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from snipe.adapters.clock import Clock, SystemClock
from snipe.adapters.sites.base import Credentials
from snipe.adapters.sites.budget import RequestBudget, charging
from snipe.adapters.sites.clock import parse_date_header
from snipe.adapters.sites.facts import SiteFacts
from snipe.adapters.sites.http import ApiClient
from snipe.adapters.sites.probe_reading import Answer, Finding, Reading, read_findings
from snipe.adapters.sites.queries import slot_search, with_joins
from snipe.adapters.sites.recording import Recorder
from snipe.adapters.sites.times import UTC_TIMES, Timebase
from snipe.domain.site import Location, SiteProfile
from snipe.errors import SnipeError

__all__ = ["Answer", "Finding", "Findings", "ProbeFailed", "probe"]

log = logging.getLogger(__name__)

FACT_KEYS = ("listing", "times", "errors", "search_keys", "joins", "hall_field",
             "hall_booking_id", "window_minutes")
WEB_JOINS = ("linkedProduct", "product", "booking")


@dataclass
class Findings:
    site: str
    api_url: str
    probed_at: str
    requests: int = 0
    items: list[Finding] = field(default_factory=list)
    account: str | None = None
    logins: int = 0  # logins the account's reading needed (not among `requests`)

    def get(self, key: str) -> Any:
        return next((f.value for f in self.items if f.key == key), None)

    def to_json(self) -> dict[str, Any]:
        return {"site": self.site, "api_url": self.api_url, "probed_at": self.probed_at,
                "requests": self.requests, "account": self.account, "logins": self.logins,
                "findings": {f.key: f.to_json() for f in self.items}}

    def summary(self) -> str:
        """The answers that decide how a strike is made, in one line."""
        parts = [f"listing {self.get('listing') or 'unknown'}",
                 f"errors {self.get('errors') or 'unknown'}"]
        for key, label in (("hall_field", "hall id"), ("hall_booking_id", "hall bookingId")):
            value = self.get(key)
            if isinstance(value, dict) and value:
                parts.append(f"{label} " + ", ".join(f"{k} {v}" for k, v in value.items()))
        parts.append(f"{self.requests} requests")
        return ", ".join(parts)

    def facts(self, previous: SiteFacts | None = None) -> SiteFacts:
        """These findings as site facts (what was learnt before and not probed is kept)."""
        facts = SiteFacts(self.site, self.api_url, probed_at=self.probed_at)
        if previous is not None:
            facts.release_lag_s = previous.release_lag_s
        for key in FACT_KEYS:
            value = self.get(key)
            if key == "listing" and value not in ("early", "at_unlock"):
                value = None  # "lagging" is a moment's observation, not the listing mode
            if value not in (None, {}, "unknown"):
                setattr(facts, key, value)
        return facts

    def diff(self, previous: SiteFacts | Findings | None) -> list[str]:
        """One line per fact that changed since `previous` (drift warnings)."""
        if previous is None:
            return []
        before = previous.facts() if isinstance(previous, Findings) else previous
        now = self.facts()
        lines = []
        for key in FACT_KEYS:
            old, new = getattr(before, key), getattr(now, key)
            if isinstance(old, dict) and isinstance(new, dict):
                for name in sorted(set(old) | set(new)):
                    if name in old and name in new and old[name] != new[name]:
                        lines.append(f"{key} of {name} changed from {old[name]} to {new[name]}")
            elif old is not None and new is not None and old != new:
                lines.append(f"{key} changed from {old} to {new}")
        return lines


class ProbeFailed(SnipeError):
    """The site could not be probed (unreachable, or not answering like a Delcom site)."""


class Prober:
    """Sends the probe's requests through one anonymous client, counting and recording."""

    def __init__(self, profile: SiteProfile, api: ApiClient, recorder: Recorder | None,
                 clock: Clock) -> None:
        self.profile = profile
        self.api = api
        self.recorder = recorder
        self.clock = clock
        self.sent = 0
        self.site_now: datetime | None = None

    async def get(self, name: str, path: str, query: list[tuple[str, str]] | None = None,
                  headers: dict[str, str] | None = None) -> Answer:
        request = self.api.build("GET", path, params=query or [], headers=headers or {})
        self.sent += 1
        response = await self.api.send(request, f"probe {name}")
        if self.recorder is not None:
            self.recorder.save(name, response)
        try:
            data = response.json()
        except ValueError:
            data = None
        second = parse_date_header(response.headers.get("date"))
        date = datetime.fromtimestamp(second, UTC) if second is not None else None
        if self.site_now is None and date is not None:
            self.site_now = date
        return Answer(response.status_code, data, response.text[:300], date)

    def now(self) -> datetime:
        return self.site_now or self.clock.now()

    async def slots(self, name: str, locations: list[Location], since: datetime,
                    until: datetime, keys: bool = True, joins: tuple[str, ...] = WEB_JOINS
                    ) -> Answer:
        search = slot_search(locations[0], since, until, self.now(),
                             Timebase(UTC_TIMES, self.profile.tz))
        search["tagIds"] = {"$in": [loc.tag_id for loc in locations]}
        if not keys:
            search.pop("availableFromDate")
            search.pop("availableTillDate")
        return await self.get(name, "bookable-slots", with_joins(search, joins))


async def probe(profile: SiteProfile, *, transport: httpx.AsyncBaseTransport | None = None,
                record: Path | None = None, creds: Credentials | None = None,
                driver: Any = None, timeout_s: float = 10.0, clock: Clock | None = None
                ) -> Findings:
    """Probe `profile`'s site (read-only; an account's bookings only with `creds` and the
    `driver` that logs it in). Raises `ProbeFailed` (or a site error) when it cannot."""
    recorder = Recorder(record) if record is not None else None
    budget = RequestBudget(profile.max_requests_per_unlock_per_account, "probe")
    api = ApiClient(profile, timeout_s=timeout_s, transport=transport)
    prober = Prober(profile, api, recorder, clock or SystemClock())
    logins = getattr(driver, "logins", 0)
    try:
        with charging(budget):
            reading = await _read_site(prober)
            if creds is not None and driver is not None:
                reading.bookings = await _read_bookings(prober, driver, creds)
    finally:
        await api.close()
    return Findings(profile.name, profile.api_url,
                    prober.now().isoformat().replace("+00:00", "Z"), prober.sent,
                    read_findings(profile, reading), creds.account if creds else None,
                    getattr(driver, "logins", 0) - logins)


async def _read_site(prober: Prober) -> Reading:
    profile = prober.profile
    reading = Reading(prober.now())
    for loc in profile.locations:
        if loc.product_id is not None:
            reading.products[loc.name] = await prober.get(f"product {loc.name}",
                                                          f"products/{loc.product_id}")
    now = prober.now()
    reading.now = now
    groups: dict[float, list[Location]] = {}
    for loc in profile.locations:
        if loc.bookable:
            minutes = _window_minutes(reading.products.get(loc.name), loc)
            groups.setdefault(minutes, []).append(loc)
    for minutes, locs in sorted(groups.items()):
        edge = now + timedelta(minutes=minutes)
        answer = await prober.slots(f"slots {'+'.join(loc.name for loc in locs)}", locs,
                                    edge - timedelta(hours=30), edge + timedelta(hours=30))
        if answer.status != 200 or not isinstance(answer.data, dict):
            raise ProbeFailed(f"cannot read the slot list at {profile.api_url}: status "
                              f"{answer.status}, {_gist(answer)}")
        reading.lists.append((locs, answer))
    halls = [loc for loc in profile.locations if loc.bookable and loc.sub_locations]
    first = halls or [loc for loc in profile.locations if loc.bookable]
    edge = now + timedelta(minutes=_window_minutes(reading.products.get(first[0].name), first[0]))
    narrow = (edge - timedelta(hours=4), edge + timedelta(hours=2))
    reading.without_keys = await prober.slots("slots without search keys", first[:1], *narrow,
                                              keys=False)
    reading.without_joins = await prober.slots("slots without joins", first[:1], *narrow,
                                                joins=())
    if reading.without_keys.status == 200 or not isinstance(reading.without_keys.data, dict):
        reading.error = await prober.get("unknown product", "products/0")
    else:
        reading.error = reading.without_keys
    return reading


async def _read_bookings(prober: Prober, driver: Any, creds: Credentials) -> tuple[Answer, Answer]:
    session = await driver.session(creds)
    since = prober.now() - timedelta(days=1)
    search = {"$or": [{"memberId": session.member_id}, {"invitedMemberId": session.member_id}],
              "booking.startDate": {"$gte": Timebase(UTC_TIMES, prober.profile.tz).write(since)}}
    headers = {"Authorization": f"Bearer {session.token.reveal()}"}
    plain = await prober.get("bookings without join", "participations",
                             [("s", json.dumps(search))], headers)
    joined = await prober.get("bookings with join", "participations",
                              [("s", json.dumps(search)), ("join", "booking")], headers)
    return plain, joined


def _window_minutes(answer: Answer | None, loc: Location) -> float:
    if answer is not None and isinstance(answer.data, dict):
        value = answer.data.get("bookableSlotsMinutesAhead")
        if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
            return float(value)
    return loc.window_hours * 60.0


def _gist(answer: Answer) -> str:
    if isinstance(answer.data, dict):
        return json.dumps(answer.data)[:160]
    return f"not JSON ({answer.text[:80]!r})"


@dataclass
class ProbeReport:
    """A probe's findings, where they were kept as facts, and what changed since the last."""

    findings: Findings
    facts_path: Path | None = None
    drift: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {**self.findings.to_json(),
                "facts_file": str(self.facts_path) if self.facts_path else None,
                "drift": self.drift}


async def probe_and_keep(profile: SiteProfile, *, keep: bool = True, **options: Any
                         ) -> ProbeReport:
    """Probe the site, compare with its stored facts, and store the new ones (0600): what
    `snipe probe`, the doctor and the daemon's daily check run."""
    from snipe.adapters.sites.facts import load_facts, save_facts

    previous = load_facts(profile)
    findings = await probe(profile, **options)
    report = ProbeReport(findings, drift=findings.diff(previous))
    if keep:
        report.facts_path = save_facts(findings.facts(previous))
    return report
