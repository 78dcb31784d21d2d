"""Removed safeguards: a differential analyzer that parses base and head of a changed file and asks
why a protection present at base (eager loading, an index, a timeout, batching, a limit, work hoisted
out of a loop, a concurrency bound) is gone or weakened at head."""

from __future__ import annotations

import time

from bot.analyzers.astgrep import is_test_path
from bot.analyzers.base import FileInput
from bot.analyzers.change_context import ChangeContext
from bot.analyzers.safeguards.compare import hoisting_losses, safeguard_losses
from bot.analyzers.safeguards.line_side import language_of, line_side
from bot.analyzers.safeguards.lines import line_map
from bot.analyzers.safeguards.model import Loss, Side
from bot.analyzers.safeguards.moved_files import Gains
from bot.analyzers.safeguards.protected import association_gone, reads_dropped_in_change
from bot.analyzers.safeguards.python_side import python_side
from bot.analyzers.safeguards.report import SafeguardRule, rule_ids, rules, to_finding
from bot.analyzers.safeguards.restore import place
from bot.core.model import Finding

MAX_FILE_CHARS = 1_500_000
TIME_BUDGET_SECONDS = 5.0


def read_side(path: str, text: str) -> Side:
    """The safeguards of one side of a file, by its language."""
    if path.endswith((".py", ".pyi")):
        return python_side(text)
    language = language_of(path)
    return line_side(text, language) if language else Side(parsed=False)


_VENDORED = frozenset({"vendor", "node_modules", "third_party", "dist", "build"})


def _vendored(path: str) -> bool:
    """Copied or generated code: its authors are elsewhere, so is the question."""
    parts = path.split("/")
    return any(p in _VENDORED for p in parts[:-1]) or parts[-1].endswith((".min.js", ".bundle.js"))


class SafeguardAnalyzer:
    """Reports safeguards the change took away or weakened; needs the base-side text. Bound to the whole
    change (`bind_change`), it also stays quiet when what an eager load protected is gone at head."""

    name = "safeguards"
    needs_change_context = True

    def __init__(self, context: ChangeContext | None = None) -> None:
        self._context = context or ChangeContext()
        self._gains = Gains(self._context.files, read_side)  # what the change's other files gained

    def bind_change(self, context: ChangeContext) -> SafeguardAnalyzer:
        """A copy that sees the whole change (the head's model graph, base reads, the changed files)."""
        return SafeguardAnalyzer(context)

    def supports(self, path: str, text: str) -> bool:
        return path.endswith((".py", ".pyi")) or language_of(path) is not None

    def rule_ids(self) -> list[str]:
        return rule_ids()

    @property
    def rules(self) -> list[SafeguardRule]:
        return rules()

    def analyze(self, file: FileInput) -> list[Finding]:
        base_text, text = file.base_text, file.text
        if (
            base_text is None
            or is_test_path(file.path)
            or _vendored(file.path)
            or not file.change.hunks
            or max(len(base_text), len(text)) > MAX_FILE_CHARS
        ):
            return []
        if not file.change.removal_points and not any(h.removed for h in file.change.hunks):
            return []
        started = time.monotonic()
        base = read_side(file.path, base_text)
        if not base.parsed or not base.safeguards and not base.calls:
            return []
        head = read_side(file.path, text)
        if not head.parsed or time.monotonic() - started > TIME_BUDGET_SECONDS:
            return []
        lines = line_map(file.change)
        base_lines, head_lines = base_text.splitlines(), text.splitlines()
        losses = safeguard_losses(base, head, lines, base_lines, head_lines)
        losses += hoisting_losses(base, head, file.change, lines, base_lines)
        losses = [loss for loss in losses if not self._protected_gone(loss)]
        losses = [loss for loss in losses if not self._gains.moved_to(loss, file.path, losses)]
        findings: list[Finding] = []
        taken: set[tuple[int, str]] = set()
        for loss in losses:
            placed = place(loss, file.change, lines, head.statements, base_lines, head_lines)
            if placed is None or not file.change.touches(placed.start_line, placed.end_line):
                continue  # a removal at the very start or end of the file has no line around it to hold a comment
            if (placed.start_line, loss.safeguard.kind.value) in taken:
                continue  # one finding per kind and place: `find_each(batch_size: 100)` is one batching loss
            taken.add((placed.start_line, loss.safeguard.kind.value))
            findings.append(to_finding(placed, file.path, head, text))
        return findings

    def _protected_gone(self, loss: Loss) -> bool:
        """What the lost safeguard protected no longer exists at head, or is no longer read in the change."""
        s = loss.safeguard
        return reads_dropped_in_change(s, self._context) or association_gone(s, self._context)
