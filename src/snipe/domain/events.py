"""What snipe tells the user about (notifications, the web dashboard's live stream)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class EventKind(StrEnum):
    BOOKING_WON = "booking_won"
    BLOCK_COMPLETED = "block_completed"
    BLOCK_FAILED = "block_failed"
    STRIKE_MISSED = "strike_missed"
    LOGIN_FAILING = "login_failing"
    RELEASE_OWED = "release_owed"  # a booking we must give back could not be cancelled yet
    SITE_CHANGED = "site_changed"  # the site's behaviour differs from what was last seen
    DAEMON_DIED = "daemon_died"
    TEST = "test"


EVENT_KINDS = tuple(k.value for k in EventKind)

TITLES = {
    EventKind.BOOKING_WON: "snipe: booking won",
    EventKind.BLOCK_COMPLETED: "snipe: block completed",
    EventKind.BLOCK_FAILED: "snipe: block failed",
    EventKind.STRIKE_MISSED: "snipe: strike missed",
    EventKind.LOGIN_FAILING: "snipe: login failing",
    EventKind.RELEASE_OWED: "snipe: a release is owed",
    EventKind.SITE_CHANGED: "snipe: the site changed",
    EventKind.DAEMON_DIED: "snipe: daemon stopped on an error",
    EventKind.TEST: "snipe: test notification",
}
# A failure should look like one in the user's app (apprise's notify types).
SEVERITY = {
    EventKind.BOOKING_WON: "success", EventKind.BLOCK_COMPLETED: "success",
    EventKind.BLOCK_FAILED: "failure", EventKind.STRIKE_MISSED: "warning",
    EventKind.LOGIN_FAILING: "failure", EventKind.RELEASE_OWED: "warning",
    EventKind.SITE_CHANGED: "warning", EventKind.DAEMON_DIED: "failure",
    EventKind.TEST: "info",
}


@dataclass(frozen=True)
class Event:
    """Something worth telling the user; `message` is plain text of a line or two."""

    kind: str
    message: str
    at: datetime | None = None
    target: str | None = None
    account: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in EVENT_KINDS:
            raise ValueError(f"unknown event kind {self.kind!r} (known: {', '.join(EVENT_KINDS)})")

    @property
    def title(self) -> str:
        return TITLES[EventKind(self.kind)]

    @property
    def severity(self) -> str:
        return SEVERITY[EventKind(self.kind)]
