"""How a site's clock advances against real time: at one rate, or fast with real-speed windows.

A real site's clock runs at real speed. The sandbox may run its clock fast between events and at
real speed around each unlock (and each release), so that a browser login or a busy CPU costs
real seconds, not hours of site time, and the bots' delays stay physical. Its time endpoint says
how (`rate`, `real_speed` windows, `every_s`); both the sandbox and our measurement of its clock
use this one model.

The model: site time `s` (POSIX seconds) maps to a real-time coordinate `D(s)`, a continuous
increasing piecewise-linear function. Within each period of `every_s` seconds (aligned on the
epoch, so on whole UTC hours), the slow windows advance one site second per real second and the
rest advances `rate` site seconds per real second.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Timeline:
    rate: float = 1.0
    real_speed: tuple[tuple[float, float], ...] = ()  # windows (from, to) around each period start
    every_s: float = 3600.0
    _starts: tuple[float, ...] = field(init=False, repr=False, compare=False)
    _factor: tuple[float, ...] = field(init=False, repr=False, compare=False)
    _real_at: tuple[float, ...] = field(init=False, repr=False, compare=False)
    _period_real: float = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.rate > 0 or not self.every_s > 0:
            raise ValueError("a timeline needs a positive rate and period")
        slow = _normalised(self.real_speed, self.every_s)
        starts, factor = [], []
        edge = 0.0
        for lo, hi in slow:
            if lo > edge:
                starts.append(edge)
                factor.append(1.0 / self.rate)
            starts.append(lo)
            factor.append(1.0)
            edge = hi
        if edge < self.every_s:
            starts.append(edge)
            factor.append(1.0 / self.rate)
        real_at, total = [], 0.0
        ends = [*starts[1:], self.every_s]
        for start, end, f in zip(starts, ends, factor, strict=True):
            real_at.append(total)
            total += (end - start) * f
        object.__setattr__(self, "_starts", tuple(starts))
        object.__setattr__(self, "_factor", tuple(factor))
        object.__setattr__(self, "_real_at", tuple(real_at))
        object.__setattr__(self, "_period_real", total)

    @classmethod
    def linear(cls, rate: float = 1.0) -> Timeline:
        return cls(rate)

    @property
    def is_linear(self) -> bool:
        return not self.real_speed or self.rate == 1.0

    def _real(self, site: float) -> float:
        k = math.floor(site / self.every_s)
        p = site - k * self.every_s
        i = bisect_right(self._starts, p) - 1
        return k * self._period_real + self._real_at[i] + (p - self._starts[i]) * self._factor[i]

    def _site(self, real: float) -> float:
        k = math.floor(real / self._period_real)
        q = real - k * self._period_real
        i = bisect_right(self._real_at, q) - 1
        return k * self.every_s + self._starts[i] + (q - self._real_at[i]) / self._factor[i]

    def real_span(self, site_from: float, site_to: float) -> float:
        """Real seconds the site's clock takes from `site_from` to `site_to` (POSIX seconds)."""
        if self.is_linear:
            return (site_to - site_from) / self.rate
        return self._real(site_to) - self._real(site_from)

    def site_after(self, site_from: float, real_s: float) -> float:
        """The site instant `real_s` real seconds after `site_from`."""
        if self.is_linear:
            return site_from + real_s * self.rate
        return self._site(self._real(site_from) + real_s)

    def rate_at(self, site: float) -> float:
        """Site seconds per real second at `site`."""
        if self.is_linear:
            return self.rate
        p = site - math.floor(site / self.every_s) * self.every_s
        return 1.0 / self._factor[bisect_right(self._starts, p) - 1]

    def to_json(self) -> dict[str, Any]:
        return {"rate": self.rate, "real_speed": [list(w) for w in self.real_speed],
                "every_s": self.every_s}

    @classmethod
    def from_json(cls, data: Any) -> Timeline:
        """From a time endpoint's answer: `rate`, optional `real_speed` windows and `every_s`."""
        rate = float(data.get("rate") or 1.0)
        windows = tuple((float(lo), float(hi)) for lo, hi in data.get("real_speed") or ())
        return cls(rate, windows, float(data.get("every_s") or 3600.0))


def _normalised(windows: Sequence[tuple[float, float]], period: float
                ) -> list[tuple[float, float]]:
    """The windows folded into [0, period), split where they wrap, sorted and merged."""
    pieces: list[tuple[float, float]] = []
    for lo, hi in windows:
        if hi <= lo:
            raise ValueError(f"real-speed window ({lo:g}, {hi:g}) ends before it starts")
        if hi - lo >= period:
            return [(0.0, period)]
        start = lo % period
        end = start + (hi - lo)
        if end <= period:
            pieces.append((start, end))
        else:
            pieces += [(start, period), (0.0, end - period)]
    merged: list[tuple[float, float]] = []
    for lo, hi in sorted(pieces):
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged
