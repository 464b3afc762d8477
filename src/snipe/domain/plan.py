"""A target's plan as the user sees it: the planner's forecast of strikes (one row per instant and
location), the W_C-ranked candidate blocks and the explanation in words."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from snipe.domain.ledger import BACKUP, FALLBACK, INSURANCE, PRIMARY, Attempt, PlanState
from snipe.domain.narrate import explain
from snipe.domain.planner import Decision, decide
from snipe.domain.scoring import WCScore, score_block
from snipe.domain.site import SiteProfile
from snipe.domain.slots import Block, candidate_blocks, slot_start, unlock_instant
from snipe.domain.targets import Target

ROLE_ORDER = (PRIMARY, FALLBACK, INSURANCE, BACKUP)


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
    decision: Decision | None = None
    warnings: list[str] = field(default_factory=list)
    explanation: list[str] = field(default_factory=list)


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


def forecast_rows(decision: Decision, target: Target, profile: SiteProfile) -> list[PlannedStrike]:
    """The decision's strikes as one row per (instant, slot): what fires when, with whom."""
    ranks = {p.location: p.rank for p in target.priorities}
    grouped: dict[tuple[datetime, str, date, int], list[Attempt]] = defaultdict(list)
    for strike in decision.strikes:
        for a in strike.attempts:
            grouped[(strike.fire_at, a.location, a.day, a.hour)].append(a)
    rows = []
    for (fire_at, location, _day, _hour), attempts in sorted(grouped.items()):
        first = attempts[0]
        subs = tuple(dict.fromkeys(a.sub_location for a in attempts if a.sub_location))
        accounts = tuple(dict.fromkeys(a.account for a in attempts))
        role = min((a.role for a in attempts), key=ROLE_ORDER.index)
        start = slot_start(first.day, first.hour, profile.tz)
        loc = profile.location(location)
        if loc is not None:
            # A slot already open fires "now"; its row keeps the unlock instant, so planning
            # again later finds the same row instead of adding one per run.
            fire_at = min(fire_at, unlock_instant(start, loc.window))
        rows.append(PlannedStrike(
            target.name, ranks.get(location, 0), role, location, subs, accounts, start, fire_at,
        ))
    return rows


def plan_target(state: PlanState, now: datetime) -> TargetPlan:
    """The planner's decision for `state` at `now`, with the strikes it forecasts, the W_C
    ranking of candidate blocks and the plan in words."""
    target, profile = state.target, state.profile
    decision = decide(state, now)
    candidates = rank_candidates(target, profile, now)
    day = decision.aims[0].block.day if decision.aims else (
        candidates[0].block.day if candidates else None)
    plan = TargetPlan(target, day, candidates=candidates, decision=decision)
    plan.warnings.extend(decision.notes)
    if not candidates and not decision.done:
        plan.warnings.append(f"{target.name}: no block of {target.length} h can still be won")
    plan.strikes = forecast_rows(decision, target, profile)
    plan.explanation = explain(decision, profile.tz)
    return plan
