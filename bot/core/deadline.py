"""A wall-clock deadline passed down to loops that read untrusted input (analyzers, tool calls, searches).

Pure Python cannot be interrupted from outside, so every loop over input an attacker controls asks
its deadline at each step: `check()` raises `DeadlineExceeded` once the time is up.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field


class DeadlineExceeded(BaseException):
    """The work ran out of its wall-clock budget.

    A BaseException (like KeyboardInterrupt): the `except Exception` guards analyzers keep around
    parsers of hostile input must not swallow it and report the file as read."""


@dataclass(frozen=True)
class Deadline:
    """An absolute point on a monotonic clock; `Deadline.after(2.0)` is two seconds from now."""

    expires_at: float = math.inf
    clock: Callable[[], float] = field(default=time.monotonic, compare=False, repr=False)

    @classmethod
    def after(cls, seconds: float, clock: Callable[[], float] = time.monotonic) -> Deadline:
        return cls(clock() + max(0.0, seconds), clock)

    def remaining(self) -> float:
        return max(0.0, self.expires_at - self.clock())

    def expired(self) -> bool:
        return self.clock() >= self.expires_at

    def check(self) -> None:
        if self.expired():
            raise DeadlineExceeded("time budget spent")

    def within(self, seconds: float) -> Deadline:
        """The sooner of this deadline and `seconds` from now."""
        return Deadline(min(self.expires_at, self.clock() + max(0.0, seconds)), self.clock)


NEVER = Deadline()
