"""The analyzer interface: one changed file (its diff and head text) in, findings out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.core.diff import FileChange
from bot.core.model import Finding


@dataclass(frozen=True)
class FileInput:
    """What an analyzer sees: the file's change and its whole head-side text."""

    change: FileChange
    text: str

    @property
    def path(self) -> str:
        return self.change.path


class Analyzer(Protocol):
    """A static analyzer. `analyze` must report only findings that touch lines the change added."""

    name: str

    def supports(self, path: str, text: str) -> bool: ...

    def analyze(self, file: FileInput) -> list[Finding]: ...

    def rule_ids(self) -> list[str]: ...
