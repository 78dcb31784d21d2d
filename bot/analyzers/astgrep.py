"""The ast-grep analyzer: runs the YAML rule pack over one file's head text, reports what the diff touches.

Each file is parsed once; every rule of its language runs on that tree. The whole file gives the
context (the loop around a query, the `async def` around a blocking call), but a match is reported
only when its lines touch lines the change added.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import PurePosixPath
from typing import cast

from ast_grep_py import Config, SgNode, SgRoot

from bot.analyzers.base import FileInput
from bot.analyzers.rule_fix import add_argument, expand_template, suggestion_lines
from bot.analyzers.rule_pack import AstGrepRule, builtin_rules
from bot.analyzers.test_paths import is_test_path
from bot.core.code_span import code_text
from bot.core.model import Finding, fingerprint

ANALYZER_NAME = "ast-grep"
LANGUAGE_BY_SUFFIX = {
    ".py": "python",
    ".js": "javascript",
    ".jsx": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".ts": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".tsx": "tsx",
    ".go": "go",
    ".rb": "ruby",
}
MAX_TEXT_CHARS = 2_000_000  # larger files (generated, vendored, minified) are not parsed
MAX_SUGGESTIONS_PER_FILE = 40
# each suggestion re-parses the whole file to check it: their number is bounded by the file's size too
MAX_SUGGESTION_PARSE_CHARS = 1_000_000
MAX_FINDINGS_PER_RULE = 200  # per rule and file: a generated file must not flood the review
MAX_REPORTED_SPAN = 12  # a longer match is reported on its first lines, without a suggestion
MAX_EVIDENCE_VAR_CHARS = 80
WHOLE_MATCH = "MATCH"  # `$MATCH` in an evidence template: the whole matched code
_EVIDENCE_VAR = re.compile(r"\$([A-Z_][A-Z0-9_]*)")


def language_for(path: str) -> str | None:
    """The ast-grep language of a path, from its suffix; None when no rules apply."""
    name = PurePosixPath(path).name
    if name.endswith((".min.js", ".d.ts")):
        return None
    return LANGUAGE_BY_SUFFIX.get(PurePosixPath(path).suffix.lower())


def kind_of(rule_id: str, occurrence: int) -> str:
    """The fingerprint kind of a rule's n-th match of the same code in a file (0: the rule id itself)."""
    return rule_id if occurrence == 0 else f"{rule_id}#{occurrence}"


def _short(text: str) -> str:
    """Matched code for inside an evidence template's code span: one line, no backticks, clipped."""
    return code_text(text, MAX_EVIDENCE_VAR_CHARS)


def render_evidence(template: str, node: SgNode) -> str:
    """The evidence template with `$NAME` replaced by the (shortened) matched text."""

    def repl(m: re.Match[str]) -> str:
        bound = node if m.group(1) == WHOLE_MATCH else node.get_match(m.group(1))
        return _short(bound.text()) if bound is not None else m.group(0)

    return _EVIDENCE_VAR.sub(repl, template)


def _reported_node(rule: AstGrepRule, node: SgNode) -> SgNode:
    if rule.report:
        bound = node.get_match(rule.report.lstrip("$"))
        if bound is not None:
            return bound
    return node


def _edit(rule: AstGrepRule, node: SgNode, text: str) -> tuple[int, int, str] | None:
    if rule.add_argument:
        return add_argument(node, text, rule.add_argument)
    if rule.fix is not None:
        new = expand_template(rule.fix, node, text)
        if new is None:
            return None
        r = node.range()
        return r.start.index, r.end.index, new
    return None


class AstGrepAnalyzer:
    """Analyzer protocol implementation over a set of AstGrepRule objects."""

    name = ANALYZER_NAME
    max_text_chars = MAX_TEXT_CHARS  # the engine reports a longer file as not reviewed

    def __init__(self, rules: Sequence[AstGrepRule]) -> None:
        self.rules: list[AstGrepRule] = list(rules)
        self._by_language: dict[str, list[AstGrepRule]] = {}
        for rule in self.rules:
            for lang in rule.languages:
                self._by_language.setdefault(lang, []).append(rule)

    @classmethod
    def load_builtin(cls) -> AstGrepAnalyzer:
        """The analyzer with the shipped rule pack (YAML parsed once per process)."""
        return cls(builtin_rules())

    def rule_ids(self) -> list[str]:
        return [r.id for r in self.rules]

    def narrowed(self, rule_ids: frozenset[str]) -> AstGrepAnalyzer:
        """This analyzer with only the rules named (the engine's base-side runs need only the rules that
        fired at head): a differential review costs what the findings need, not three runs of the pack."""
        return type(self)([r for r in self.rules if r.id in rule_ids])

    def supports(self, path: str, text: str) -> bool:
        lang = language_for(path)
        return lang is not None and lang in self._by_language

    def skip_reason(self, path: str) -> str | None:
        """Why this analyzer will not look at a file it supports, by policy (coverage says so; None: it will).
        Size is the engine's business (`max_text_chars`)."""
        if is_test_path(path):
            return "test file: the rule pack does not apply"
        rules = self._by_language.get(language_for(path) or "", [])
        if not any(r.applies_to(path) for r in rules):
            return "no rule applies to this path"
        return None

    def analyze(self, file: FileInput) -> list[Finding]:
        return [finding for _, found in self.rule_runs(file) for finding in found]

    def analyze_split(self, file: FileInput) -> tuple[list[Finding], list[Finding]]:
        """(what `analyze` reports, the matches of the same rules that do not touch the change): the second list is
        what a whole-file run of the rules that fired would add (`narrowed(...)` on every line, capped per rule the
        same way), from the one parse and rule run, so the engine's differential step need not run them again."""
        untouched: list[Finding] = []
        touched = [finding for _, found in self.rule_runs(file, untouched=untouched) for finding in found]
        return touched, untouched

    def candidates(self, file: FileInput, memo: dict[str, bool] | None = None) -> list[AstGrepRule]:
        """The rules that may match this file (none for a test file, an unchanged or an over-long one). `memo`:
        the results of the rules' text tests on this file, kept for trimming their configs."""
        lang = language_for(file.path)
        rules = self._by_language.get(lang or "", [])
        if not rules or not file.change.changed or len(file.text) > MAX_TEXT_CHARS or is_test_path(file.path):
            return []
        memo = {} if memo is None else memo
        return [r for r in rules if r.applies_to(file.path) and r.may_match(file.text, memo)]

    def rule_runs(
        self,
        file: FileInput,
        skip: frozenset[str] = frozenset(),
        before: Callable[[str], None] | None = None,
        untouched: list[Finding] | None = None,
    ) -> Iterator[tuple[str, list[Finding]]]:
        """(rule id, its findings) for each candidate rule not in `skip`, in order; `before(rule id)` is told
        each rule just before it runs (the repository rules' sandbox times each one). Given `untouched`, each rule
        with findings also appends there its matches that do not touch the change (see `analyze_split`)."""
        memo: dict[str, bool] = {}
        candidates = [r for r in self.candidates(file, memo) if r.id not in skip]
        if not candidates:
            return
        lang = language_for(file.path) or ""
        root = SgRoot(file.text, lang).root()
        suggestions_left = [min(MAX_SUGGESTIONS_PER_FILE, MAX_SUGGESTION_PARSE_CHARS // max(1, len(file.text)))]
        for rule in candidates:
            file.deadline.check()
            if before is not None:
                before(rule.id)
            yield rule.id, self._run_rule(rule, root, file, lang, suggestions_left, untouched, memo)

    def _run_rule(
        self,
        rule: AstGrepRule,
        root: SgNode,
        file: FileInput,
        lang: str,
        suggestions_left: list[int],
        untouched: list[Finding] | None = None,
        memo: dict[str, bool] | None = None,
    ) -> list[Finding]:
        seen: Counter[str] = Counter()
        out: list[Finding] = []
        # matches that miss the change, among the first MAX_FINDINGS_PER_RULE (a whole-file run's cap): kept only
        # when `untouched` asks for them and the rule fired, then reported without a suggestion
        missed: list[tuple[SgNode, str, str, int, int]] = []
        config = cast(Config, rule.config_for(file.text, memo))
        for index, node in enumerate(root.find_all(config)):
            file.deadline.check()
            if len(out) >= MAX_FINDINGS_PER_RULE:  # implies index >= the cap: nothing left to keep in `missed`
                break
            where = _reported_node(rule, node)
            code = " ".join(where.text().split())
            occurrence = seen[code]
            seen[code] += 1
            start = where.range().start.line + 1
            end = where.range().end.line + 1
            clipped = end - start + 1 > MAX_REPORTED_SPAN
            if clipped:
                end = start + MAX_REPORTED_SPAN - 1
            if not file.change.touches(start, end):
                if untouched is not None and index < MAX_FINDINGS_PER_RULE:
                    missed.append((node, code, kind_of(rule.id, occurrence), start, end))
                continue
            suggestion = None
            if not clipped and suggestions_left[0] > 0:
                suggestion = self._suggestion(rule, node, file.text, lang, start, end)
                suggestions_left[0] -= suggestion is not None
            out.append(self._finding(rule, node, file.path, code, kind_of(rule.id, occurrence), start, end, suggestion))
        if untouched is not None and out:
            untouched.extend(self._finding(rule, n, file.path, c, k, s, e, None) for n, c, k, s, e in missed)
        return out

    @staticmethod
    def _suggestion(rule: AstGrepRule, node: SgNode, text: str, lang: str, start: int, end: int) -> str | None:
        edit = _edit(rule, node, text)
        if edit is None:
            return None
        return suggestion_lines(text, lang, edit, start, end)

    @staticmethod
    def _finding(
        rule: AstGrepRule, node: SgNode, path: str, code: str, kind: str, start: int, end: int, suggestion: str | None
    ) -> Finding:
        return Finding(
            id=fingerprint(kind, path, code),
            category=rule.category,
            severity=rule.severity,
            path=path,
            start_line=start,
            end_line=end,
            title=rule.title,
            evidence=render_evidence(rule.evidence, node),
            risk=rule.risk,
            suggestion=suggestion,
            advice=rule.advice,
            rollback=rule.rollback,
            monitoring=rule.monitoring,
            confidence=rule.confidence,
            source=rule.id,
        )
