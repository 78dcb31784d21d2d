"""What SARIF (and anyone listing rules) needs to know about one analyzer rule."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.model import Category, Severity


@dataclass(frozen=True)
class RuleMeta:
    """One analyzer rule: its id (the finding's `source`), a title, category, default severity, help text, and
    for a team's own rule where it comes from (`origin`: repository or organisation, `source`: its file)."""

    id: str
    title: str
    category: Category
    severity: Severity
    help: str = ""
    origin: str = ""
    source: str = ""
