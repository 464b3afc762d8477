"""How one sandbox runs: accounts, bots, clock, seed, admin token, state file, rate limit, and
which variant of the real site it plays."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from snipe.sandbox.peers import check_peers, is_peer, parse_peer
from snipe.sandbox.variants import DEFAULT_VARIANT, SandboxConfigError, Variant

__all__ = ["BOT_NAMES", "SandboxConfig", "SandboxConfigError", "parse_bots"]

BOT_NAMES = ("hall-rush", "fast")


def parse_bots(value: str | list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
    """`"none"`, `"hall-rush"`, `"fast"`, `"peer[:N][:AIM][:LATENCY]"` (peers.py) or a comma
    list of them, as a tuple of bot names (a peer's in full: `peer:1:spread:3-10ms`)."""
    if value is None:
        return ()
    names = value.split(",") if isinstance(value, str) else list(value)
    bots: list[str] = []
    for raw in names:
        name = raw.strip().lower()
        if name in ("", "none"):
            continue
        if is_peer(name):
            name = parse_peer(name).name
        elif name not in BOT_NAMES:
            known = ", ".join(("none", *BOT_NAMES, "peer[:N][:AIM][:LATENCY]"))
            raise SandboxConfigError(f"unknown sandbox bot {raw.strip()!r} (known: {known})")
        if name not in bots:
            bots.append(name)
    return tuple(bots)


@dataclass
class SandboxConfig:
    accounts: int = 5
    bots: tuple[str, ...] | str = ()
    clock_offset_s: float = 0.0
    clock_rate: float = 1.0
    # Site seconds around each whole hour that pass at real speed while the clock runs fast
    # (None: the clock's defaults; () : none, a plain fast clock).
    real_speed: tuple[tuple[float, float], ...] | None = None
    seed: int = 0
    admin_token: str | None = None
    state_path: Path | str | None = None
    rate_limit: float = 20.0  # requests per second per bearer token; 0 turns the limit off
    profile: str = "x-tudelft"
    # A bundle name (or a Variant); the knobs below, when given, override the bundle's.
    variant: str | Variant = DEFAULT_VARIANT
    listing: str | None = None  # early | at_unlock | lag:SECONDS
    hall_id: str | None = None  # linked | product
    hall_booking_id: str | None = None  # present | null
    errors: str | None = None  # nestjs | coded
    search_keys: str | None = None  # required | ignored
    joins: str | None = None  # required | embedded
    waitlist: str | bool | None = None  # on | off
    times: str | None = None  # utc | local-z
    shapes: str | None = None  # real | classic

    def __post_init__(self) -> None:
        self.bots = parse_bots(self.bots)
        if any(is_peer(b) for b in self.bots):
            from snipe.profiles import load_profile

            check_peers(self.bots, load_profile(self.profile))
        self.variant = self._variant()
        if self.accounts < 0:
            raise SandboxConfigError(f"sandbox accounts must be 0 or more, got {self.accounts}")
        if not self.clock_rate > 0:
            raise SandboxConfigError(f"sandbox clock rate must be positive, got {self.clock_rate}")
        if self.rate_limit < 0:
            raise SandboxConfigError(f"sandbox rate limit must be 0 or more, got {self.rate_limit}")
        if self.real_speed is not None:
            try:
                self.real_speed = tuple((float(lo), float(hi)) for lo, hi in self.real_speed)
            except (TypeError, ValueError):
                raise SandboxConfigError("real-speed windows are pairs of seconds around the "
                                         f"hour, e.g. ((-10, 6),), not {self.real_speed!r}"
                                         ) from None
            if any(hi <= lo for lo, hi in self.real_speed):
                raise SandboxConfigError(f"a real-speed window ends before it starts: "
                                         f"{self.real_speed!r}")
        if not self.admin_token:
            self.admin_token = secrets.token_urlsafe(18)
        if self.state_path is not None:
            self.state_path = Path(self.state_path)

    def _variant(self) -> Variant:
        base = self.variant
        if not isinstance(base, Variant):
            base = Variant.from_name(str(base))
        waitlist = self.waitlist
        if isinstance(waitlist, bool):
            waitlist = "on" if waitlist else "off"
        return base.with_overrides(
            listing=self.listing, hall_id=self.hall_id, hall_booking_id=self.hall_booking_id,
            errors=self.errors, search_keys=self.search_keys, joins=self.joins,
            waitlist=waitlist, times=self.times, shapes=self.shapes)

    @property
    def play(self) -> Variant:
        """The variant this sandbox plays (after `__post_init__`, always a `Variant`)."""
        assert isinstance(self.variant, Variant)
        return self.variant

    def __repr__(self) -> str:  # the admin token is a secret
        return (f"SandboxConfig(accounts={self.accounts}, bots={self.bots}, "
                f"clock_offset_s={self.clock_offset_s}, clock_rate={self.clock_rate}, "
                f"seed={self.seed}, state_path={self.state_path}, rate_limit={self.rate_limit}, "
                f"profile={self.profile!r}, variant={self.play.describe()!r}, admin_token=***)")
