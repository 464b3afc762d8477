"""Telling the user what happened, where they want to hear it (email, Telegram, ntfy, ... by
apprise URL). Silent by default; every message is short plain text with secrets redacted.

Delivery failures are logged and swallowed: a notification must never take down a strike.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from snipe.adapters.notify.settings import NotifySettings
from snipe.adapters.redaction import RedactingFilter, describe_url, redact, url_secrets
from snipe.domain.events import Event, EventKind

log = logging.getLogger(__name__)

DAEMON_DIED = EventKind.DAEMON_DIED.value
# apprise's debug lines, and those of the HTTP library under it, print notification URLs.
_APPRISE_LOG = RedactingFilter()
for _name in ("apprise", "urllib3.connectionpool"):
    logging.getLogger(_name).addFilter(_APPRISE_LOG)
MAX_BODY = 900  # chat services cut long messages; ours stay short


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
        _APPRISE_LOG.secrets.update(self._secrets)  # apprise's own debug lines print URLs

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
                ok = self._deliver_one(url, title, body, event.severity)
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
