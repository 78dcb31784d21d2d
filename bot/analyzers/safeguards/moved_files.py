"""Safeguards the change adds in its other files: a removal here may be a move there (pure, bounded).

A change that deletes `LIMIT 1000` from one query file and writes the same limit into a new file that now
builds that query moved the protection; it did not take it away. `Gains` counts, per (kind, key, literal
value), how many more safeguards each other changed file has at head than at base, read once per change and
only when a removal asks. The value must match: a literal 2-second deadline replaced by a configurable ping
timeout somewhere else is not the same protection on the same path.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from bot.analyzers.change_context import ChangedText
from bot.analyzers.safeguards.model import Kind, Loss, Side

MAX_FILES = 40  # other changed files read for gains, per change
MAX_FILE_CHARS = 400_000  # larger files are not read for gains


class Gains:
    """(kind, key, value) -> safeguards added across the change's other files, computed on first use."""

    def __init__(self, files: tuple[ChangedText, ...], read: Callable[[str, str], Side]) -> None:
        self._files, self._read = files, read
        self._gained: dict[str, Counter[tuple[Kind, str, float | None]]] | None = None

    def _by_file(self) -> dict[str, Counter[tuple[Kind, str, float | None]]]:
        if self._gained is None:
            self._gained = {}
            for changed in self._files[:MAX_FILES]:
                if len(changed.head) > MAX_FILE_CHARS or len(changed.base or "") > MAX_FILE_CHARS:
                    continue
                head = self._read(changed.path, changed.head)
                base = self._read(changed.path, changed.base) if changed.base else Side(parsed=True)
                if not head.parsed or not base.parsed:
                    continue
                gained = Counter((s.kind, s.key, s.value) for s in head.safeguards)
                gained.subtract(Counter((s.kind, s.key, s.value) for s in base.safeguards))
                self._gained[changed.path] = +gained
        return self._gained

    def moved_to(self, loss: Loss, path: str, losses: list[Loss]) -> str | None:
        """The other changed file that gained as many of `loss`'s (kind, key, value) as this file lost, or None."""
        key = (loss.safeguard.kind, loss.safeguard.key, loss.safeguard.value)
        lost = sum(1 for x in losses if (x.safeguard.kind, x.safeguard.key, x.safeguard.value) == key)
        for other, gained in self._by_file().items():
            if other != path and gained[key] >= lost:
                return other
        return None
