"""The lean daemon: memory of a real `snipe daemon` process and everything it started (the
browser, Playwright's driver), read from /proc.

- Logging in: a data dir with 5 accounts that log in through the sandbox's browser (OIDC) flow
  and no saved session, and a 5-hour X1 block whose first strike fires all five accounts some
  seconds ahead. The daemon wakes at once and logs them in, at most the profile's
  `max_parallel_logins` at a time; the peak is sampled every 50 ms until every session is saved.
- Idle: a second daemon on the same data dir (every session saved) once it has woken its
  target and gone to sleep until the next strike; the figure is the median of its samples.

    python -m bench.lean
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench.memory import tree_memory_mb
from bench.site import BenchSite, site_process
from bench.status_time import snipe_command

ACCOUNTS = 5  # an X1 block of as many hours: its first strike fires every account
FIRST_HOUR = 12
AHEAD_S = 25.0  # the site's clock this long before the first strike when the daemon starts
SAMPLE_S = 0.05
IDLE_SETTLE_S = 6.0  # after its first wake-up a daemon has nothing to do for an hour
IDLE_SAMPLES = 20
TIMEOUT_S = 120.0
IDLE_TARGET_MB = 150.0
PEAK_TARGET_MB = 1200.0


def _prepare(home: Path, site: BenchSite, day: Any, accounts: int) -> Any:
    """Accounts (browser logins, nothing saved) and the block; returns its first unlock."""
    from snipe.bootstrap import bootstrap, close
    from snipe.profiles import load_profile
    from snipe.services.accounts import add_account
    from snipe.services.targets.schedule import schedule_data
    from snipe.settings import Settings

    ctx = bootstrap(Settings(home=home))
    try:
        async def add() -> None:
            for n in range(1, accounts + 1):
                await add_account(ctx, f"user{n}", f"pass{n}", "sandbox", site.base_url,
                                  check=False)

        asyncio.run(add())
        schedule_data(ctx, {
            "site": {"profile": "sandbox", "base_url": site.base_url},
            "snipe_config": {
                "name": "lean", "target_date": day.isoformat(), "consecutive_hours": accounts,
                "time_window": {"start": f"{FIRST_HOUR:02d}:00",
                                "end": f"{FIRST_HOUR + accounts:02d}:00"},
                "priorities": [{"rank": 1, "location": "X1", "max_accounts": accounts}]},
        }, ctx.clock.now(), source="bench-lean")
    finally:
        close(ctx)
    profile = load_profile("sandbox", site.base_url)
    from bench.contenders import Unlock

    return Unlock.of(profile, "X1", None, day, FIRST_HOUR).instant


def _start(home: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k not in ("SNIPE_DB", "SNIPE_NOW")}
    env["SNIPE_HOME"] = str(home)
    return subprocess.Popen([*snipe_command(), "daemon", "--poll", "1"], env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)


def _stop(daemon: subprocess.Popen[bytes]) -> None:
    """SIGTERM (a strike in flight may finish), then the whole process group if it lingers."""
    if daemon.poll() is None:
        daemon.send_signal(signal.SIGTERM)
        try:
            daemon.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(daemon.pid, signal.SIGKILL)
            daemon.wait(timeout=10)
    with contextlib.suppress(ProcessLookupError):  # the browser it started, should any outlive it
        os.killpg(daemon.pid, signal.SIGKILL)


def _saved(home: Path) -> int:
    folder = home / "sessions"
    return len(list(folder.glob("*.session"))) if folder.is_dir() else 0


def _logins_peak(home: Path, accounts: int) -> dict[str, Any]:
    daemon = _start(home)
    peak_rss = peak_pss = 0.0
    processes = 0
    started = time.monotonic()
    try:
        while _saved(home) < accounts:
            if daemon.poll() is not None:
                raise RuntimeError(f"the daemon exited ({daemon.returncode}) before logging in")
            if time.monotonic() - started > TIMEOUT_S:
                raise RuntimeError(f"only {_saved(home)} of {accounts} logins after "
                                   f"{TIMEOUT_S:.0f} s")
            rss, pss = tree_memory_mb(daemon.pid)
            peak_rss, peak_pss = max(peak_rss, rss), max(peak_pss, pss)
            processes = max(processes, _count(daemon.pid))
            time.sleep(SAMPLE_S)
        took = time.monotonic() - started
    finally:
        _stop(daemon)
    return {"peak_rss_mb": peak_rss, "peak_pss_mb": peak_pss, "processes": processes,
            "logins_s": round(took, 1)}


def _idle(home: Path) -> dict[str, Any]:
    daemon = _start(home)
    try:
        time.sleep(IDLE_SETTLE_S)
        if daemon.poll() is not None:
            raise RuntimeError(f"the idle daemon exited ({daemon.returncode})")
        samples = []
        for _ in range(IDLE_SAMPLES):
            samples.append(tree_memory_mb(daemon.pid))
            time.sleep(0.1)
        processes = _count(daemon.pid)
    finally:
        _stop(daemon)
    return {"rss_mb": round(statistics.median(s[0] for s in samples), 1),
            "pss_mb": round(statistics.median(s[1] for s in samples), 1),
            "processes": processes, "saved_sessions": _saved(home)}


def _count(root: int) -> int:
    """Processes in the tree of `root`."""
    from bench.memory import _children

    tree, todo, seen = _children(), [root], 0
    while todo:
        pid = todo.pop()
        seen += 1
        todo.extend(tree.get(pid, []))
    return seen


def measure_daemon_memory(day: Any, accounts: int = ACCOUNTS) -> dict[str, Any]:
    """The daemon's peak while logging `accounts` accounts in, then idle with them saved."""
    with tempfile.TemporaryDirectory(prefix="snipe-bench-lean-") as folder, \
            site_process(accounts=accounts, bots="none") as site:
        home = Path(folder) / "home"
        unlock = _prepare(home, site, day, accounts)
        site.handle.set_clock(unlock - timedelta(seconds=AHEAD_S), 1.0)
        logins = _logins_peak(home, accounts)
        idle = _idle(home)
    return {"accounts": accounts, "max_parallel_logins": _parallel_logins(),
            "login": logins, "idle": idle,
            "targets_mb": {"idle_rss": IDLE_TARGET_MB, "login_peak_pss": PEAK_TARGET_MB}}


def _parallel_logins() -> int:
    from snipe.adapters.sites.terms import terms_for
    from snipe.profiles import load_profile

    return terms_for(load_profile("sandbox")).max_parallel_logins


def main() -> int:
    from bench.suite import target_day

    print(json.dumps(measure_daemon_memory(target_day() + timedelta(days=4)), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
