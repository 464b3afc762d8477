"""Notifications: settings (sealed), redaction, and the notifiers (apprise, silent, combined)."""

from snipe.adapters.notify.senders import (
    AppriseNotifier,
    CombinedNotifier,
    Delivery,
    Notifier,
    SilentNotifier,
    last_gasp,
    notifier_for,
    send_quietly,
)
from snipe.adapters.notify.settings import (
    ENV_URLS,
    SETTINGS_FILE,
    NotifySettings,
    check_event_kinds,
    effective_settings,
    load_notify_settings,
    save_notify_settings,
    settings_from_env,
    settings_from_file,
    settings_path,
)
from snipe.adapters.redaction import describe_url, redact, url_secrets
from snipe.domain.events import EVENT_KINDS, Event, EventKind

BOOKING_WON = EventKind.BOOKING_WON.value
BLOCK_COMPLETED = EventKind.BLOCK_COMPLETED.value
BLOCK_FAILED = EventKind.BLOCK_FAILED.value
STRIKE_MISSED = EventKind.STRIKE_MISSED.value
LOGIN_FAILING = EventKind.LOGIN_FAILING.value
DAEMON_DIED = EventKind.DAEMON_DIED.value
TEST = EventKind.TEST.value

__all__ = [
    "BLOCK_COMPLETED", "BLOCK_FAILED", "BOOKING_WON", "DAEMON_DIED", "ENV_URLS", "EVENT_KINDS",
    "LOGIN_FAILING", "SETTINGS_FILE", "STRIKE_MISSED", "TEST", "AppriseNotifier",
    "CombinedNotifier", "Delivery", "Event", "EventKind", "Notifier", "NotifySettings",
    "SilentNotifier", "check_event_kinds", "describe_url", "effective_settings", "last_gasp",
    "load_notify_settings", "notifier_for", "redact", "save_notify_settings", "send_quietly",
    "settings_from_env", "settings_from_file", "settings_path", "url_secrets",
]
