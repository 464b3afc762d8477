"""`python -m bench [--quick] [--json] [--out DIR]`: run the benchmark against the sandbox."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from bench.report import markdown, write
from bench.suite import Plan, measure_all

RESULTS = Path(__file__).resolve().parent / "results"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Unlock-to-booking latency under the likely and classic site variants, "
                    "firing jitter (idle and loaded), accounts and targets at one instant, win "
                    "rate, the daemon's memory, `snipe status` and `snipe plan` times, against "
                    "the sandbox on loopback.")
    parser.add_argument("--quick", action="store_true",
                        help="fewer unlocks, up to 10 accounts (about 4 minutes; the full run "
                             "about 12)")
    parser.add_argument("--tiny", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true",
                        help="print the results object as JSON (progress goes to stderr)")
    parser.add_argument("--out", type=Path, default=RESULTS,
                        help=f"folder for the JSON and markdown results (default {RESULTS})")
    args = parser.parse_args(argv)
    plan = Plan.tiny() if args.tiny else Plan.quick() if args.quick else Plan.full()

    def progress(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    report = asyncio.run(measure_all(plan, progress))
    data, table = write(report, args.out)
    if args.json:
        print(json.dumps(report.results))
    else:
        print(markdown(report))
    progress(f"results: {data} and {table}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
