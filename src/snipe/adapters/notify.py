"""Telling the user what happened, where they want to hear it (email, Telegram, ntfy, ... by
apprise URL). Silent by default; every message is short plain text with secrets redacted.

Delivery failures are logged and swallowed: a notification must never take down a strike.
"""

from __future__ import annotations

import json
import logging
import os
import re
import traceback
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

from snipe.adapters.paths import data_dir, write_private
from snipe.errors import ConfigError

log = logging.getLogger(__name__)

ENV_URLS = "SNIPE_NOTIFY_URLS"
SETTINGS_FILE = "notify.sealed"

BOOKING_WON = "booking_won"
BLOCK_COMPLETED = "block_completed"
BLOCK_FAILED = "block_failed"
STRIKE_MISSED = "strike_missed"
LOGIN_FAILING = "login_failing"
DAEMON_DIED = "daemon_died"
TEST = "test"
EVENT_KINDS = (BOOKING_WON, BLOCK_COMPLETED, BLOCK_FAILED, STRIKE_MISSED, LOGIN_FAILING,
               DAEMON_DIED, TEST)

TITLES = {
    BOOKING_WON: "snipe: booking won",
    BLOCK_COMPLETED: "snipe: block completed",
    BLOCK_FAILED: "snipe: block failed",
    STRIKE_MISSED: "snipe: strike missed",
    LOGIN_FAILING: "snipe: login failing",
    DAEMON_DIED: "snipe: daemon stopped on an error",
    TEST: "snipe: test notification",
}
# apprise's notify types: a failure should look like one in the user's app.
SEVERITY = {BOOKING_WON: "success", BLOCK_COMPLETED: "success", BLOCK_FAILED: "failure",
            STRIKE_MISSED: "warning", LOGIN_FAILING: "failure", DAEMON_DIED: "failure",
            TEST: "info"}
MAX_BODY = 900  # chat services cut long messages; ours stay short


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
        return TITLES[self.kind]


# -- redaction -------------------------------------------------------------------------------

_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)[^/\s@]+@")
_BEARER = re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]{6,}")
_ASSIGNED = re.compile(
    r"(?i)\b(password|passwd|pwd|token|access_token|secret|api_?key|apikey)(\s*[=:]\s*)"
    r"(\"[^\"]*\"|'[^']*'|[^\s,;&]+)")
MIN_SECRET = 4  # shorter fragments would blank out ordinary words
TOKEN_LIKE = 8  # host or path pieces this long may be tokens (bot tokens, topics, keys)
PLAIN_HOSTS = {"localhost", "127.0.0.1"}


def url_secrets(url: str) -> list[str]:
    """The parts of a notification URL that may be credentials: user and password, and the
    token-like host or path segments (tgram://TOKEN/CHAT, discord://ID/TOKEN, ...)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return [url]
    found = [s for s in (parts.username, parts.password) if s and len(s) >= MIN_SECRET]
    pieces = [parts.hostname or "", *(unquote(s) for s in parts.path.split("/")),
              *(v for _, _, v in (q.partition("=") for q in parts.query.split("&")))]
    found += [s for s in pieces if len(s) >= TOKEN_LIKE and s not in PLAIN_HOSTS]
    return found


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` without the given secrets, URL credentials, bearer tokens or `password=...`."""
    for secret in sorted({s for s in secrets if s and len(s) >= MIN_SECRET}, key=len,
                         reverse=True):
        text = text.replace(secret, "***")
    text = _USERINFO.sub(r"\g<scheme>***@", text)
    text = _BEARER.sub(r"\1 ***", text)
    return _ASSIGNED.sub(r"\1\2***", text)


def describe_url(url: str) -> str:
    """How a notification URL is shown to the user: its kind only (`tgram://***`)."""
    scheme = url.split("://", 1)[0] if "://" in url else "?"
    return f"{scheme}://***"


# -- settings --------------------------------------------------------------------------------

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


def _settings_path(home: Path | None) -> Path:
    return (home or data_dir()) / SETTINGS_FILE


def save_notify_settings(home: Path | None, settings: NotifySettings) -> Path:
    """Persist `settings` sealed with the vault (the URLs hold tokens), 0600 in the data dir."""
    from snipe.adapters.secrets import Vault

    path = _settings_path(home)
    write_private(path, Vault.load(home).seal(json.dumps(settings.to_dict())))
    return path


def load_notify_settings(home: Path | None) -> NotifySettings:
    """The saved settings, or the silent default when none were saved."""
    from snipe.adapters.secrets import Vault

    path = _settings_path(home)
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


# -- notifiers -------------------------------------------------------------------------------

class Notifier(Protocol):
    def send(self, event: Event) -> None: ...


class SilentNotifier:
    """The default: nothing configured, nothing sent."""

    def send(self, event: Event) -> None:
        log.debug("not notifying %s (no notification URL)", event.kind)


@dataclass
class Delivery:
    """What one send achieved (used by `snipe notify test`)."""

    sent: int = 0
    failed: list[str] = field(default_factory=list)  # described (redacted) URLs

    @property
    def ok(self) -> bool:
        return self.sent > 0 and not self.failed


class AppriseNotifier:
    """Sends through apprise to each configured URL; logs (never raises) delivery failures."""

    def __init__(self, settings: NotifySettings, secrets: Iterable[str] = (),
                 timeout_s: float = 8.0) -> None:
        self.settings = settings
        self.timeout_s = timeout_s
        self._secrets = [s for url in settings.urls for s in url_secrets(url)] + list(secrets)

    def __repr__(self) -> str:
        return f"AppriseNotifier({len(self.settings.urls)} url(s))"

    def add_secrets(self, secrets: Iterable[str]) -> None:
        """More strings never to send (e.g. account passwords the caller knows)."""
        self._secrets.extend(secrets)

    def render(self, event: Event) -> tuple[str, str]:
        body = event.message
        if event.target and event.target not in body:
            body = f"{event.target}: {body}"
        body = redact(body, self._secrets)
        if len(body) > MAX_BODY:
            body = body[: MAX_BODY - 1] + "…"
        return event.title, body

    def send(self, event: Event) -> None:
        self.deliver(event)

    def deliver(self, event: Event) -> Delivery:
        delivery = Delivery()
        if not self.settings.wants(event.kind) or not self.settings.urls:
            return delivery
        title, body = self.render(event)
        for url in self.settings.urls:
            try:
                ok = self._deliver_one(url, title, body, SEVERITY[event.kind])
            except Exception as exc:  # a broken plugin must not break the caller
                log.warning("notification to %s raised %s", describe_url(url), type(exc).__name__)
                ok = False
            if ok:
                delivery.sent += 1
            else:
                delivery.failed.append(describe_url(url))
                log.warning("notification %s to %s was not delivered", event.kind,
                            describe_url(url))
        return delivery

    def _deliver_one(self, url: str, title: str, body: str, severity: str) -> bool:
        import apprise

        sender = apprise.Apprise()
        if not sender.add(self._with_timeout(url)):
            log.warning("notification URL %s is not one apprise understands", describe_url(url))
            return False
        return bool(sender.notify(body=body, title=title, notify_type=severity))

    def _with_timeout(self, url: str) -> str:
        # apprise reads its HTTP timeouts from URL arguments; a dead endpoint must not hang us.
        if "rto=" in url or "cto=" in url:
            return url
        joiner = "&" if "?" in url else "?"
        return f"{url}{joiner}rto={self.timeout_s:g}&cto={min(self.timeout_s, 4.0):g}"


class CombinedNotifier:
    """Several notifiers as one; one failing never stops the others."""

    def __init__(self, notifiers: Sequence[Notifier]) -> None:
        self.notifiers = list(notifiers)

    def send(self, event: Event) -> None:
        for notifier in self.notifiers:
            try:
                notifier.send(event)
            except Exception as exc:
                log.warning("notifier %r failed on %s: %s", notifier, event.kind,
                            type(exc).__name__)


def notifier_for(settings: NotifySettings, secrets: Iterable[str] = ()) -> Notifier:
    """The notifier the settings ask for: silent without URLs."""
    if not settings.urls:
        return SilentNotifier()
    return AppriseNotifier(settings, secrets)


def send_quietly(notifier: Notifier, event: Event) -> None:
    """Send, logging instead of raising: callers are in the middle of more important work."""
    try:
        notifier.send(event)
    except Exception as exc:
        log.warning("notification %s failed: %s", event.kind, type(exc).__name__)


@contextmanager
def last_gasp(notifier: Notifier, now: Any = None) -> Iterator[None]:
    """Around the daemon's main loop: an error that ends it is told to the user, then re-raised.

    A clean exit, Ctrl-C or SystemExit(0) says nothing.
    """
    try:
        yield
    except (KeyboardInterrupt, GeneratorExit):
        raise
    except SystemExit as exc:
        if exc.code not in (0, None):
            send_quietly(notifier, Event(DAEMON_DIED, f"the daemon exited with code {exc.code}",
                                         at=now() if callable(now) else None))
        raise
    except BaseException as exc:
        where = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
        place = f" in {Path(where.filename).name}:{where.lineno}" if where else ""
        send_quietly(notifier, Event(
            DAEMON_DIED, f"the daemon stopped: {type(exc).__name__}: {exc}{place}. "
                         "No strikes fire until it is restarted.",
            at=now() if callable(now) else None))
        raise
