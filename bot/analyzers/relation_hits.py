"""What the relation rules report before it is dressed as a Finding: rule, place, evidence, confidence."""

from __future__ import annotations

import re
from dataclasses import dataclass

_TEST_PATH = re.compile(
    r"(^|/)(tests?|spec|specs|__tests__|fixtures|factories)/|(^|/)(test_[^/]*|[^/]*_(test|spec))\.\w+$"
)
_LOW_PATH = re.compile(r"(^|/)(migrations|seeds?|scripts|populate\w*|seed\w*)(/|\.)|populatedb|fake_?data|demo_?data")


@dataclass(frozen=True)
class Hit:
    rule: str  # key into the rule texts
    start_line: int
    end_line: int
    evidence: str
    confidence: float
    suggestion: str | None = None  # replacement for start_line..end_line
    severity: str | None = None  # overrides the rule's default


def is_test_path(path: str) -> bool:
    return bool(_TEST_PATH.search(path))


def is_offline_path(path: str) -> bool:
    """Migrations, seeding and one-off scripts: a per-item query there is at most low."""
    return bool(_LOW_PATH.search(path.lower()))
