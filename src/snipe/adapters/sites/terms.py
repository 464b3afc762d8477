"""What the driver reads from a site profile beyond the domain's `SiteProfile`: how the site
words its refusals, how long a lagging release is watched, how many browser logins run at once,
which relations to join. All of it is profile data, so a site that words things differently is
followed by editing JSON, not code.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from snipe.domain.site import SiteProfile
from snipe.errors import ConfigError

log = logging.getLogger(__name__)

# Categories a refusal is read into (see errors.refusal_error for their types).
CATEGORIES = ("not_open", "started", "full", "held", "limit_hour", "limit_location", "limit",
              "not_allowed", "not_found", "bad_login", "auth")

DEFAULT_CODES = {
    "not_open_yet": "not_open", "slot_started": "started", "full": "full",
    "limit_hour": "limit_hour", "limit_location": "limit_location", "not_found": "not_found",
    "not_allowed": "not_allowed", "invalid_credentials": "bad_login",
    "unauthorized": "auth", "token_expired": "auth",
}
# First match wins, in this order: the specific wordings before the general ones.
DEFAULT_MESSAGES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("held", ("already registered for this booking",)),
    ("not_open", ("not yet available", "not open yet", "not yet open", "booking horizon",
                  "opens for booking")),
    ("started", ("already started", "has started")),
    ("full", ("is full", "fully booked", "no places left")),
    ("limit_hour", ("booking at this time",)),
    ("limit_location", ("for this location today",)),
    ("limit", ("already registered", "already booked", "maximum number of bookings")),
    ("not_allowed", ("not allowed",)),
    ("not_found", ("not found",)),
    ("bad_login", ("invalid email or password",)),
)


@dataclass(frozen=True)
class SiteTerms:
    codes: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_CODES))
    messages: tuple[tuple[str, tuple[str, ...]], ...] = DEFAULT_MESSAGES
    watch_s: float = 300.0  # the longest a lagging release is watched after its unlock
    watch_first_gap_s: float = 0.05  # polls at the instant: 0, g, 3g, 7g (clock doubt)
    watch_max_gap_s: float = 20.0  # then from 1 s, doubling up to this
    max_parallel_logins: int = 2
    browser_idle_s: float = 20.0  # a browser with no context left closes after this
    slot_joins: tuple[str, ...] = ("linkedProduct", "product")
    booking_joins: tuple[str, ...] = ("booking",)
    booked_status: int = 1
    waitlist_status: int = 3

    def category(self, code: str, message: str) -> str | None:
        """The refusal category of a coded `code` or a human `message`, None when unknown."""
        if code and code in self.codes:
            return self.codes[code]
        folded = message.casefold()
        if not folded:
            return None
        for name, patterns in self.messages:
            if any(p.casefold() in folded for p in patterns):
                return name
        return None

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> SiteTerms:
        refusals = data.get("refusals") or {}
        fair = data.get("fair_use") or {}
        api = data.get("api") or {}
        default = cls()
        try:
            codes = {**DEFAULT_CODES, **{str(k): str(v) for k, v in
                                         (refusals.get("codes") or {}).items()}}
            messages = default.messages
            if refusals.get("messages"):
                messages = tuple((str(name), tuple(str(p) for p in patterns))
                                 for name, patterns in refusals["messages"].items())
            unknown = sorted({c for c in codes.values() if c not in CATEGORIES}
                             | {n for n, _ in messages if n not in CATEGORIES})
            if unknown:
                raise ConfigError(f"site profile {data.get('name')!r}: unknown refusal "
                                  f"categories {', '.join(unknown)} (known: {', '.join(CATEGORIES)})")
            return cls(
                codes=codes, messages=messages,
                watch_s=float(fair.get("watch_seconds", default.watch_s)),
                watch_first_gap_s=float(fair.get("watch_first_gap_seconds",
                                                 default.watch_first_gap_s)),
                watch_max_gap_s=float(fair.get("watch_max_gap_seconds", default.watch_max_gap_s)),
                max_parallel_logins=max(1, int(data.get("max_parallel_logins",
                                                        default.max_parallel_logins))),
                browser_idle_s=float(data.get("browser_idle_seconds", default.browser_idle_s)),
                slot_joins=tuple(api.get("slot_joins", default.slot_joins)),
                booking_joins=tuple(api.get("booking_joins", default.booking_joins)),
                booked_status=int(api.get("booked_status", default.booked_status)),
                waitlist_status=int(api.get("waitlist_status", default.waitlist_status)),
            )
        except (TypeError, ValueError, AttributeError) as exc:
            raise ConfigError(f"site profile {data.get('name')!r} is malformed: {exc}") from None


_CACHE: dict[str, SiteTerms] = {}


def terms_for(profile: SiteProfile) -> SiteTerms:
    """The terms of `profile`, read from its JSON (the user's own copy first); the defaults
    when the profile's file cannot be found (a profile built in code)."""
    cached = _CACHE.get(profile.name)
    if cached is not None:
        return cached
    from snipe.adapters.paths import data_dir
    from snipe.profiles import load_profile_data

    user_dir = data_dir(create=False) / "profiles"
    try:
        data = load_profile_data(profile.name, user_dir if user_dir.is_dir() else None)
    except ConfigError:
        log.debug("no profile file for %r: default site terms", profile.name)
        data = {}
    terms = SiteTerms.from_data(data)
    _CACHE[profile.name] = terms
    return terms
