"""Billing increments: minimum duration and rounding step of a call.

hosted-pbx.txt, usage clause 1.b: "The minimum charge for a call is sixty (60) seconds, and each call
will be billed in sixty (60) second increments – rounded up to the next whole minute." That is the
default; a plan may use another scheme (30/6, 6/6, 1/1).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Increment:
    """A billing scheme: the first `minimum_s` seconds are always billed, then steps of `step_s`."""

    minimum_s: int = 60
    step_s: int = 60

    def __post_init__(self) -> None:
        if self.minimum_s < 0:
            raise ValueError(f"minimum_s must be >= 0, got {self.minimum_s}")
        if self.step_s < 1:
            raise ValueError(f"step_s must be >= 1, got {self.step_s}")

    @property
    def label(self) -> str:
        return f"{self.minimum_s}/{self.step_s}"


SIXTY_SIXTY = Increment(60, 60)  # hosted-pbx.txt usage 1.b, the default
THIRTY_SIX = Increment(30, 6)
SIX_SIX = Increment(6, 6)
ONE_ONE = Increment(1, 1)


def billable_seconds(duration_ms: int, minimum_s: int = 60, step_s: int = 60) -> int:
    """Seconds to bill for one call.

    hosted-pbx.txt, usage 1.b: "The minimum charge for a call is sixty (60) seconds, and each call
    will be billed in sixty (60) second increments – rounded up to the next whole minute."
    A 61-second call is billed as 120 seconds; a zero-length call is not billed at all.
    """
    if duration_ms <= 0:
        return 0
    seconds = max(minimum_s, -(-duration_ms // 1000))
    return -(-seconds // step_s) * step_s
