"""A decision in plain words, as `snipe plan` shows it."""

from __future__ import annotations

from datetime import datetime, tzinfo

from snipe.domain.decision import FAILED, WON_BLOCK, Decision, Strike
from snipe.domain.ledger import BACKUP, FALLBACK, INSURANCE, PRIMARY
from snipe.domain.slots import Block

ROLE_WORDS = {
    PRIMARY: "primary",
    FALLBACK: "same-instant fallback",
    INSURANCE: "insurance, booked early and released once not needed",
    BACKUP: "backup",
}


def _block(block: Block) -> str:
    return (f"{block.location} on {block.day} {block.start_hour:02d}:00-{block.end_hour:02d}:00 "
            f"({block.length} h)")


def _instant(at: datetime, tz: tzinfo | None) -> str:
    utc = f"{at:%Y-%m-%d %H:%M:%S} UTC"
    if tz is None:
        return utc
    return f"{at.astimezone(tz):%a %Y-%m-%d %H:%M:%S %Z} ({utc})"


def _strike_lines(strike: Strike, tz: tzinfo | None, indent: str) -> list[str]:
    lines = [f"{indent}at {_instant(strike.fire_at, tz)}:"]
    for r in strike.releases_before:
        lines.append(f"{indent}  just before: release {r.reason}")
    for i, a in enumerate(strike.attempts):
        why = strike.why(i)
        where = a.sub_location or a.location
        lines.append(f"{indent}  {a.account} -> {where} {a.day} {a.hour:02d}:00 ({why})" if why
                     else f"{indent}  {a.describe()}")
    return lines


def explain(decision: Decision, tz: tzinfo | None = None) -> list[str]:
    """The decision in words: verdict, aims, releases, the next strike and the forecast."""
    name = decision.target
    lines: list[str] = []
    if decision.verdict == WON_BLOCK and decision.kept is not None:
        holders = ", ".join(f"{b.hour:02d}:00 {b.account}" for b in decision.kept.bookings)
        lines.append(f"{name}: won {_block(decision.kept.block)}; kept: {holders}")
    elif decision.verdict == FAILED:
        lines.append(f"{name}: failed, no accepted block can still be won; nothing is kept")
    else:
        lines.append(f"{name}: in progress")
        for aim in decision.aims:
            lines.append(f"  aiming for {_block(aim.block)} as {ROLE_WORDS[aim.role]}; "
                         f"{aim.held} of {aim.block.length} hour(s) held"
                         + (f"; W_C score {aim.score:.0f}" if aim.score else ""))
    for r in decision.releases:
        lines.append(f"  release now ({r.kind}): {r.reason}")
    if decision.strikes:
        lines.append("  next strike " + _strike_lines(decision.strikes[0], tz, "")[0])
        lines.extend(_strike_lines(decision.strikes[0], tz, "  ")[1:])
    if len(decision.strikes) > 1:
        lines.append("  then, if each first attempt wins (re-planned after every strike):")
        for strike in decision.strikes[1:]:
            lines.extend(_strike_lines(strike, tz, "    "))
    lines.extend(f"  note: {n}" for n in decision.notes)
    return lines
