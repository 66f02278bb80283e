"""The token bucket behind ``rate_limit`` per ``rate_interval``: pure, the clock passed in."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class RateLimit:
    """At most ``limit`` job starts per ``interval`` seconds, shared by every worker of a queue.

    ``limit=0`` blocks all processing. The bucket holds up to ``limit`` tokens and refills at
    ``limit / interval`` tokens per second, so bursts never exceed ``limit``.
    """

    limit: int
    interval: float = 1.0

    def __post_init__(self) -> None:
        if self.limit < 0:
            raise ValueError("rate_limit must be >= 0 (0 blocks, None disables)")
        if self.interval <= 0:
            raise ValueError("rate_interval must be > 0")


@dataclass
class TokenBucket:
    """Bucket state; backends that keep it in storage use the same arithmetic."""

    rate: RateLimit
    tokens: float
    updated_at: float

    @classmethod
    def full(cls, rate: RateLimit, now: float) -> TokenBucket:
        return cls(rate, float(rate.limit), now)

    def refill(self, now: float) -> None:
        if now > self.updated_at:
            per_second = self.rate.limit / self.rate.interval
            self.tokens = min(
                float(self.rate.limit), self.tokens + (now - self.updated_at) * per_second
            )
            self.updated_at = now

    def take(self, wanted: int, now: float) -> int:
        """Take up to ``wanted`` whole tokens; return how many were granted."""
        self.refill(now)
        granted = min(wanted, math.floor(self.tokens))
        if granted > 0:
            self.tokens -= granted
        return max(granted, 0)

    def give_back(self, count: int) -> None:
        """Return tokens that were taken for jobs that turned out not to exist."""
        self.tokens = min(float(self.rate.limit), self.tokens + count)

    def next_token_at(self, now: float) -> float | None:
        """When the next whole token appears; ``None`` if never (``limit=0``)."""
        if self.rate.limit == 0:
            return None
        self.refill(now)
        if self.tokens >= 1:
            return now
        return now + (1 - self.tokens) * self.rate.interval / self.rate.limit
