"""Which of the real site's plausible behaviours the sandbox plays (SITE.md, "Variants").

Each knob is one open question about the live site; a `Variant` fixes an answer to every one of
them. Named bundles give the likely real site, the sandbox's historical behaviour and a site
that releases its slots late; single knobs override a bundle.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

from snipe.errors import ConfigError

DEFAULT_VARIANT = "likely"

# How long before its unlock an early-listed slot already shows in the list. The real lead is
# unknown (a Delft client saw gym slots more than a window ahead); a day covers the engine's wake.
EARLY_LISTING_LEAD_S = 24 * 3600

LISTINGS = ("early", "at_unlock", "lag")
CHOICES: dict[str, tuple[str, ...]] = {
    "hall_id": ("linked", "product"),
    "hall_booking_id": ("present", "null"),
    "errors": ("nestjs", "coded"),
    "search_keys": ("required", "ignored"),
    "joins": ("required", "embedded"),
    "waitlist": ("on", "off"),
    "times": ("utc", "local-z"),
    "shapes": ("real", "classic"),
}
KNOBS = ("listing", *CHOICES)

Listing = Literal["early", "at_unlock", "lag"]
HallId = Literal["linked", "product"]
HallBookingId = Literal["present", "null"]
Errors = Literal["nestjs", "coded"]
Required = Literal["required", "ignored"]
Joins = Literal["required", "embedded"]
Switch = Literal["on", "off"]
Times = Literal["utc", "local-z"]
ShapeStyle = Literal["real", "classic"]


class SandboxConfigError(ConfigError):
    """A sandbox option is out of range or unknown."""

    exit_code = 2


@dataclass(frozen=True)
class Variant:
    """One answer to every open question about the real site.

    listing: `early` (listed a day before the unlock, refused until it), `at_unlock`, or `lag`
    (listed and open only `release_lag_s` after the unlock). `shapes` says whether the answers
    and pages the sandbox had before the variants existed (`classic`) or the real site's
    (`real`) are served where the two differ: cancel status, body strictness, token format,
    the stored session and the booking page's markup.
    """

    name: str
    listing: Listing = "at_unlock"
    release_lag_s: float = 0.0
    hall_id: HallId = "linked"
    hall_booking_id: HallBookingId = "present"
    errors: Errors = "coded"
    search_keys: Required = "ignored"
    joins: Joins = "embedded"
    waitlist: Switch = "off"
    times: Times = "utc"
    shapes: ShapeStyle = "classic"

    @classmethod
    def from_name(cls, name: str) -> Variant:
        key = name.strip().lower()
        if key not in BUNDLES:
            raise SandboxConfigError(
                f"unknown sandbox variant {name.strip()!r} (known: {', '.join(BUNDLES)})")
        return BUNDLES[key]

    def with_overrides(self, **knobs: str | None) -> Variant:
        """This variant with some knobs set from their option values (`listing="lag:30"`);
        None leaves a knob as the bundle has it."""
        changes: dict[str, Any] = {}
        for knob, value in knobs.items():
            if value is None:
                continue
            if knob == "listing":
                changes["listing"], changes["release_lag_s"] = parse_listing(value)
            elif knob in CHOICES:
                changes[knob] = _choice(knob, value)
            else:
                raise SandboxConfigError(f"unknown sandbox knob {knob!r} "
                                         f"(known: {', '.join(KNOBS)})")
        return replace(self, **changes) if changes else self

    @property
    def overrides(self) -> list[str]:
        """The knobs set apart from the named bundle, as `knob value`."""
        bundle = BUNDLES.get(self.name)
        if bundle is None:
            return []
        mine, theirs = self._knobs(), bundle._knobs()
        return [f"{k.replace('_', '-')} {mine[k]}" for k in KNOBS if mine[k] != theirs[k]]

    # -- reading the knobs ------------------------------------------------------------------
    def listed_from(self, unlock_at: float) -> float:
        """When a slot unlocking at `unlock_at` first shows in the list (sandbox seconds)."""
        if self.listing == "early":
            return unlock_at - EARLY_LISTING_LEAD_S
        return unlock_at + self.release_lag_s

    def opens_at(self, unlock_at: float) -> float:
        """When a slot unlocking at `unlock_at` can be booked: a lagging release delays it."""
        return unlock_at + self.release_lag_s

    @property
    def listing_text(self) -> str:
        return f"lag:{self.release_lag_s:g}" if self.listing == "lag" else self.listing

    @property
    def nestjs(self) -> bool:
        return self.errors == "nestjs"

    @property
    def real_shapes(self) -> bool:
        return self.shapes == "real"

    @property
    def waitlist_on(self) -> bool:
        return self.waitlist == "on"

    @property
    def hall_ids_public(self) -> bool:
        return self.hall_booking_id == "present"

    def _knobs(self) -> dict[str, Any]:
        return asdict(self) | {"listing": self.listing_text}

    def json(self) -> dict[str, Any]:
        return self._knobs() | {"overrides": self.overrides}

    def describe(self) -> str:
        """One line for the serve banner: the name, then every knob."""
        values = self._knobs()
        knobs = ", ".join(f"{k.replace('_', '-')} {values[k]}" for k in KNOBS)
        return f"{self.name} ({knobs})"


def parse_listing(value: str) -> tuple[str, float]:
    """`early`, `at_unlock` or `lag:SECONDS` as (mode, lag in seconds)."""
    text = str(value).strip().lower()
    mode, _, seconds = text.partition(":")
    if mode == "lag":
        try:
            lag = float(seconds)
        except ValueError:
            lag = -1.0
        if not 0 < lag <= 86400:
            raise SandboxConfigError(
                f"sandbox listing {value!r}: lag needs seconds in (0, 86400], e.g. lag:90")
        return "lag", lag
    if mode in LISTINGS and not seconds:
        return mode, 0.0
    raise SandboxConfigError(
        f"unknown sandbox listing {value!r} (known: early, at_unlock, lag:SECONDS)")


def _choice(knob: str, value: str) -> str:
    text = str(value).strip().lower()
    if knob == "times":
        text = text.replace("_", "-")
    if text not in CHOICES[knob]:
        raise SandboxConfigError(f"unknown sandbox {knob.replace('_', '-')} {value!r} "
                                 f"(known: {', '.join(CHOICES[knob])})")
    return text


BUNDLES: dict[str, Variant] = {
    "likely": Variant(
        name="likely", listing="early", hall_id="product", hall_booking_id="null",
        errors="nestjs", search_keys="required", joins="required", waitlist="on", times="utc",
        shapes="real"),
    "classic": Variant(name="classic"),
    "laggy": Variant(
        name="laggy", listing="lag", release_lag_s=90.0, hall_id="product",
        hall_booking_id="null", errors="nestjs", search_keys="required", joins="required",
        waitlist="on", times="utc", shapes="real"),
}
