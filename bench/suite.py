"""The whole benchmark in one run, so that every ratio compares figures taken side by side."""

from __future__ import annotations

import asyncio
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bench.contenders import (
    CronBot,
    Floor,
    OurStrike,
    PlaywrightRequest,
    TwoStepFloor,
    Unlock,
    creds_of,
)
from bench.rounds import Sample, interleaved, run_round
from bench.scaling import measure_scaling
from bench.site import site_process
from bench.stats import METHODS, REFERENCES, percentile, summary
from bench.status_time import time_status
from bench.web_time import time_first_paint
from bench.winrate import duel
from snipe.adapters.sites.x import XDriver
from snipe.profiles import load_profile

SITE_TZ = ZoneInfo("Europe/Amsterdam")
BOTS = ("hall-rush", "fast")


@dataclass(frozen=True)
class Plan:
    """How much of everything to measure."""

    name: str
    rounds: dict[str, int]
    scaling: tuple[int, ...]
    scaling_repeats: int
    duels: dict[str, int]
    status_runs: int

    @classmethod
    def full(cls) -> Plan:
        return cls("full", {m: 30 for m in (*METHODS, *REFERENCES)}, (1, 5, 10, 20), 5,
                   {"hall-rush": 20, "fast": 24}, 5)

    @classmethod
    def quick(cls) -> Plan:
        return cls("quick", {"floor": 10, "floor2": 10, "api": 10, "pw_request": 10, "ui": 4,
                             "naive": 3},
                   (1, 5, 10), 3, {"hall-rush": 6, "fast": 8}, 3)

    @classmethod
    def tiny(cls) -> Plan:
        """Barely anything: checks that every part runs and the results have their shape."""
        return cls("tiny", {"floor": 2, "floor2": 1, "api": 2, "pw_request": 2, "ui": 1,
                            "naive": 1},
                   (1, 2), 1, {"hall-rush": 1, "fast": 2}, 1)


@dataclass
class Report:
    results: dict[str, Any]
    details: dict[str, Any] = field(default_factory=dict)


Progress = Callable[[str], None]


def target_day() -> date:
    """A day far enough ahead that all its slots unlock in the future."""
    return (datetime.now(SITE_TZ) + timedelta(days=10)).date()


async def measure_latency(plan: Plan, progress: Progress) -> tuple[list[Sample], dict[str, Any]]:
    accounts = len(METHODS) + len(REFERENCES)
    with site_process(accounts=accounts, bots="none") as site:
        profile = load_profile("sandbox", site.base_url)
        day = target_day()
        unlock = Unlock.of(profile, "X1", "X1 A", day, 18)
        booking_id = (await asyncio.to_thread(site.handle.bulk_create, "X1", day, [18],
                                              "X1 A"))[0]
        await asyncio.to_thread(site.handle.set_clock, unlock.instant - timedelta(seconds=5),
                                1.0)
        token, member = await asyncio.to_thread(site.handle.login, "user1", "pass1")
        token6, member6 = await asyncio.to_thread(site.handle.login, "user6", "pass6")
        driver = XDriver(profile)
        contenders = [
            Floor(site.api_url, token, member, booking_id, "user1"),
            TwoStepFloor(site.api_url, token6, member6, "user6", profile),
            OurStrike(driver, creds_of("user2", "pass2"), "api"),
            OurStrike(driver, creds_of("user3", "pass3"), "ui"),
            PlaywrightRequest(driver, creds_of("user4", "pass4")),
            CronBot(profile, "user5", "pass5"),
        ]
        wanted = [c for c in contenders if plan.rounds.get(c.name, 0) > 0]
        try:
            for contender in wanted:  # a first, uncounted round opens browsers and caches
                await run_round(site, contender, unlock, booking_id)
            done: dict[str, int] = {}

            def tick(sample: Sample) -> None:
                done[sample.method] = done.get(sample.method, 0) + 1
                figure = "-" if sample.latency_ms is None else f"{sample.latency_ms:.1f} ms"
                progress(f"latency {sample.method} {done[sample.method]}/"
                         f"{plan.rounds[sample.method]}: {figure}"
                         + (f" ({sample.error})" if sample.error else ""))

            samples = await interleaved(site, wanted, plan.rounds, unlock, booking_id, tick)
        finally:
            for contender in contenders:
                await contender.close()
            await driver.close()
    return samples, {"slot": f"{unlock.sub_location} {day} {unlock.hour:02d}:00",
                     "unlock": unlock.instant.isoformat()}


async def measure_all(plan: Plan, progress: Progress) -> Report:
    started = time.monotonic()
    samples, latency_info = await measure_latency(plan, progress)
    latency = {m: summary(s.latency_ms for s in samples if s.method == m) for m in METHODS}
    jitters = [s.jitter_ms for s in samples if s.jitter_ms is not None]

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
        jitters += run.jitter_ms
    scaling = [{"accounts": r.accounts,
                "all_committed_ms": (round(percentile(r.all_committed_ms, 50), 2)
                                     if r.all_committed_ms else None),
                "rss_mb": r.rss_mb} for r in runs]

    duels = {}
    for bot in BOTS:
        rounds = plan.duels.get(bot, 0)
        if rounds:
            progress(f"win rate against {bot}: {rounds} unlocks")
            duels[bot] = await duel(bot, target_day() + timedelta(days=2), rounds)
            jitters += duels[bot].jitter_ms or []

    progress(f"snipe status with 1,000 strikes: {plan.status_runs} runs")
    status_s, status_runs, strikes = await asyncio.to_thread(time_status, plan.status_runs)
    progress("web dashboard first paint with 1,000 strikes")
    web = await asyncio.to_thread(time_first_paint, max(3, plan.status_runs))

    absolute = [abs(j) for j in jitters]
    results = {
        "latency_ms": latency,
        "jitter_ms": {"p50": round(percentile(absolute, 50), 3) if absolute else None,
                      "p99": round(percentile(absolute, 99), 3) if absolute else None},
        "scaling": scaling,
        "win_rate": {bot: d.rate for bot, d in duels.items()},
        "status_s": status_s,
    }
    details = {
        "plan": plan.name,
        "reference_ms": {r: summary(s.latency_ms for s in samples if s.method == r)
                         for r in REFERENCES},
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "duration_s": round(time.monotonic() - started, 1),
        "machine": machine(),
        "latency": {**latency_info, **{
            m: {"rounds": sum(1 for s in samples if s.method == m),
                "committed": sum(1 for s in samples if s.method == m and s.latency_ms is not None),
                "errors": sorted({s.error for s in samples if s.method == m and s.error})}
            for m in (*METHODS, *REFERENCES)}},
        "jitter": {"shots": len(jitters),
                   "mean_signed_ms": round(sum(jitters) / len(jitters), 3) if jitters else None},
        "scaling": [{"accounts": r.accounts, "repeats": len(r.all_committed_ms) + r.failures,
                     "failures": r.failures,
                     "all_committed_ms": [round(v, 2) for v in r.all_committed_ms],
                     "floor_ms": [round(v, 2) for v in r.floor_ms],
                     "floor_median_ms": (round(percentile(r.floor_ms, 50), 2)
                                         if r.floor_ms else None),
                     "pss_mb": r.pss_mb}
                    for r in runs],
        "win_rate": {bot: {"contested": d.contested, "won": d.won,
                           "uncontested": d.uncontested} for bot, d in duels.items()},
        "status": {"strikes": strikes, "runs_s": status_runs},
        "web": web,
    }
    return Report(results, details)


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
