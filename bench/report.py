"""The results as a markdown table (for bench/results/ and the README) and as JSON files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.suite import Report
from bench.web_time import line as web_line

LABELS = {
    "floor": "physical floor: raw POST on an open socket at the instant (bookingId known)",
    "api": "**snipe `api` strike** (slot lookup + booking, warm connection)",
    "ui": "snipe `ui` strike (booking page opened before the instant)",
    "pw_request": "Playwright `context.request` (same two calls, same timing)",
    "naive": "naive cron bot (starts Chromium at xx:00:01, SSO login, clicks)",
}
REFERENCE_LABEL = ("reference: raw slot lookup at the instant, then raw POST, one open socket "
                   "(the best a client can do without the bookingId)")
TARGETS = {
    "api_vs_floor": "`api` strike median ≤ 2× the physical floor",
    "jitter_p99": "firing jitter p99 ≤ 5 ms",
    "ten_accounts": "10 accounts all committed ≤ 50 ms after the instant",
    "status": "`snipe status` < 0.5 s (1,000 strikes)",
}


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def verdicts(results: dict[str, Any]) -> dict[str, tuple[bool | None, str]]:
    """Each design target: met or not (None: not measured), and the figure behind it."""
    latency = results["latency_ms"]
    floor, api = latency["floor"]["median"], latency["api"]["median"]
    ratio = api / floor if floor and api else None
    ten = next((r["all_committed_ms"] for r in results["scaling"] if r["accounts"] == 10), None)
    jitter = results["jitter_ms"]["p99"]
    status = results["status_s"]
    return {
        "api_vs_floor": (None if ratio is None else ratio <= 2.0,
                         "–" if ratio is None else f"{ratio:.2f}×"),
        "jitter_p99": (None if jitter is None else jitter <= 5.0, f"{_ms(jitter)} ms"),
        "ten_accounts": (None if ten is None else ten <= 50.0, f"{_ms(ten)} ms"),
        "status": (None if status is None else status < 0.5, f"{status:.3f} s"),
    }


def markdown(report: Report) -> str:
    results, details = report.results, report.details
    latency = results["latency_ms"]
    floor = latency["floor"]["median"]
    lines = ["| unlock → booking committed on the server | median ms | p95 ms | p99 ms "
             "| median / floor | unlocks |", "|---|---:|---:|---:|---:|---:|"]
    references = details.get("reference_ms", {})
    rows = [(m, LABELS[m], latency[m]) for m in LABELS]
    if references.get("floor2"):
        rows.insert(1, ("floor2", REFERENCE_LABEL, references["floor2"]))
    for method, label, figures in rows:
        ratio = (f"{figures['median'] / floor:.1f}×" if floor and figures["median"] is not None
                 else "–")
        rounds = details.get("latency", {}).get(method, {}).get("committed", "")
        lines.append(f"| {label} | {_ms(figures['median'])} | {_ms(figures['p95'])} "
                     f"| {_ms(figures['p99'])} | {ratio} | {rounds} |")
    jitter = results["jitter_ms"]
    shots = details.get("jitter", {}).get("shots", "")
    lines += ["", f"Firing jitter of our timed shot against the server's instant ({shots} shots): "
              f"p50 {jitter['p50']} ms, p99 {jitter['p99']} ms.", "",
              "| accounts in one instant | all committed, snipe `api` (ms after the instant, "
              "median) | floor: N raw POSTs at the instant (ms) | RSS of browser + process (MB) "
              "| PSS (MB) |", "|---:|---:|---:|---:|---:|"]
    extra = {d["accounts"]: d for d in details.get("scaling", [])}
    for row in results["scaling"]:
        more = extra.get(row["accounts"], {})
        lines.append(f"| {row['accounts']} | {_ms(row['all_committed_ms'])} "
                     f"| {_ms(more.get('floor_median_ms'))} | {row['rss_mb']} "
                     f"| {more.get('pss_mb', '–')} |")
    lines += ["", "| against bot profile | our `api` strike wins | contested unlocks |",
              "|---|---:|---:|"]
    for bot, rate in results["win_rate"].items():
        contested = details.get("win_rate", {}).get(bot, {}).get("contested", "")
        shown = "–" if rate is None else f"{rate:.0%}"
        lines.append(f"| `{bot}` | {shown} | {contested} |")
    lines += ["", f"`snipe status` with 1,000 strikes in the store: {results['status_s']:.3f} s "
              "(median wall time of the CLI, a fresh process per run)."]
    if details.get("web"):
        lines += ["", web_line(details["web"])]
    lines += ["",
              "| design target | measured | met |", "|---|---:|:---:|"]
    for key, (met, figure) in verdicts(results).items():
        mark = "–" if met is None else ("yes" if met else "**no**")
        lines.append(f"| {TARGETS[key]} | {figure} | {mark} |")
    machine = details.get("machine", {})
    lines += ["", f"Run `{details.get('plan', '?')}` of {details.get('when', '?')} in "
              f"{details.get('duration_s', '?')} s on {machine.get('cpu', '?')}, "
              f"{machine.get('cores', '?')} cores, {machine.get('memory_gb', '?')} GB, "
              f"{machine.get('os', '?')}, Python {machine.get('python', '?')}; the sandbox in "
              "its own process on loopback."]
    return "\n".join(lines) + "\n"


def write(report: Report, folder: Path) -> tuple[Path, Path]:
    """`<plan>.json` (results + details) and `<plan>.md`; the full run is `latest`."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = "latest" if report.details.get("plan") == "full" else report.details.get("plan", "run")
    data = folder / f"{stem}.json"
    table = folder / f"{stem}.md"
    data.write_text(json.dumps({"results": report.results, "details": report.details},
                               indent=2) + "\n")
    table.write_text(markdown(report))
    return data, table
