"""Site facts: what `snipe probe` (and the driver itself) found out about how a site behaves.

Kept as one small JSON file per site profile in the data dir (`site-facts/<profile>.json`,
0600). The driver reads them to skip guessing (the time convention, the booking window) but
never needs them: every fact it uses it can also learn from the answers it gets. Facts of
another base URL (a sandbox on another port) are ignored.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from snipe.adapters.paths import data_dir, ensure_private_dir, write_private
from snipe.domain.site import SiteProfile

log = logging.getLogger(__name__)

FACTS_VERSION = 1


@dataclass
class SiteFacts:
    """What is known of one site; None (or absent from a map) means "not known"."""

    site: str
    api_url: str
    probed_at: str | None = None  # ISO UTC, when a probe last ran
    listing: str | None = None  # "early" | "at_unlock" (not listed before its unlock)
    times: str | None = None  # "utc" | "local-z"
    errors: str | None = None  # "nestjs" | "coded"
    search_keys: str | None = None  # "required" | "ignored"
    joins: str | None = None  # "required" | "embedded"
    hall_field: dict[str, str] = field(default_factory=dict)  # location -> field naming the hall
    hall_booking_id: dict[str, str] = field(default_factory=dict)  # location -> present | null
    window_minutes: dict[str, int] = field(default_factory=dict)  # location -> minutes ahead
    release_lag_s: float | None = None  # the latest lag the driver saw between unlock and listing

    def to_json(self) -> dict[str, Any]:
        return {"version": FACTS_VERSION, **asdict(self)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SiteFacts:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        return cls(**values)

    def window_s(self, location: str, default_s: float) -> float:
        minutes = self.window_minutes.get(location)
        return float(minutes) * 60 if isinstance(minutes, int | float) and minutes > 0 \
            else default_s


def facts_dir() -> Path:
    return ensure_private_dir(data_dir() / "site-facts")


def facts_path(site: str, directory: Path | None = None) -> Path:
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", site)[:80] or "site"
    return (directory or facts_dir()) / f"{safe}.json"


def load_facts(profile: SiteProfile, directory: Path | None = None) -> SiteFacts | None:
    """The stored facts of `profile` (for its base URL), or None."""
    path = facts_path(profile.name, directory or data_dir(create=False) / "site-facts")
    if not path.is_file():
        return None
    try:
        facts = SiteFacts.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError) as exc:
        log.warning("site facts %s are unreadable (%s); ignoring them", path, type(exc).__name__)
        return None
    if facts.api_url.rstrip("/") != profile.api_url.rstrip("/"):
        return None
    return facts


def save_facts(facts: SiteFacts, directory: Path | None = None) -> Path:
    path = facts_path(facts.site, directory)
    write_private(path, (json.dumps(facts.to_json(), indent=2) + "\n").encode())
    return path
