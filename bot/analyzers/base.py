"""The analyzer interface: one changed file (its diff, head text and, where there is one, base text) in,
findings out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.core.deadline import NEVER, Deadline
from bot.core.diff import FileChange
from bot.core.model import Finding


@dataclass(frozen=True)
class FileInput:
    """What an analyzer sees: the file's change, its whole head-side text and its base-side text
    (None for an added file, or when the caller reviews the head alone). Loops over the text call
    `deadline.check()`: the engine gives each analyzer run a wall-clock budget."""

    change: FileChange
    text: str
    base_text: str | None = None
    deadline: Deadline = NEVER

    @property
    def path(self) -> str:
        return self.change.path


class NotAnalysed(Exception):  # noqa: N818 - it reads as what happened to the file
    """An analyzer could not read the whole file (a parse error, a document over its cap). The engine reports the
    file "not analysed: <why>" and the review incomplete, never reviewed; `findings` are what it found in the
    part it could read (kept, e.g. the good documents before a malformed one)."""

    def __init__(self, why: str, findings: list[Finding] | None = None) -> None:
        super().__init__(why)
        self.findings = list(findings or [])


class Analyzer(Protocol):
    """A static analyzer. `analyze` must report only findings that touch changed lines or a line next to a
    deletion (`FileChange.touches`); the engine keeps those GitHub can show and, given the base text,
    decides whether each is introduced or pre-existing by running the analyzer on the base side too
    (with a change that shows every base line). Optional `skip_reason(path) -> str | None`: why a
    supported file will not be looked at by policy, so coverage never calls it reviewed; optional
    `max_text_chars`: a longer file is reported not reviewed and makes the review incomplete; optional
    `narrowed(rule_ids) -> Analyzer`: the same analyzer running only those rules, which the engine uses for
    the base-side runs (only the rules that fired at head need a twin at base); optional
    `analyze_split(file) -> (findings, untouched)`: `analyze`'s findings and, from the same run, the matches of the
    rules that fired which miss the change (what a whole-file run of those rules adds), so the engine does not run
    them over the head file a second time. `analyze` raises
    `NotAnalysed` when it could not read the file, never returns [] as if it had."""

    name: str

    def supports(self, path: str, text: str) -> bool: ...

    def analyze(self, file: FileInput) -> list[Finding]: ...

    def rule_ids(self) -> list[str]: ...
