"""The whole benchmark in one run, so that every ratio compares figures taken side by side."""

from __future__ import annotations

import asyncio
import contextlib
import os
import platform
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bench.contenders import (
    Contender,
    CronBot,
    Floor,
    OurPreparedStrike,
    OurStrike,
    PlaywrightRequest,
    TwoStepFloor,
    Unlock,
    creds_of,
)
from bench.instant import measure_targets_at_once
from bench.jitter import measure_jitter
from bench.lean import measure_daemon_memory
from bench.raw import RawSite
from bench.rounds import Sample, interleaved, run_round
from bench.scaling import measure_scaling
from bench.site import site_process
from bench.stats import METHODS, VARIANTS, jitter_summary, percentile, summary
from bench.status_time import time_commands
from bench.web_time import time_first_paint
from bench.winrate import duel
from snipe.adapters.sites.x import XDriver
from snipe.domain.slots import slot_start
from snipe.profiles import load_profile

SITE_TZ = ZoneInfo("Europe/Amsterdam")
BOTS = ("hall-rush", "fast")


@dataclass(frozen=True)
class Plan:
    """How much of everything to measure."""

    name: str
    rounds: dict[str, int]  # per method, in each variant
    jitter_shots: int
    scaling: tuple[int, ...]
    scaling_repeats: int
    instant_repeats: int
    duels: dict[str, int]
    status_runs: int
    daemon: bool = True  # the lean daemon's memory (a real daemon, browser logins)
    daemon_accounts: int = 5  # how many accounts it logs in (the design target's count)
    variants: tuple[str, ...] = VARIANTS
    instant: tuple[int, ...] = (1, 3)

    @classmethod
    def full(cls) -> Plan:
        return cls("full", {"floor": 40, "floor2": 40, "api_prepared": 40, "api": 40,
                            "pw_request": 30, "ui": 20, "naive": 10},
                   400, (1, 5, 10, 20), 5, 15, {"hall-rush": 20, "fast": 24}, 7)

    @classmethod
    def quick(cls) -> Plan:
        return cls("quick", {"floor": 12, "floor2": 12, "api_prepared": 12, "api": 12,
                             "pw_request": 8, "ui": 3, "naive": 2},
                   150, (1, 5, 10), 3, 5, {"hall-rush": 6, "fast": 8}, 3)

    @classmethod
    def tiny(cls) -> Plan:
        """Barely anything: checks that every part runs and the results have their shape."""
        return cls("tiny", {"floor": 1, "floor2": 1, "api_prepared": 1, "api": 1,
                            "pw_request": 1, "ui": 1, "naive": 1},
                   10, (1, 2), 1, 1, {"fast": 2}, 1, daemon_accounts=2)


@dataclass
class Report:
    results: dict[str, Any]
    details: dict[str, Any] = field(default_factory=dict)


Progress = Callable[[str], None]


def target_day() -> date:
    """A day far enough ahead that all its slots unlock in the future."""
    return (datetime.now(SITE_TZ) + timedelta(days=10)).date()


@contextlib.contextmanager
def private_home() -> Iterator[None]:
    """A data dir of the run's own (site facts the driver learns, saved sessions), so the
    benchmark neither reads nor writes the user's."""
    before = os.environ.get("SNIPE_HOME")
    with tempfile.TemporaryDirectory(prefix="snipe-bench-home-") as folder:
        os.environ["SNIPE_HOME"] = folder
        try:
            yield
        finally:
            if before is None:
                os.environ.pop("SNIPE_HOME", None)
            else:
                os.environ["SNIPE_HOME"] = before


async def measure_latency(plan: Plan, variant: str, progress: Progress
                          ) -> tuple[list[Sample], dict[str, Any]]:
    """Every contender's rounds against a sandbox playing `variant`."""
    names = [m for m in METHODS if plan.rounds.get(m, 0) > 0]
    with site_process(accounts=len(METHODS), bots="none", variant=variant) as site:
        profile = load_profile("sandbox", site.base_url)
        day = target_day()
        unlock = Unlock.of(profile, "X1", "X1 A", day, 18)
        loc = profile.location("X1")
        assert loc is not None
        booking_id = (await asyncio.to_thread(site.handle.bulk_create, "X1", day, [18],
                                              "X1 A"))[0]
        item = await asyncio.to_thread(site.listed_item, loc, "X1 A",
                                       slot_start(day, 18, profile.tz), unlock.instant)
        await asyncio.to_thread(site.handle.set_clock, unlock.instant - timedelta(seconds=5),
                                1.0)
        raw = RawSite.of(site.api_url, site.variant.hall_id)
        logins = {n: await asyncio.to_thread(site.handle.login, f"user{n}", f"pass{n}")
                  for n in (1, 7)}
        driver = XDriver(profile)
        contenders: list[Contender] = [
            Floor(raw, *logins[1], item, "user1"),
            TwoStepFloor(raw, *logins[7], "user7", profile),
            OurPreparedStrike(driver, creds_of("user6", "pass6")),
            OurStrike(driver, creds_of("user2", "pass2"), "api"),
            OurStrike(driver, creds_of("user3", "pass3"), "ui"),
            PlaywrightRequest(driver, creds_of("user4", "pass4"), raw),
            CronBot(profile, "user5", "pass5"),
        ]
        wanted = [c for c in contenders if c.name in names]
        try:
            for contender in wanted:  # a first, uncounted round opens browsers and caches
                await run_round(site, contender, unlock, booking_id)
            done: dict[str, int] = {}

            def tick(sample: Sample) -> None:
                done[sample.method] = done.get(sample.method, 0) + 1
                figure = "-" if sample.latency_ms is None else f"{sample.latency_ms:.1f} ms"
                progress(f"latency {variant} {sample.method} {done[sample.method]}/"
                         f"{plan.rounds[sample.method]}: {figure}"
                         + (f" ({sample.error})" if sample.error else ""))

            samples = await interleaved(site, wanted, plan.rounds, unlock, booking_id, tick)
        finally:
            for contender in contenders:
                await contender.close()
            await driver.close()
    return samples, {"slot": f"{unlock.sub_location} {day} {unlock.hour:02d}:00",
                     "unlock": unlock.instant.isoformat(), "variant": site.variant.json(),
                     "listed_item": item}


async def measure_all(plan: Plan, progress: Progress) -> Report:
    with private_home():
        return await _measure_all(plan, progress)


async def _measure_all(plan: Plan, progress: Progress) -> Report:
    started = time.monotonic()
    load_start = os.getloadavg()[0]  # the machine may be shared: how busy it was is reported
    latency: dict[str, Any] = {}
    latency_details: dict[str, Any] = {}
    strike_jitter: list[float] = []
    for variant in plan.variants:
        samples, info = await measure_latency(plan, variant, progress)
        latency[variant] = {m: summary(s.latency_ms for s in samples if s.method == m)
                            for m in METHODS}
        strike_jitter += [s.jitter_ms for s in samples if s.jitter_ms is not None]
        latency_details[variant] = {**info, **{
            m: {"rounds": sum(1 for s in samples if s.method == m),
                "committed": sum(1 for s in samples if s.method == m and s.latency_ms is not None),
                "errors": sorted({s.error for s in samples if s.method == m and s.error})}
            for m in METHODS}}

    progress(f"firing jitter: {plan.jitter_shots} shots idle, then with CPU-bound processes")
    idle, loaded, plain, raised = await asyncio.to_thread(measure_jitter, plan.jitter_shots)

    progress("scaling: " + ", ".join(str(n) for n in plan.scaling) + " accounts")
    with site_process(accounts=max(plan.scaling), bots="none") as site:
        profile = load_profile("sandbox", site.base_url)
        scale_day = target_day() + timedelta(days=1)
        # Fitness unlocks a week ahead: start from the instant so tokens stay fresh.
        first = Unlock.of(profile, "Fitness", None, scale_day, 18).instant
        await asyncio.to_thread(site.handle.set_clock, first - timedelta(seconds=5), 1.0)
        runs = await measure_scaling(site, profile, scale_day, list(plan.scaling),
                                     plan.scaling_repeats, site.pid)
    for run in runs:
        strike_jitter += run.jitter_ms
    scaling = [{"accounts": r.accounts, "all_committed_ms": _median(r.all_committed_ms),
                "floor_ms": _median(r.floor_ms), "rss_mb": r.rss_mb} for r in runs]

    at_once: dict[str, Any] = {}
    at_once_details: dict[str, Any] = {}
    for k, variant in enumerate(plan.variants):
        progress(f"targets at one instant ({variant}): "
                 + ", ".join(str(n) for n in plan.instant) + f" targets, {plan.instant_repeats}"
                 " times")
        instants = await measure_targets_at_once(
            variant, target_day() + timedelta(days=30 + 40 * k), list(plan.instant),
            plan.instant_repeats, progress)
        at_once[variant] = [{"targets": r.targets,
                             "all_committed_ms": _median(r.all_committed_ms),
                             "floor_ms": _median(r.floor_ms)} for r in instants]
        at_once_details[variant] = [{"targets": r.targets, "failures": r.failures,
                                     "all_committed_ms": _rounded(r.all_committed_ms),
                                     "per_target_ms": [_rounded(t) for t in r.per_target_ms],
                                     "floor_ms": _rounded(r.floor_ms)} for r in instants]

    duels = {}
    for bot in BOTS:
        rounds = plan.duels.get(bot, 0)
        if rounds:
            progress(f"win rate against {bot}: {rounds} unlocks")
            duels[bot] = await duel(bot, target_day() + timedelta(days=2), rounds)
            strike_jitter += duels[bot].jitter_ms or []

    progress(f"snipe status and snipe plan with 1,000 strikes: {plan.status_runs} runs each")
    commands = await asyncio.to_thread(time_commands, plan.status_runs)
    progress("web dashboard first paint with 1,000 strikes")
    web = await asyncio.to_thread(time_first_paint, max(3, plan.status_runs))
    lean: dict[str, Any] | None = None
    if plan.daemon:
        progress(f"the daemon's memory: logging {plan.daemon_accounts} accounts in, then idle")
        lean = await asyncio.to_thread(measure_daemon_memory,
                                       target_day() + timedelta(days=5), plan.daemon_accounts)

    results = {
        "latency_ms": latency,
        "jitter_ms": {"idle": jitter_summary(idle.late_ms),
                      "loaded": jitter_summary(loaded.late_ms),
                      "loaded_unraised": jitter_summary(plain.late_ms),
                      "strikes": jitter_summary(strike_jitter)},
        "scaling": scaling,
        "targets_at_once": at_once,
        "win_rate": {bot: d.rate for bot, d in duels.items()},
        "status_s": commands["status_s"],
        "plan_s": commands["plan_s"],
        "daemon_mb": {"idle_rss": lean["idle"]["rss_mb"] if lean else None,
                      "login_peak_rss": lean["login"]["peak_rss_mb"] if lean else None,
                      "login_peak_pss": lean["login"]["peak_pss_mb"] if lean else None},
    }
    details = {
        "plan": plan.name,
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "duration_s": round(time.monotonic() - started, 1),
        "machine": {**machine(), "load_start": round(load_start, 2),
                    "load_end": round(os.getloadavg()[0], 2)},
        "latency": latency_details,
        "jitter": {"shots": {"idle": len(idle.late_ms), "loaded": len(loaded.late_ms),
                             "loaded_unraised": len(plain.late_ms),
                             "strikes": len(strike_jitter)},
                   "cpu_hogs": loaded.hogs, "raised_priority": raised,
                   "strikes_mean_signed_ms": (round(sum(strike_jitter) / len(strike_jitter), 3)
                                              if strike_jitter else None)},
        "scaling": [{"accounts": r.accounts, "repeats": len(r.all_committed_ms) + r.failures,
                     "failures": r.failures,
                     "all_committed_ms": _rounded(r.all_committed_ms),
                     "floor_ms": _rounded(r.floor_ms),
                     "pss_mb": r.pss_mb}
                    for r in runs],
        "targets_at_once": at_once_details,
        "win_rate": {bot: {"contested": d.contested, "won": d.won,
                           "uncontested": d.uncontested} for bot, d in duels.items()},
        "commands": commands,
        "web": web,
        "daemon": lean,
    }
    return Report(results, details)


def _median(values: list[float]) -> float | None:
    return round(percentile(values, 50), 2) if values else None


def _rounded(values: list[float]) -> list[float]:
    return [round(v, 2) for v in values]


def machine() -> dict[str, Any]:
    model = ""
    try:
        with open("/proc/cpuinfo") as info:
            model = next((line.split(":", 1)[1].strip() for line in info
                          if line.startswith("model name")), "")
    except OSError:
        pass
    memory_gb = None
    try:
        with open("/proc/meminfo") as info:
            kb = int(next(line for line in info if line.startswith("MemTotal")).split()[1])
            memory_gb = round(kb / 1024 / 1024, 1)
    except (OSError, StopIteration, ValueError):
        pass
    return {"cpu": model or platform.processor() or platform.machine(),
            "cores": os.cpu_count(), "memory_gb": memory_gb,
            "os": f"{platform.system()} {platform.release()}",
            "python": platform.python_version()}
