"""Retention: the daemon forgets old attempts, failure artifacts, saved sessions and stale slot
lists once a day, so a home server's disk never fills with what nobody will read again.

Bookings themselves are never deleted here: they are the record of what the user holds.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from snipe.errors import ConfigError
from snipe.services.context import Context

log = logging.getLogger(__name__)
ENV_PREFIX = "SNIPE_KEEP_"  # e.g. SNIPE_KEEP_LOG_DAYS=180


@dataclass(frozen=True)
class RetentionPolicy:
    """How many days each kind of leftover is kept; 0 keeps it forever."""

    log_days: int = 180  # booking_log rows (attempts, releases) feed `snipe stats`
    artifacts_days: int = 14  # screenshots and bodies saved when the site surprised us
    sessions_days: int = 7  # saved logins; a token lives 24 h, an unused file is dead weight
    availability_days: int = 2  # slot-list cache rows of days already past

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, int) or value < 0:
                raise ConfigError(f"retention {f.name} must be a whole number of days >= 0 "
                                  f"(got {value!r})")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> RetentionPolicy:
        """Defaults, overridden by `SNIPE_KEEP_LOG_DAYS`, `SNIPE_KEEP_ARTIFACTS_DAYS`, ..."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            name = ENV_PREFIX + f.name.upper()
            if name in env:
                try:
                    values[f.name] = int(env[name])
                except ValueError:
                    raise ConfigError(f"{name}={env[name]!r} is not a whole number of days"
                                      ) from None
        return cls(**values)


@dataclass
class HousekeepingReport:
    logs_deleted: int = 0
    artifacts_deleted: int = 0
    sessions_deleted: int = 0
    availability_deleted: int = 0
    errors: list[str] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _older_than(path: Path, cutoff: datetime) -> bool:
    return path.stat().st_mtime < cutoff.timestamp()


def _sweep(folder: Path, cutoff: datetime, pattern: str, report: HousekeepingReport) -> int:
    """Delete entries of `folder` (files or whole artifact folders) last changed before
    `cutoff`; returns how many went."""
    if not folder.is_dir():
        return 0
    gone = 0
    for entry in folder.glob(pattern):
        try:
            if entry.is_symlink() or not _older_than(entry, cutoff):
                continue  # never follow a link out of our data dir
            if entry.is_dir():
                shutil.rmtree(entry)
            else:
                entry.unlink()
            gone += 1
        except OSError as exc:
            report.errors = (report.errors or []) + [f"{entry.name}: {exc.strerror or exc}"]
    return gone


def housekeep(ctx: Context, now: datetime, policy: RetentionPolicy | None = None, *,
              artifacts: Path | None = None, sessions: Path | None = None) -> HousekeepingReport:
    """Apply `policy` as of `now`. Folders default to the data dir's `artifacts/`, `sessions/`."""
    policy = policy or RetentionPolicy()
    report = HousekeepingReport()
    home = ctx.settings.home
    with ctx.uow() as uow:
        if policy.log_days:
            report.logs_deleted = uow.attempts.forget_before(
                now - timedelta(days=policy.log_days))
        if policy.availability_days:
            report.availability_deleted = uow.slots.forget_before(
                (now - timedelta(days=policy.availability_days)).date())
        uow.commit()
    if policy.artifacts_days and (artifacts or home):
        report.artifacts_deleted = _sweep(artifacts or home / "artifacts",  # type: ignore[operator]
                                          now - timedelta(days=policy.artifacts_days), "*", report)
    if policy.sessions_days and (sessions or home):
        report.sessions_deleted = _sweep(sessions or home / "sessions",  # type: ignore[operator]
                                         now - timedelta(days=policy.sessions_days), "*.session",
                                         report)
    log.info("housekeeping: %s", report.to_dict())
    return report
