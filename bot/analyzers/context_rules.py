"""The shape shared by analyzers whose rules live in one metadata file and that read the whole change."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Self

from bot.analyzers.change_context import ChangeContext
from bot.analyzers.rule_info import RuleInfo, load_rule_infos


class ChangeRulesAnalyzer:
    """Holds the change context (`bind_change` returns a bound copy, so one default instance serves concurrent
    reviews) and the rules of `rules_file`."""

    rules_file: ClassVar[Path]
    needs_change_context = True

    def __init__(self, context: ChangeContext | None = None) -> None:
        self._context = context or ChangeContext()
        self.rules: tuple[RuleInfo, ...] = load_rule_infos(self.rules_file)
        self._by_id = {r.id: r for r in self.rules}

    def bind_change(self, context: ChangeContext) -> Self:
        return type(self)(context)

    def rule_ids(self) -> list[str]:
        return [r.id for r in self.rules]
