"""Every tunable of the daemon and the services, with its default, in one place."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Settings:
    home: Path | None = None  # the data dir (None: $SNIPE_HOME or the platform's)
    db_url: str | None = None  # --db / $SNIPE_DB (None: the data dir's SQLite file)
    debug: bool = False
    # The engine wakes at least this long before a strike (more when logins are needed).
    lead_s: float = 60.0
    # How often the daemon looks for targets added or changed by `snipe schedule`.
    poll_s: float = 5.0
    # The freed-slot monitor: seconds between polls (0: off) and requests per poll.
    monitor_interval_s: float = 45.0
    monitor_budget: int = 12
    # Releases that failed are tried again after this long, doubling up to the cap.
    release_retry_s: float = 15.0
    release_retry_max_s: float = 900.0
    # After a transient failure at an unlock, the engine tries again for this long before
    # the monitor takes over.
    retry_window_s: float = 120.0
    # `snipe daemon --once`: give up when the site cannot be reached for this long.
    once_unreachable_s: float = 120.0

    def with_(self, **changes: Any) -> Settings:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})
