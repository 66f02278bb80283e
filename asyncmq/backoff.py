"""Retry delay policies: pure functions of the attempt number and a random source."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal


@dataclass(frozen=True)
class Backoff:
    """How long a failed job waits before its next attempt.

    ``kind="fixed"`` waits ``base`` seconds every time; ``kind="exponential"`` waits
    ``base * 2 ** (attempt - 1)``. Either is capped at ``cap`` seconds, then ``jitter`` (0 to 1)
    spreads it: the delay is drawn uniformly from ``[d * (1 - jitter), d]`` so that jobs that
    failed together do not all retry in the same instant.
    """

    kind: Literal["fixed", "exponential"] = "exponential"
    base: float = 1.0
    cap: float = 3600.0
    jitter: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in ("fixed", "exponential"):
            raise ValueError(f"backoff kind must be 'fixed' or 'exponential', not {self.kind!r}")
        if self.base < 0 or self.cap < 0:
            raise ValueError("backoff base and cap must be >= 0")
        if not 0.0 <= self.jitter <= 1.0:
            raise ValueError("backoff jitter must be between 0 and 1")

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1 for the first)."""
        steps = 0 if self.kind == "fixed" else min(max(attempt - 1, 0), 62)
        raw = min(self.base * 2.0**steps, self.cap)
        if self.jitter:
            low = raw * (1.0 - self.jitter)
            raw = (rng or random).uniform(low, raw)
        return raw

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "base": self.base, "cap": self.cap, "jitter": self.jitter}

    @classmethod
    def from_value(cls, value: Backoff | float | Mapping[str, Any] | None) -> Backoff | None:
        """Accept a ``Backoff``, a number (fixed delay) or a dict from :meth:`to_dict`."""
        if value is None or isinstance(value, Backoff):
            return value
        if isinstance(value, (int, float)):
            return cls(kind="fixed", base=float(value), cap=float(value))
        return cls(**value)
