"""What the planner decides: releases due now, the next strikes, the verdict, the block kept.

Plain frozen values with `to_dict`/`from_dict` (ISO dates and instants) so the engine can persist
a decision and show it later.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from snipe.domain.ledger import Attempt, HeldBooking, utc
from snipe.domain.slots import Block

IN_PROGRESS, WON_BLOCK, FAILED = "in_progress", "won", "failed"
SURPLUS, ORPHAN, SUPERSEDED, INSURANCE_DONE, UNBLOCK, NOT_KEPT = (
    "surplus", "orphan", "superseded", "insurance_not_needed", "unblock", "not_kept",
)
# A won target's old block once a better one is wholly held, and the bookings of a better block
# that could not be completed (domain/upgrade.py).
UPGRADED, UPGRADE_UNDONE = "upgraded", "upgrade_undone"


@dataclass(frozen=True)
class Release:
    booking: HeldBooking
    kind: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"booking": self.booking.to_dict(), "kind": self.kind, "reason": self.reason}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Release:
        return cls(HeldBooking.from_dict(data["booking"]), data["kind"], data["reason"])


@dataclass(frozen=True)
class Strike:
    """All attempts fired at one instant; `releases_before` are cancelled just before it;
    `reasons[i]` says why `attempts[i]` goes where it goes (empty for older plans)."""

    target: str
    fire_at: datetime  # UTC
    attempts: tuple[Attempt, ...]
    releases_before: tuple[Release, ...] = ()
    reasons: tuple[str, ...] = ()

    def why(self, i: int) -> str | None:
        return self.reasons[i] if i < len(self.reasons) else None

    @property
    def id(self) -> str:
        return f"{self.target}@{self.fire_at:%Y-%m-%dT%H:%M:%SZ}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "target": self.target, "fire_at": self.fire_at.isoformat(),
            "attempts": [a.to_dict() for a in self.attempts],
            "releases_before": [r.to_dict() for r in self.releases_before],
            "reasons": list(self.reasons),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Strike:
        return cls(
            data["target"], utc(datetime.fromisoformat(data["fire_at"])),
            tuple(Attempt.from_dict(a) for a in data["attempts"]),
            tuple(Release.from_dict(r) for r in data.get("releases_before", [])),
            tuple(data.get("reasons", [])),
        )


@dataclass(frozen=True)
class Aim:
    """A block the plan is going for, in which role, and how many of its hours are held."""

    block: Block
    role: str
    held: int
    score: float

    def to_dict(self) -> dict[str, Any]:
        return {"block": block_to_dict(self.block), "role": self.role, "held": self.held,
                "score": self.score}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Aim:
        return cls(block_from_dict(data["block"]), data["role"], int(data["held"]),
                   float(data["score"]))


@dataclass(frozen=True)
class KeptBlock:
    block: Block
    bookings: tuple[HeldBooking, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"block": block_to_dict(self.block),
                "bookings": [b.to_dict() for b in self.bookings]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> KeptBlock:
        return cls(block_from_dict(data["block"]),
                   tuple(HeldBooking.from_dict(b) for b in data["bookings"]))


@dataclass(frozen=True)
class Decision:
    """What to do now: releases to apply at once, the next strike (`strikes[0]`; the rest is a
    forecast that assumes each slot's first attempt wins), the verdict and the block kept, and
    the block that one replaced when the target upgraded."""

    target: str
    at: datetime
    verdict: str
    releases: tuple[Release, ...] = ()
    strikes: tuple[Strike, ...] = ()
    kept: KeptBlock | None = None
    aims: tuple[Aim, ...] = ()
    notes: tuple[str, ...] = ()
    upgraded_from: Block | None = None

    @property
    def done(self) -> bool:
        return self.verdict != IN_PROGRESS

    @property
    def next_strike(self) -> Strike | None:
        return self.strikes[0] if self.strikes else None

    @property
    def wake_at(self) -> datetime | None:
        """When the engine must fire next (it wakes earlier to prepare)."""
        return self.strikes[0].fire_at if self.strikes else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target, "at": self.at.isoformat(), "verdict": self.verdict,
            "releases": [r.to_dict() for r in self.releases],
            "strikes": [s.to_dict() for s in self.strikes],
            "kept": None if self.kept is None else self.kept.to_dict(),
            "aims": [a.to_dict() for a in self.aims], "notes": list(self.notes),
            **({} if self.upgraded_from is None else
               {"upgraded_from": self.upgraded_from.to_dict()}),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Decision:
        return cls(
            data["target"], utc(datetime.fromisoformat(data["at"])), data["verdict"],
            tuple(Release.from_dict(r) for r in data.get("releases", [])),
            tuple(Strike.from_dict(s) for s in data.get("strikes", [])),
            None if data.get("kept") is None else KeptBlock.from_dict(data["kept"]),
            tuple(Aim.from_dict(a) for a in data.get("aims", [])),
            tuple(data.get("notes", [])),
            None if data.get("upgraded_from") is None else Block.from_dict(data["upgraded_from"]),
        )


def slot_words(b: HeldBooking) -> str:
    """A held booking in a release's reason: `X1 A 2026-11-26 11:00 (user1)`."""
    return f"{b.sub_location or b.location} {b.day} {b.hour:02d}:00 ({b.account})"


def block_to_dict(block: Block) -> dict[str, Any]:
    return block.to_dict()


def block_from_dict(data: dict[str, Any]) -> Block:
    return Block.from_dict(data)
