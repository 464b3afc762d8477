"""From a target to the strikes that will fire: which slots, at which unlock instants, with whom.

This is the plan as it stands before any strike has fired; the engine re-plans from real outcomes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from snipe.domain.scoring import WCScore, score_block
from snipe.domain.site import SiteProfile
from snipe.domain.slots import Block, candidate_blocks, slot_start, unlock_instant
from snipe.domain.targets import Priority, Target

PRIMARY, FALLBACK, INSURANCE = "primary", "fallback", "insurance"


@dataclass(frozen=True)
class PlannedStrike:
    target: str
    rank: int
    role: str
    location: str
    sub_locations: tuple[str, ...]
    accounts: tuple[str, ...]
    slot_start: datetime  # aware, site timezone
    fire_at: datetime  # aware, UTC

    @property
    def key(self) -> tuple[str, str, str]:
        """Identity used to persist a plan idempotently."""
        return (self.target, self.fire_at.astimezone(UTC).isoformat(), self.location)

    def already_open(self, now: datetime) -> bool:
        return self.fire_at <= now


@dataclass(frozen=True)
class ScoredBlock:
    block: Block
    score: WCScore


@dataclass
class TargetPlan:
    target: Target
    day: date | None
    strikes: list[PlannedStrike] = field(default_factory=list)
    candidates: list[ScoredBlock] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    explanation: list[str] = field(default_factory=list)


def role_of(priority: Priority, first: Priority, profile: SiteProfile) -> str:
    if priority is first:
        return PRIMARY
    loc, head = profile.location(priority.location), profile.location(first.location)
    if loc and head and loc.window_hours > head.window_hours:
        return INSURANCE
    return FALLBACK


def rank_candidates(target: Target, profile: SiteProfile, now: datetime) -> list[ScoredBlock]:
    """Every block of the target that can still be won, best W_C score first."""
    tz = profile.tz
    first = target.ranked()[0].location
    scored: list[ScoredBlock] = []
    for day in target.days:
        for block in candidate_blocks(day, target.window, target.length, first):
            if slot_start(day, block.start_hour, tz) <= now:
                continue
            if target.preferences is None:
                score = WCScore(0, 0, 0, 0)
            else:
                score = score_block(day, block.start_hour, block.end_hour, target.preferences)
            scored.append(ScoredBlock(block, score))
    scored.sort(key=lambda s: (-s.score.total, s.block.day, s.block.start_hour))
    return scored


def plan_target(
    target: Target, profile: SiteProfile, accounts: list[str], now: datetime
) -> TargetPlan:
    """The strikes for `target`: each hour of the chosen day's window, per priority location."""
    tz = profile.tz
    candidates = rank_candidates(target, profile, now)
    if not candidates:
        plan = TargetPlan(target, None)
        plan.warnings.append(f"{target.name}: no block of {target.length} h can still be won")
        return plan
    best = candidates[0]
    day = best.block.day
    plan = TargetPlan(target, day, candidates=candidates)
    if target.flexible:
        if best.score.needs_confirmation:
            plan.warnings.append(
                f"{target.name}: best block scores {best.score.total:.0f} (< 0); "
                "preferences are hard to match, confirm before relying on it"
            )
        best_hours = {h for c in candidates if c.block.day == day for h in c.block.hours
                      if c.score.total == best.score.total}
    else:
        best_hours = set(target.window.hours)
    usable = list(target.accounts) or list(accounts)
    if not usable:
        plan.warnings.append(f"{target.name}: no active account to strike with")
    ranked = target.ranked()
    for priority in ranked:
        loc = profile.location(priority.location)
        if loc is None:
            continue
        subs = priority.sub_locations or tuple(s.name for s in loc.sub_locations)
        role = role_of(priority, ranked[0], profile)
        chosen = tuple(usable[: priority.max_accounts])
        for hour in sorted(best_hours):
            start = slot_start(day, hour, tz)
            if start <= now:
                continue
            plan.strikes.append(
                PlannedStrike(target.name, priority.rank, role, loc.name, subs, chosen,
                              start, unlock_instant(start, loc.window))
            )
        plan.explanation.append(
            f"#{priority.rank} {loc.name} ({role}): {len(best_hours)} hour(s) on {day}, "
            f"unlocking {loc.window_hours} h ahead, up to {priority.max_accounts} account(s)"
            + (f" over {', '.join(subs)}" if subs else "")
        )
    plan.strikes.sort(key=lambda s: (s.fire_at, s.rank))
    return plan
