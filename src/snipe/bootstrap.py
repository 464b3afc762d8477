"""The composition root: builds the clock, the store, the site drivers, the notifier and the
settings once, and hands them to the CLI, the daemon and the web server as one `Context`.

Nothing else reads the machine's clock, the environment's paths or opens a database.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from snipe.adapters.clock import Clock, default_clock
from snipe.domain.events import Event
from snipe.domain.site import SiteProfile
from snipe.services.context import Context
from snipe.settings import Settings

log = logging.getLogger(__name__)


class SiteDrivers:
    """One driver per site profile (and base URL), opened on first use, closed together."""

    def __init__(self, sessions: Any, clock: Clock, **options: Any) -> None:
        self._sessions = sessions
        self._clock = clock
        self._options = options
        self._open: dict[tuple[str, str], Any] = {}

    def _new(self, profile: SiteProfile, **options: Any) -> Any:
        from snipe.adapters.sites import driver_for

        merged = {"now": self._clock.time, **self._options, **options}
        return driver_for(profile, sessions=self._sessions(), **merged)

    def of(self, profile: SiteProfile) -> Any:
        key = (profile.name, profile.api_url)
        if key not in self._open:
            self._open[key] = self._new(profile)
        return self._open[key]

    def metered(self, profile: SiteProfile) -> tuple[Any, Any]:
        """A private driver whose every request counts against a budget (the caller closes
        it): the slot monitor's."""
        from snipe.adapters.sites.meter import RequestMeter

        meter = RequestMeter(self._options.get("transport"))

        async def no_wait(_seconds: float) -> None:
            """The driver's retries never block a poll: the meter refuses what follows a 429."""

        options = {k: v for k, v in self._options.items() if k != "transport"}
        driver = self._new(profile, **{**options, "transport": meter, "sleep": no_wait})
        return driver, meter

    async def probe(self, profile: SiteProfile) -> Any:
        """Probe how the site behaves (read-only, anonymous), keep the findings as its facts
        and hand them to its open driver; the report says what changed since the last probe."""
        from snipe.adapters.sites.probe import probe_and_keep

        report = await probe_and_keep(profile, clock=self._clock,
                                      transport=self._options.get("transport"))
        driver = self._open.get((profile.name, profile.api_url))
        if driver is not None and hasattr(driver, "adopt_facts"):
            driver.adopt_facts()
        return report

    async def close(self) -> None:
        for driver in self._open.values():
            try:
                await driver.close()
            except Exception as exc:  # closing must not hide the real outcome
                log.warning("closing %r: %s", driver, exc)
        self._open.clear()


class ReloadingNotifier:
    """The notifier of the saved settings, read again when they change (a running daemon picks
    up what `snipe schedule` saved, without a restart)."""

    def __init__(self, home: Path | None) -> None:
        self.home = home
        self._stamp: tuple[float, str] | None = None
        self._notifier: Any = None

    def _current(self) -> Any:
        import os

        from snipe.adapters.notify import ENV_URLS, effective_settings, notifier_for, settings_path

        path = settings_path(self.home)
        stamp = (path.stat().st_mtime if path.is_file() else 0.0, os.environ.get(ENV_URLS, ""))
        if stamp != self._stamp or self._notifier is None:
            self._notifier = notifier_for(effective_settings(self.home))
            self._stamp = stamp
        return self._notifier

    def send(self, event: Event) -> None:
        self._current().send(event)


def bootstrap(settings: Settings | None = None, *, clock: Clock | None = None,
              notifier: Any = None, migrate: bool = True, **driver_options: Any) -> Context:
    """The `Context` every use case runs in, from the settings (data dir, database URL)."""
    from snipe.adapters.db.store import Store
    from snipe.adapters.paths import data_dir
    from snipe.adapters.sites.sessions import SessionStore
    from snipe.profiles import load_profile

    settings = settings or Settings()
    clock = clock or default_clock()
    home = settings.home or data_dir(create=False)
    store = Store.open(settings.db_url, home=home, migrate=migrate, clock=clock)

    def sessions() -> Any:
        return SessionStore(store.vault, home / "sessions")

    def profiles(name: str, base_url: str | None) -> SiteProfile:
        return load_profile(name, base_url, home / "profiles")

    ctx = Context(
        uow=store.unit_of_work, reader=store.reader, clock=clock,
        drivers=SiteDrivers(sessions, clock, **driver_options),
        notifier=notifier if notifier is not None else ReloadingNotifier(home),
        vault=_LazyVault(store), profiles=profiles,
        settings=settings if settings.home else settings.with_(home=home),
    )
    ctx.extras["store"] = store
    return ctx


class _LazyVault:
    """The key is read (or made) only when a secret is sealed or opened."""

    def __init__(self, store: Any) -> None:
        self._store = store

    def seal(self, plain: str | bytes) -> bytes:
        return self._store.vault.seal(plain)

    def open_sealed(self, token: bytes) -> bytes:
        return self._store.vault.open_sealed(token)


def close(ctx: Context) -> None:
    store = ctx.extras.get("store")
    if store is not None:
        store.dispose()
