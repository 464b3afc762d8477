"""When to look again for a slot that is not there yet: the bounded, backing-off watch.

Pure: offsets in site seconds after the unlock instant. Two phases:
- at the instant, a few quick polls covering the doubt about the site's clock (0, g, 3g, 7g);
- then, for a release that lags (minutes, on some deployments), from 1 s on with doubling gaps
  up to a cap, until the watch's horizon. Never forever, and never faster than the first gap.

When earlier strikes saw the release lag (`lag`: the last offset it was still absent, the first
it was there), the second phase spreads a few polls across that interval instead, so a steady
lag is met within a fraction of it after a strike or two.
"""

from __future__ import annotations

from dataclasses import dataclass

INSTANT_POLLS = 4  # 0, g, 3g, 7g
LAG_START_S = 1.0
LAG_SPREAD = 4  # polls across a known lag interval


@dataclass(frozen=True)
class WatchPlan:
    first_gap_s: float = 0.05
    max_gap_s: float = 20.0
    horizon_s: float = 300.0
    lag: tuple[float, float] | None = None  # (still absent at, listed by), seconds after unlock

    def offsets(self) -> list[float]:
        """Every planned poll, ascending, within the horizon (the first at 0)."""
        gap = max(self.first_gap_s, 0.001)
        planned = [gap * (2**i - 1) for i in range(INSTANT_POLLS)]
        planned += self._lag_polls() if self.lag else _doubling(LAG_START_S, self.max_gap_s,
                                                                self.horizon_s)
        result: list[float] = []
        for offset in sorted(planned):
            if offset <= self.horizon_s and (not result or offset - result[-1] >= gap / 2):
                result.append(offset)
        return result

    def _lag_polls(self) -> list[float]:
        assert self.lag is not None
        lo, hi = self.lag
        lo, hi = max(0.0, min(lo, hi)), max(lo, hi)
        step = (hi - lo) / LAG_SPREAD
        spread = [lo + step * i for i in range(LAG_SPREAD + 1)] if step > 0 else [hi]
        later = [hi + o for o in _doubling(LAG_START_S, self.max_gap_s, self.horizon_s - hi)]
        return [LAG_START_S, *spread, *later]


def _doubling(first: float, cap: float, horizon: float) -> list[float]:
    offsets, at, gap = [], first, first
    while at <= horizon:
        offsets.append(at)
        at += gap
        gap = min(gap * 2, cap)
    return offsets


def narrowed(lag: tuple[float, float] | None, absent_at: float, listed_at: float
             ) -> tuple[float, float]:
    """The lag interval after a strike saw the slot still absent (or refused as not open) at
    `absent_at` and there at `listed_at` (offsets after the unlock), given the one before."""
    lo = absent_at
    if lag is not None and lag[0] < listed_at:
        lo = max(lo, lag[0])  # a steady lag: what an earlier strike saw still holds
    return (min(lo, listed_at), listed_at)
