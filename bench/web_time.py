"""Server time of the dashboard's first paint over a store holding 1,000 strikes: from the
request to the last byte of each page's HTML, through the ASGI app in this process (no
network, no browser), the first (cold) request apart from the warm ones.

    python -m bench.web_time [--runs N]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PAGES = ("/", "/slots", "/bookings", "/targets", "/accounts")
TARGET_MS = 300.0


async def _measure(home: Path, runs: int) -> dict[str, Any]:
    import httpx

    from snipe.bootstrap import bootstrap, close
    from snipe.settings import Settings
    from snipe.web.app import create_app

    ctx = bootstrap(Settings(home=home))
    app = create_app(ctx)
    transport = httpx.ASGITransport(app=app)
    pages: dict[str, Any] = {}
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            for path in PAGES:
                times = []
                for _ in range(runs + 1):
                    started = time.perf_counter()
                    response = await client.get(path)
                    times.append((time.perf_counter() - started) * 1000.0)
                    response.raise_for_status()
                warm = times[1:]
                pages[path] = {"cold_ms": round(times[0], 1),
                               "median_ms": round(statistics.median(warm), 1),
                               "max_ms": round(max(warm), 1), "bytes": len(response.content)}
    finally:
        close(ctx)
    return pages


def time_first_paint(runs: int = 10, strikes: int = 1000) -> dict[str, Any]:
    """Each page's cold and warm server time (ms) with `strikes` strikes in the store."""
    from bench.status_time import seed_store

    with tempfile.TemporaryDirectory(prefix="snipe-bench-web-") as folder:
        home = Path(folder) / "home"
        held = seed_store(home, strikes)
        pages = asyncio.run(_measure(home, runs))
    slowest = max(p["median_ms"] for p in pages.values())
    return {"strikes": held, "runs": runs, "pages": pages, "slowest_median_ms": slowest,
            "target_ms": TARGET_MS}


def line(result: dict[str, Any]) -> str:
    """One line for the benchmark's report."""
    pages = ", ".join(f"`{path}` {p['median_ms']:.0f} ms" for path, p in result["pages"].items())
    met = "met" if result["slowest_median_ms"] < result["target_ms"] else "**not met**"
    return (f"Web dashboard, first paint on the server with {result['strikes']:,} strikes "
            f"(median of {result['runs']} warm requests): {pages}; target < "
            f"{result['target_ms']:.0f} ms {met}.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.web_time", description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args(argv)
    result = time_first_paint(args.runs)
    for path, figures in result["pages"].items():
        print(f"{path:<10} cold {figures['cold_ms']:7.1f} ms   warm median "
              f"{figures['median_ms']:6.1f} ms   max {figures['max_ms']:6.1f} ms   "
              f"{figures['bytes']:,} bytes")
    print(line(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
