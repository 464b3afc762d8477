"""How one sandbox runs: accounts, bots, clock, seed, admin token, state file, rate limit."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from snipe.errors import ConfigError

BOT_NAMES = ("hall-rush", "fast")


class SandboxConfigError(ConfigError):
    """A sandbox option is out of range or unknown."""


def parse_bots(value: str | list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
    """`"none"`, `"hall-rush"`, `"fast"` or a comma list of them, as a tuple of bot names."""
    if value is None:
        return ()
    names = value.split(",") if isinstance(value, str) else list(value)
    bots: list[str] = []
    for raw in names:
        name = raw.strip().lower()
        if name in ("", "none"):
            continue
        if name not in BOT_NAMES:
            known = ", ".join(("none", *BOT_NAMES))
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

    def __post_init__(self) -> None:
        self.bots = parse_bots(self.bots)
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

    def __repr__(self) -> str:  # the admin token is a secret
        return (f"SandboxConfig(accounts={self.accounts}, bots={self.bots}, "
                f"clock_offset_s={self.clock_offset_s}, clock_rate={self.clock_rate}, "
                f"seed={self.seed}, state_path={self.state_path}, rate_limit={self.rate_limit}, "
                f"profile={self.profile!r}, admin_token=***)")
