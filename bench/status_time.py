"""Wall time of `snipe status` and `snipe plan FILE` (the real CLI, a fresh process each run)
over a store holding 1,000 strikes: upcoming ones, executed ones of the last week, and the
bookings they won. `plan` reads the example bookings file (its flexible target moved to the
coming weekend)."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from snipe.adapters.db.models import Account, Booking, Strike, Target
from snipe.adapters.db.store import Store

REPO = Path(__file__).resolve().parents[1]
LOCATIONS = ("X1", "X3", "Fitness")
STATES_DONE = ("won", "failed", "missed")


def seed_store(home: Path, strikes: int = 1000, now: datetime | None = None) -> int:
    """A store with `strikes` strikes over targets of 10 each; returns how many it holds."""
    now = now or datetime.now(UTC)
    store = Store.open(None, home=home)
    try:
        with store.unit_of_work() as uow:
            session = uow.session
            accounts = [Account(netid=f"user{i}", password_enc=store.vault.seal(f"pass{i}"),
                                site_profile="sandbox") for i in range(1, 4)]
            session.add_all(accounts)
            session.flush()
            for t in range((strikes + 9) // 10):
                day = (now + timedelta(days=t % 14 - 7)).date()
                target = Target(name=f"target-{t}", source="/bench/bookings.json", spec={},
                                site_profile="sandbox", target_date=day, fingerprint=f"{t}")
                session.add(target)
                session.flush()
                for k in range(min(10, strikes - 10 * t)):
                    fire = now + timedelta(hours=(t * 10 + k) - strikes // 2)
                    done = fire < now
                    session.add(Strike(
                        target_id=target.id, target_date=day, target_time=f"{11 + k % 8:02d}:00",
                        location=LOCATIONS[k % 3], sub_locations=[], priority=k % 3 + 1,
                        scheduled_execution=fire, slot_start=fire + timedelta(hours=72),
                        status=STATES_DONE[k % 3] if done else "scheduled",
                        assigned_accounts=["user1", "user2"],
                        executed_at=fire if done else None,
                        result={"won": k % 2} if done else None))
                if t < 30:
                    account = accounts[t % 3]
                    session.add(Booking(account_id=account.id, target_id=target.id,
                                        booking_date=day, time_slot=f"{11 + t % 8:02d}:00",
                                        location=f"X{1 + 2 * (t % 2)}", sub_location=None,
                                        slot_start=now + timedelta(days=3, hours=t),
                                        status="confirmed", booking_reference=str(1000 + t)))
            uow.commit()
        return int(store.scalar("SELECT count(*) FROM snipe_jobs"))
    finally:
        store.dispose()


def snipe_command() -> list[str]:
    """The installed `snipe` script next to this interpreter, else `python -m snipe`."""
    script = Path(sys.executable).with_name("snipe")
    return [str(script)] if script.exists() else [sys.executable, "-m", "snipe"]


def bookings_file(folder: Path, now: datetime) -> Path:
    """The example bookings file, its flexible target on the coming weekend."""
    data = json.loads((REPO / "bookings.example.json").read_text())
    saturday = (now + timedelta(days=(5 - now.weekday()) % 7 or 7)).date()
    for config in data.get("snipe_configs", []):
        if "date_range" in config:
            config["date_range"] = {"start": saturday.isoformat(),
                                    "end": (saturday + timedelta(days=1)).isoformat()}
    path = folder / "bookings.json"
    path.write_text(json.dumps(data))
    path.chmod(0o600)
    return path


def _timed(command: list[str], env: dict[str, str], runs: int) -> list[float]:
    subprocess.run(command, env=env, check=True, capture_output=True)  # warm the OS caches
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, env=env, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return times


def time_commands(runs: int = 5, strikes: int = 1000) -> dict[str, object]:
    """Median wall time (seconds) of `snipe status` and `snipe plan FILE`, every run's time,
    strikes in the store."""
    with tempfile.TemporaryDirectory(prefix="snipe-bench-status-") as folder:
        home = Path(folder) / "home"
        held = seed_store(home, strikes)
        env = {k: v for k, v in os.environ.items() if k not in ("SNIPE_DB", "SNIPE_NOW")}
        env.update(SNIPE_HOME=str(home), COLUMNS="120")
        status = _timed([*snipe_command(), "status"], env, runs)
        file = bookings_file(Path(folder), datetime.now(UTC))
        plan = _timed([*snipe_command(), "plan", str(file)], env, runs)
    return {"strikes": held, "status_s": round(statistics.median(status), 3),
            "status_runs_s": [round(t, 3) for t in status],
            "plan_s": round(statistics.median(plan), 3),
            "plan_runs_s": [round(t, 3) for t in plan]}

