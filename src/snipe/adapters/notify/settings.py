"""Where notifications go: apprise URLs (they hold tokens, so they are kept sealed) and the
event kinds wanted; from bookings.json, from `SNIPE_NOTIFY_URLS`, or both."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from snipe.adapters.paths import data_dir, write_private
from snipe.domain.events import EVENT_KINDS, EventKind
from snipe.errors import ConfigError

ENV_URLS = "SNIPE_NOTIFY_URLS"
SETTINGS_FILE = "notify.sealed"
TEST = EventKind.TEST.value


@dataclass(frozen=True)
class NotifySettings:
    """Where notifications go and which kinds; `events` None means every kind."""

    urls: tuple[str, ...] = ()
    events: tuple[str, ...] | None = None

    def __repr__(self) -> str:  # the URLs carry tokens
        return f"NotifySettings(urls={len(self.urls)}, events={self.events})"

    def wants(self, kind: str) -> bool:
        return kind == TEST or self.events is None or kind in self.events

    def merged(self, other: NotifySettings) -> NotifySettings:
        urls = tuple(dict.fromkeys((*self.urls, *other.urls)))
        events = self.events if other.events is None else other.events
        return NotifySettings(urls, events)

    def to_dict(self) -> dict[str, Any]:
        return {"urls": list(self.urls), "events": None if self.events is None
                else list(self.events)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> NotifySettings:
        events = data.get("events")
        return cls(tuple(data.get("urls") or ()), None if events is None else tuple(events))


def check_event_kinds(kinds: Iterable[str]) -> list[str]:
    """The kinds as given, or ValueError naming the unknown ones."""
    kinds = list(kinds)
    unknown = [k for k in kinds if k not in EVENT_KINDS]
    if unknown:
        raise ValueError(f"unknown notification event(s) {', '.join(map(repr, unknown))} "
                         f"(known: {', '.join(EVENT_KINDS)})")
    return kinds


def settings_from_file(section: Any) -> NotifySettings:
    """From bookings.json's `notifications` section (a `NotificationsIn`, or None)."""
    if section is None:
        return NotifySettings()
    events = getattr(section, "events", None)
    return NotifySettings(tuple(section.urls), None if events is None else tuple(events))


def settings_from_env(environ: Mapping[str, str] | None = None) -> NotifySettings:
    raw = (os.environ if environ is None else environ).get(ENV_URLS, "")
    return NotifySettings(tuple(u.strip() for u in raw.split(",") if u.strip()))


def settings_path(home: Path | None) -> Path:
    return (home or data_dir()) / SETTINGS_FILE


def save_notify_settings(home: Path | None, settings: NotifySettings) -> Path:
    """Persist `settings` sealed with the vault (the URLs hold tokens), 0600 in the data dir."""
    from snipe.adapters.secrets import Vault

    path = settings_path(home)
    write_private(path, Vault.load(home).seal(json.dumps(settings.to_dict())))
    return path


def load_notify_settings(home: Path | None) -> NotifySettings:
    """The saved settings, or the silent default when none were saved."""
    from snipe.adapters.secrets import Vault

    path = settings_path(home)
    if not path.is_file():
        return NotifySettings()
    try:
        data = json.loads(Vault.load(home, create=False).open_sealed(path.read_bytes()))
        return NotifySettings.from_dict(data)
    except (ValueError, TypeError, AttributeError) as exc:
        raise ConfigError(f"{path} is not readable notification settings "
                          f"({type(exc).__name__}); run `snipe schedule` again") from None


def effective_settings(home: Path | None = None,
                       environ: Mapping[str, str] | None = None) -> NotifySettings:
    """Saved settings plus `SNIPE_NOTIFY_URLS` (for a daemon started without a bookings file)."""
    return load_notify_settings(home).merged(settings_from_env(environ))
