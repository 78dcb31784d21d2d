"""Deadline: a point on an injected clock; `check` raises once it has passed."""

from __future__ import annotations

import pytest

from bot.core.deadline import NEVER, Deadline, DeadlineExceeded


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_deadline_expires_after_its_seconds_and_check_raises() -> None:
    clock = Clock()
    d = Deadline.after(2.0, clock)
    assert not d.expired() and d.remaining() == 2.0
    clock.now += 2.0
    assert d.expired() and d.remaining() == 0.0
    with pytest.raises(DeadlineExceeded):
        d.check()


def test_within_takes_the_sooner_and_never_never_expires() -> None:
    clock = Clock()
    d = Deadline.after(10.0, clock)
    assert d.within(1.0).expires_at == 101.0 and d.within(60.0).expires_at == 110.0
    NEVER.check()
    assert not NEVER.expired()


def test_except_exception_does_not_swallow_it() -> None:
    with pytest.raises(DeadlineExceeded):
        try:
            Deadline(0.0).check()
        except Exception:  # the guard analyzers keep around parsers of hostile input
            pytest.fail("swallowed")
