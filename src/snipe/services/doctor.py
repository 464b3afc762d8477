"""`snipe doctor`: is this machine ready to strike? Browser, database, key file, each account's
login (checked at the site, not only saved), the site's clock and how the site behaves (the
probe), one check each, each saying what it found."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from snipe.adapters.sites.errors import LoginFailed
from snipe.errors import SnipeError
from snipe.services.context import AccountQuarantined, Context, account_of, quarantine


@dataclass(frozen=True)
class Check:
    name: str
    state: str  # "ok", "warn" or "fail"
    detail: str

    def to_dict(self) -> dict[str, str]:
        return {"check": self.name, "state": self.state, "detail": self.detail}


async def check_browser() -> Check:
    from snipe.adapters.sites.browser import BrowserPool

    pool = BrowserPool(timeout_s=20)
    try:
        browser = await pool.browser()
        return Check("browser", "ok", f"Chromium {browser.version} at {pool.executable} "
                                      f"({pool.source})")
    except SnipeError as exc:
        return Check("browser", "fail", str(exc))
    finally:
        await pool.close()


def check_key(ctx: Context) -> Check:
    from snipe.adapters.secrets import Vault

    store = ctx.extras.get("store")
    path = Vault.key_path(ctx.settings.home)
    try:
        if store is not None:
            store.check_key()
    except SnipeError as exc:
        return Check("key file", "fail", str(exc))
    if not path.exists():
        return Check("key file", "ok", f"{path} will be created with the first account")
    if path.stat().st_mode & 0o077:
        return Check("key file", "warn", f"{path} is readable by others; run chmod 600 {path}")
    return Check("key file", "ok", f"{path} (0600) opens the stored passwords")


async def check_login(ctx: Context, netid: str, fresh: bool) -> Check:
    name = f"login {netid}"
    try:
        profile, creds = account_of(ctx, netid)
        driver = ctx.drivers.of(profile)
        if fresh:
            await driver.forget(creds)
        logins = driver.logins
        session = await driver.session(creds)
        # A saved session proves nothing about today: one authenticated read at the site does.
        await driver.my_bookings(creds, ctx.clock.now())
    except AccountQuarantined as exc:
        return Check(name, "fail", str(exc))
    except LoginFailed as exc:

        quarantine(ctx, netid, str(exc))
        return Check(name, "fail", f"{exc} (set aside until `snipe accounts add {netid}`)")
    except SnipeError as exc:
        return Check(name, "fail", f"not checked at the site: {exc}")
    how = "new login" if driver.logins > logins else "saved session"
    left = driver.seconds_left(session) / 3600
    return Check(name, "ok", f"member {session.member_id}, {how}, valid {left:.1f} h")


async def check_clock(driver: Any) -> Check:
    name = f"clock {driver.profile.name}"
    try:
        clock = await driver.server_clock()
    except SnipeError as exc:
        return Check(name, "fail", f"site unreachable: {exc}")
    state = "ok" if abs(clock.offset_s) < 60 or driver.profile.time_endpoint else "warn"
    return Check(name, state, clock.describe())


async def check_site(ctx: Context, profile: Any) -> Check:
    """Probe how the site behaves (read-only, anonymous) and keep it as the site's facts; a
    change since the last probe is a warning that names it."""
    name = f"site {profile.name}"
    try:
        report = await ctx.drivers.probe(profile)
    except SnipeError as exc:
        return Check(name, "warn", f"could not probe the site: {exc}")
    summary = report.findings.summary()
    if report.drift:
        return Check(name, "warn", f"{summary}; changed since the last probe: "
                                   + "; ".join(report.drift))
    return Check(name, "ok", summary)


async def doctor(ctx: Context, *, site: str | None = None, site_url: str | None = None,
                 fresh_login: bool = False, browser: bool = True, probe: bool = True
                 ) -> list[Check]:
    """Every check, in order; a failing one never stops the next."""
    checks: list[Check] = []
    if browser:
        checks.append(await check_browser())
    with ctx.reader() as uow:
        accounts = [a for a in uow.accounts.all() if a.active]
    store = ctx.extras.get("store")
    where = store.engine.url.render_as_string() if store is not None else "the store"
    checks.append(Check("database", "ok", f"{where} ({len(accounts)} active account(s))"))
    checks.append(check_key(ctx))
    profiles = {}
    if site is not None:
        profile = ctx.profiles(site, site_url)
        profiles[(profile.name, profile.api_url)] = profile
    for account in accounts:
        checks.append(await check_login(ctx, account.netid, fresh_login))
        profile = ctx.profiles(account.site, account.site_url)
        profiles.setdefault((profile.name, profile.api_url), profile)
    if not accounts:
        checks.append(Check("accounts", "warn", "no accounts yet: `snipe accounts add NETID`"))
    for profile in profiles.values():
        try:
            driver = ctx.drivers.of(profile)
        except SnipeError as exc:  # e.g. no key to open the saved sessions: said above
            checks.append(Check(f"clock {profile.name}", "fail", f"not checked: {exc}"))
            continue
        checks.append(await check_clock(driver))
        if probe:
            checks.append(await check_site(ctx, profile))
    return checks
